package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

type runRecord struct {
	run pipeline.Run // with its plan, kept in GetRun's order
	seq uint64
}

type runKey struct{ repository, commit string }

// CreateRun implements ports.RunStore.
func (v view) CreateRun(_ context.Context, r *pipeline.Run) (got *pipeline.Run, created bool, err error) {
	err = v.do(func(st *state) error {
		got, created, err = st.createRun(r)
		return err
	})
	return got, created, err
}

// GetRun implements ports.RunStore.
func (v view) GetRun(_ context.Context, id string) (got *pipeline.Run, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.runs[id]
		if !ok {
			return notFound("pipeline run", id)
		}
		got = cloneRun(&rec.run)
		return nil
	})
	return got, err
}

// RunStatus implements ports.RunStore.
func (v view) RunStatus(_ context.Context, id string) (status pipeline.Status, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.runs[id]
		if !ok {
			return notFound("pipeline run", id)
		}
		status = rec.run.Status
		return nil
	})
	return status, err
}

// ListRuns implements ports.RunStore.
func (v view) ListRuns(_ context.Context, f ports.RunFilter, p ports.Page) (out []pipeline.Run, total int, err error) {
	err = v.do(func(st *state) error {
		var matches []*runRecord
		for _, rec := range st.runs {
			r := &rec.run
			if (f.Repository == "" || r.Repository == f.Repository) &&
				(f.Branch == "" || r.Branch == f.Branch) &&
				(f.CommitSHA == "" || r.CommitSHA == f.CommitSHA) &&
				(f.Status == "" || r.Status == f.Status) {
				matches = append(matches, rec)
			}
		}
		byTime(matches, func(r *runRecord) (time.Time, uint64) { return r.run.CreatedAt, r.seq }, true)
		total = len(matches)
		out = []pipeline.Run{}
		for _, rec := range paginate(matches, p) {
			r := cloneRun(&rec.run)
			r.Phases = nil
			out = append(out, *r)
		}
		return nil
	})
	return out, total, err
}

// CountActiveRuns implements ports.RunStore.
func (v view) CountActiveRuns(_ context.Context, repository string) (n int, err error) {
	err = v.do(func(st *state) error {
		for _, rec := range st.runs {
			if rec.run.Repository == repository &&
				(rec.run.Status == pipeline.StatusPending || rec.run.Status == pipeline.StatusRunning) {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ExpiredRuns implements ports.RunStore.
func (v view) ExpiredRuns(_ context.Context, before time.Time, limit int) (ids []string, err error) {
	limit = ports.Page{Limit: limit}.Normalize().Limit
	err = v.do(func(st *state) error {
		var recs []*runRecord
		for _, rec := range st.runs {
			if rec.run.CreatedAt.Before(before) && st.deletable(&rec.run) {
				recs = append(recs, rec)
			}
		}
		byTime(recs, func(r *runRecord) (time.Time, uint64) { return r.run.CreatedAt, r.seq }, false)
		for i := 0; i < len(recs) && i < limit; i++ {
			ids = append(ids, recs[i].run.ID)
		}
		return nil
	})
	return ids, err
}

// DeleteRuns implements ports.RunStore.
func (v view) DeleteRuns(_ context.Context, ids []string) (n int, err error) {
	err = v.do(func(st *state) error {
		for _, id := range ids {
			rec, ok := st.runs[id]
			if !ok || !st.deletable(&rec.run) {
				continue
			}
			for _, ph := range rec.run.Phases {
				delete(st.phaseRuns, ph.ID)
				for _, t := range ph.Tasks {
					delete(st.taskRuns, t.ID)
					for _, s := range t.Steps {
						delete(st.stepRuns, s.ID)
					}
				}
			}
			delete(st.runKeys, runKey{rec.run.Repository, rec.run.CommitSHA})
			delete(st.runs, id)
			n++
		}
		return nil
	})
	return n, err
}

// deletable reports whether retention may delete r: it has ended and no
// release names it.
func (st *state) deletable(r *pipeline.Run) bool {
	if !r.Status.Terminal() {
		return false
	}
	for _, rec := range st.releases {
		if rec.rel.PipelineRunID != nil && *rec.rel.PipelineRunID == r.ID {
			return false
		}
	}
	return true
}

// UpdateRun implements ports.RunStore.
func (v view) UpdateRun(_ context.Context, id string, fn func(*pipeline.Run) error) (got *pipeline.Run, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.runs[id]
		if !ok {
			return notFound("pipeline run", id)
		}
		cur := cloneRun(&rec.run)
		if err := fn(cur); err != nil {
			return err
		}
		if err := transition(pipeline.KindRun, id, rec.run.Status, cur.Status); err != nil {
			return err
		}
		saved := cloneRun(cur)
		r := &rec.run
		r.Status = saved.Status
		r.CompletedAt = saved.CompletedAt
		r.Reason = saved.Reason
		r.ArgoWorkflowName = saved.ArgoWorkflowName
		r.DiscoveryOutput = saved.DiscoveryOutput
		got = cloneRun(r)
		return nil
	})
	return got, err
}

// ReopenRun implements ports.RunStore.
func (v view) ReopenRun(_ context.Context, id string, at time.Time, check func(*pipeline.Run) error) (got *pipeline.Run, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.runs[id]
		if !ok {
			return notFound("pipeline run", id)
		}
		if err := check(cloneRun(&rec.run)); err != nil {
			return err
		}
		if rec.run.Status != pipeline.StatusFailed {
			return fault.New(fault.Conflict, "run %s is %s; only a failed run can be retried", id, rec.run.Status)
		}
		r := &rec.run
		r.Status, r.CompletedAt, r.Reason, r.StartedAt = pipeline.StatusRunning, nil, "", at.UTC()
		got = cloneRun(r)
		return nil
	})
	return got, err
}

// AddPhases implements ports.RunStore.
func (v view) AddPhases(_ context.Context, runID string, phases []pipeline.Phase) (got []pipeline.Phase, err error) {
	err = v.do(func(st *state) error {
		got, err = st.addPhases(runID, phases)
		return err
	})
	return got, err
}

// GetTask implements ports.RunStore.
func (v view) GetTask(_ context.Context, id string) (got *pipeline.Task, err error) {
	err = v.do(func(st *state) error {
		t, err := st.task(id)
		if err != nil {
			return err
		}
		c := cloneTask(*t)
		got = &c
		return nil
	})
	return got, err
}

// GetStep implements ports.RunStore.
func (v view) GetStep(_ context.Context, id string) (got *pipeline.Step, err error) {
	err = v.do(func(st *state) error {
		s, err := st.step(id)
		if err != nil {
			return err
		}
		c := cloneStep(*s)
		got = &c
		return nil
	})
	return got, err
}

// UpdatePhase implements ports.RunStore.
func (v view) UpdatePhase(_ context.Context, id string, fn func(*pipeline.Phase) error) (got *pipeline.Phase, err error) {
	err = v.do(func(st *state) error {
		p, err := st.phase(id)
		if err != nil {
			return err
		}
		cur := clonePhase(*p)
		if err := fn(&cur); err != nil {
			return err
		}
		if err := transition(pipeline.KindPhase, id, p.Status, cur.Status); err != nil {
			return err
		}
		p.Status = cur.Status
		p.StartedAt = cloneTime(cur.StartedAt)
		p.CompletedAt = cloneTime(cur.CompletedAt)
		c := clonePhase(*p)
		got = &c
		return nil
	})
	return got, err
}

// UpdateTask implements ports.RunStore.
func (v view) UpdateTask(_ context.Context, id string, fn func(*pipeline.Task) error) (got *pipeline.Task, err error) {
	err = v.do(func(st *state) error {
		t, err := st.task(id)
		if err != nil {
			return err
		}
		cur := cloneTask(*t)
		if err := fn(&cur); err != nil {
			return err
		}
		if err := transition(pipeline.KindTask, id, t.Status, cur.Status); err != nil {
			return err
		}
		t.Status = cur.Status
		t.StartedAt = cloneTime(cur.StartedAt)
		t.CompletedAt = cloneTime(cur.CompletedAt)
		t.Error = cur.Error
		c := cloneTask(*t)
		got = &c
		return nil
	})
	return got, err
}

// UpdateStep implements ports.RunStore.
func (v view) UpdateStep(_ context.Context, id string, fn func(*pipeline.Step) error) (got *pipeline.Step, err error) {
	err = v.do(func(st *state) error {
		s, err := st.step(id)
		if err != nil {
			return err
		}
		cur := cloneStep(*s)
		if err := fn(&cur); err != nil {
			return err
		}
		if err := transition(pipeline.KindStep, id, s.Status, cur.Status); err != nil {
			return err
		}
		s.Status = cur.Status
		s.StartedAt = cloneTime(cur.StartedAt)
		s.CompletedAt = cloneTime(cur.CompletedAt)
		s.ExitCode = clonePtr(cur.ExitCode)
		s.LogsKey = cur.LogsKey
		c := cloneStep(*s)
		got = &c
		return nil
	})
	return got, err
}

// PlaceOfTask implements ports.RunStore.
func (v view) PlaceOfTask(_ context.Context, taskID string) (got *pipeline.Place, err error) {
	err = v.do(func(st *state) error {
		got = st.place(st.taskRuns[taskID], taskID, "")
		if got == nil {
			return notFound("task", taskID)
		}
		return nil
	})
	return got, err
}

// PlaceOfStep implements ports.RunStore.
func (v view) PlaceOfStep(_ context.Context, stepID string) (got *pipeline.Place, err error) {
	err = v.do(func(st *state) error {
		got = st.place(st.stepRuns[stepID], "", stepID)
		if got == nil {
			return notFound("step", stepID)
		}
		return nil
	})
	return got, err
}

// place finds task taskID, or the step stepID, in run runID; nil when it
// is not there.
func (st *state) place(runID, taskID, stepID string) *pipeline.Place {
	rec, ok := st.runs[runID]
	if !ok {
		return nil
	}
	for _, ph := range rec.run.Phases {
		for _, t := range ph.Tasks {
			p := &pipeline.Place{RunID: runID, RunStatus: rec.run.Status, PhaseName: ph.Name, PhaseStatus: ph.Status,
				TaskID: t.ID, TaskProject: t.ProjectName, TaskStatus: t.Status}
			if taskID != "" && t.ID == taskID {
				return p
			}
			for _, s := range t.Steps {
				if stepID != "" && s.ID == stepID {
					p.StepID, p.StepName, p.StepStatus = s.ID, s.Name, s.Status
					return p
				}
			}
		}
	}
	return nil
}

// transition checks a status change with pipeline.Transition and says
// which entity it was about.
func transition(k pipeline.Kind, id string, from, to pipeline.Status) error {
	if err := pipeline.Transition(k, from, to); err != nil {
		return &fault.Error{Kind: fault.KindOf(err), Message: string(k) + " " + id, Err: err}
	}
	return nil
}

func (st *state) createRun(r *pipeline.Run) (*pipeline.Run, bool, error) {
	if r == nil || r.Repository == "" || r.CommitSHA == "" {
		return nil, false, fault.New(fault.Validation, "a run needs a repository and a commit")
	}
	if !pipeline.KindRun.Valid(r.Status) {
		return nil, false, &fault.Error{Kind: fault.Validation, Message: "\"" + string(r.Status) + "\" is not a run status",
			Details: map[string]any{"field": "status"}}
	}
	key := runKey{r.Repository, r.CommitSHA}
	if id, ok := st.runKeys[key]; ok {
		return cloneRun(&st.runs[id].run), false, nil
	}
	in := cloneRun(r)
	in.Phases = nil
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if _, taken := st.runs[in.ID]; taken {
		return nil, false, fault.New(fault.Conflict, "pipeline run ID %q is taken", in.ID)
	}
	st.runs[in.ID] = &runRecord{run: *in, seq: st.next()}
	st.runKeys[key] = in.ID
	return cloneRun(in), true, nil
}

func (st *state) addPhases(runID string, phases []pipeline.Phase) ([]pipeline.Phase, error) {
	rec, ok := st.runs[runID]
	if !ok {
		return nil, notFound("pipeline run", runID)
	}
	if len(rec.run.Phases) > 0 {
		return clonePhases(rec.run.Phases), nil
	}

	plan := clonePhases(phases)
	ids := map[string]bool{}
	claim := func(id *string, what string) error {
		if *id == "" {
			*id = uuid.NewString()
		}
		_, p := st.phaseRuns[*id]
		_, t := st.taskRuns[*id]
		_, s := st.stepRuns[*id]
		if p || t || s || ids[*id] {
			return fault.New(fault.Conflict, "%s ID %q is taken", what, *id)
		}
		ids[*id] = true
		return nil
	}
	phaseNames := map[string]bool{}
	for i := range plan {
		p := &plan[i]
		if err := checkStatus(pipeline.KindPhase, p.Status); err != nil {
			return nil, err
		}
		if phaseNames[p.Name] {
			return nil, fault.New(fault.Conflict, "phase %q appears twice in the plan", p.Name)
		}
		phaseNames[p.Name] = true
		if err := claim(&p.ID, "phase"); err != nil {
			return nil, err
		}
		p.RunID = runID
		projects := map[string]bool{}
		for j := range p.Tasks {
			t := &p.Tasks[j]
			if err := checkStatus(pipeline.KindTask, t.Status); err != nil {
				return nil, err
			}
			if projects[t.ProjectName] {
				return nil, fault.New(fault.Conflict, "project %q has two tasks in phase %q", t.ProjectName, p.Name)
			}
			projects[t.ProjectName] = true
			if err := claim(&t.ID, "task"); err != nil {
				return nil, err
			}
			t.PhaseID = p.ID
			steps := map[string]bool{}
			for k := range t.Steps {
				s := &t.Steps[k]
				if err := checkStatus(pipeline.KindStep, s.Status); err != nil {
					return nil, err
				}
				if steps[s.Name] {
					return nil, fault.New(fault.Conflict, "step %q appears twice in task %q of phase %q", s.Name, t.ProjectName, p.Name)
				}
				steps[s.Name] = true
				if err := claim(&s.ID, "step"); err != nil {
					return nil, err
				}
				s.TaskID = t.ID
			}
		}
		sort.SliceStable(p.Tasks, func(a, b int) bool { return p.Tasks[a].ProjectName < p.Tasks[b].ProjectName })
	}
	sort.SliceStable(plan, func(a, b int) bool {
		if plan[a].GroupNumber != plan[b].GroupNumber {
			return plan[a].GroupNumber < plan[b].GroupNumber
		}
		return plan[a].Name < plan[b].Name
	})

	rec.run.Phases = plan
	for _, p := range plan {
		st.phaseRuns[p.ID] = runID
		for _, t := range p.Tasks {
			st.taskRuns[t.ID] = runID
			for _, s := range t.Steps {
				st.stepRuns[s.ID] = runID
			}
		}
	}
	return clonePhases(plan), nil
}

func checkStatus(k pipeline.Kind, s pipeline.Status) error {
	if !k.Valid(s) {
		return &fault.Error{Kind: fault.Validation, Message: "\"" + string(s) + "\" is not a " + string(k) + " status",
			Details: map[string]any{"field": "status"}}
	}
	return nil
}

// phase, task and step return the stored entity, for the caller to change.
func (st *state) phase(id string) (*pipeline.Phase, error) {
	if run, ok := st.runs[st.phaseRuns[id]]; ok {
		for i := range run.run.Phases {
			if p := &run.run.Phases[i]; p.ID == id {
				return p, nil
			}
		}
	}
	return nil, notFound("phase", id)
}

func (st *state) task(id string) (*pipeline.Task, error) {
	if run, ok := st.runs[st.taskRuns[id]]; ok {
		for i := range run.run.Phases {
			for j := range run.run.Phases[i].Tasks {
				if t := &run.run.Phases[i].Tasks[j]; t.ID == id {
					return t, nil
				}
			}
		}
	}
	return nil, notFound("task", id)
}

func (st *state) step(id string) (*pipeline.Step, error) {
	if run, ok := st.runs[st.stepRuns[id]]; ok {
		for i := range run.run.Phases {
			for j := range run.run.Phases[i].Tasks {
				for k := range run.run.Phases[i].Tasks[j].Steps {
					if s := &run.run.Phases[i].Tasks[j].Steps[k]; s.ID == id {
						return s, nil
					}
				}
			}
		}
	}
	return nil, notFound("step", id)
}
