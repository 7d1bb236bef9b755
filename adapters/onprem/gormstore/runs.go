package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"gorm.io/gorm"
)

// statusOf returns s, or pending when s is empty, checked against the
// statuses entities of kind k can have.
func statusOf(k pipeline.Kind, s pipeline.Status) (pipeline.Status, error) {
	if s == "" {
		return pipeline.StatusPending, nil
	}
	if !k.Valid(s) {
		return "", &fault.Error{Kind: fault.Validation, Message: strconv.Quote(string(s)) + " is not a " + string(k) + " status",
			Details: map[string]any{"field": "status"}}
	}
	return s, nil
}

func checkJSON(m json.RawMessage) error {
	if len(m) > 0 && !json.Valid(m) {
		return &fault.Error{Kind: fault.Validation, Message: "discovery_output is not valid JSON",
			Details: map[string]any{"field": "discovery_output"}}
	}
	return nil
}

// CreateRun saves r, idempotently on (repository, commit); see
// ports.RunStore.
func (s *Store) CreateRun(ctx context.Context, r *pipeline.Run) (*pipeline.Run, bool, error) {
	if r == nil {
		return nil, false, fault.New(fault.Validation, "no run given")
	}
	for _, f := range [][2]string{{"repository", r.Repository}, {"commit_sha", r.CommitSHA}} {
		if f[1] == "" {
			return nil, false, &fault.Error{Kind: fault.Validation, Message: f[0] + " must not be empty",
				Details: map[string]any{"field": f[0]}}
		}
	}
	if r.TriggerType != "" && !r.TriggerType.Valid() {
		return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger_type"},
			Message: "trigger_type must be push, pull_request or manual, got " + strconv.Quote(string(r.TriggerType))}
	}
	if err := checkJSON(r.DiscoveryOutput); err != nil {
		return nil, false, err
	}
	row := runToRow(r)
	var err error
	if row.ID, err = newID(r.ID, "id"); err != nil {
		return nil, false, err
	}
	st, err := statusOf(pipeline.KindRun, r.Status)
	if err != nil {
		return nil, false, err
	}
	row.Status = string(st)
	row.CreatedAt = s.orNow(r.CreatedAt)
	what := "creating the run of " + r.Repository + "@" + r.CommitSHA
	err = s.write(ctx, what, func(tx *gorm.DB) error {
		return dbErr(tx.Create(&row).Error, what)
	})
	if err == nil {
		got := row.domain()
		got.Phases = []pipeline.Phase{}
		return &got, true, nil
	}
	if !fault.Is(err, fault.Conflict) {
		return nil, false, err
	}
	var existing runRow
	if gerr := s.read(ctx).Where("repository = ? AND commit_sha = ?", r.Repository, r.CommitSHA).Take(&existing).Error; gerr != nil {
		return nil, false, err // the conflict was on something else (the ID)
	}
	got, err := s.GetRun(ctx, existing.ID)
	if err != nil {
		return nil, false, err
	}
	return got, false, nil
}

// GetRun returns a run with its phases, tasks and steps.
func (s *Store) GetRun(ctx context.Context, id string) (*pipeline.Run, error) {
	return s.loadRun(s.read(ctx), id, false)
}

// RunStatus reads the status column of one run, by its primary key.
func (s *Store) RunStatus(ctx context.Context, id string) (pipeline.Status, error) {
	key, ok := lookupID(id)
	if !ok {
		return "", fault.New(fault.NotFound, "run %q not found", id)
	}
	var statuses []string
	if err := s.read(ctx).Raw(`SELECT status FROM pipeline_runs WHERE id = ?`, key).Scan(&statuses).Error; err != nil {
		return "", dbErr(err, "reading the status of run "+id)
	}
	if len(statuses) == 0 {
		return "", fault.New(fault.NotFound, "run %s not found", id)
	}
	return pipeline.Status(statuses[0]), nil
}

// loadRun reads a run and its plan through db, locking the run's row when
// lock is set.
func (s *Store) loadRun(db *gorm.DB, id string, lock bool) (*pipeline.Run, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "run %q not found", id)
	}
	q := db
	if lock {
		q = s.forUpdate(db)
	}
	var row runRow
	if err := q.Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "run %s not found", id)
	} else if err != nil {
		return nil, dbErr(err, "reading run "+id)
	}
	run := row.domain()
	phases, err := loadPhases(db, "pipeline_run_id = ?", key)
	if err != nil {
		return nil, err
	}
	run.Phases = phases
	return &run, nil
}

// loadPhases reads the phases matching where, by group then name, with
// their tasks and steps.
func loadPhases(db *gorm.DB, where string, args ...any) ([]pipeline.Phase, error) {
	var rows []phaseRow
	if err := db.Where(where, args...).Order("group_number, phase_name").Find(&rows).Error; err != nil {
		return nil, dbErr(err, "reading phases")
	}
	phases := make([]pipeline.Phase, len(rows))
	ids := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		phases[i] = r.domain()
		ids[i] = r.ID
		index[r.ID] = i
	}
	if len(ids) == 0 {
		return phases, nil
	}
	tasks, err := loadTasks(db, "phase_execution_id IN ?", ids)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		i := index[t.PhaseID]
		phases[i].Tasks = append(phases[i].Tasks, t)
	}
	return phases, nil
}

// loadTasks reads the tasks matching where, by project name, with their
// steps in the order they were added.
func loadTasks(db *gorm.DB, where string, args ...any) ([]pipeline.Task, error) {
	var rows []taskRow
	if err := db.Where(where, args...).Order("project_name, id").Find(&rows).Error; err != nil {
		return nil, dbErr(err, "reading tasks")
	}
	tasks := make([]pipeline.Task, len(rows))
	ids := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		tasks[i] = r.domain()
		ids[i] = r.ID
		index[r.ID] = i
	}
	if len(ids) == 0 {
		return tasks, nil
	}
	var steps []stepRow
	if err := db.Where("task_execution_id IN ?", ids).Order("seq").Find(&steps).Error; err != nil {
		return nil, dbErr(err, "reading steps")
	}
	for _, st := range steps {
		i := index[st.TaskExecutionID]
		tasks[i].Steps = append(tasks[i].Steps, st.domain())
	}
	return tasks, nil
}

// ListRuns returns the runs matching f, newest first, without phases.
func (s *Store) ListRuns(ctx context.Context, f ports.RunFilter, page ports.Page) ([]pipeline.Run, int, error) {
	page = page.Normalize()
	filter := func(db *gorm.DB) *gorm.DB {
		if f.Repository != "" {
			db = db.Where("repository = ?", f.Repository)
		}
		if f.Branch != "" {
			db = db.Where("branch = ?", f.Branch)
		}
		if f.CommitSHA != "" {
			db = db.Where("commit_sha = ?", f.CommitSHA)
		}
		if f.Status != "" {
			db = db.Where("status = ?", string(f.Status))
		}
		return db
	}
	var total int64
	if err := filter(s.read(ctx).Model(&runRow{})).Count(&total).Error; err != nil {
		return nil, 0, dbErr(err, "counting runs")
	}
	var rows []runRow
	if err := filter(s.read(ctx)).Order("created_at DESC, seq DESC").Limit(page.Limit).Offset(page.Offset).Find(&rows).Error; err != nil {
		return nil, 0, dbErr(err, "listing runs")
	}
	out := make([]pipeline.Run, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(total), nil
}

// CountActiveRuns counts the pending or running runs of repository.
func (s *Store) CountActiveRuns(ctx context.Context, repository string) (int, error) {
	var n int64
	err := s.read(ctx).Model(&runRow{}).
		Where("repository = ? AND status IN ?", repository, []string{string(pipeline.StatusPending), string(pipeline.StatusRunning)}).
		Count(&n).Error
	if err != nil {
		return 0, dbErr(err, "counting the active runs of "+repository)
	}
	return int(n), nil
}

// endedStatuses are the statuses of a run that has ended.
var endedStatuses = []string{string(pipeline.StatusSuccess), string(pipeline.StatusFailed), string(pipeline.StatusCancelled)}

// noRelease keeps, of pipeline_runs, the runs no release names.
const noRelease = "NOT EXISTS (SELECT 1 FROM releases rel WHERE rel.pipeline_run_id = pipeline_runs.id)"

// ExpiredRuns returns the oldest ended runs created before before that no
// release names, by the created_at index.
func (s *Store) ExpiredRuns(ctx context.Context, before time.Time, limit int) ([]string, error) {
	limit = ports.Page{Limit: limit}.Normalize().Limit
	var ids []string
	if err := s.read(ctx).Model(&runRow{}).Where("created_at < ? AND status IN ? AND "+noRelease, dbTime(before), endedStatuses).
		Order("created_at, seq").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, dbErr(err, "listing expired runs")
	}
	return ids, nil
}

// DeleteRuns deletes the ended runs among ids that no release names; their
// phases, tasks and steps go with them (ON DELETE CASCADE).
func (s *Store) DeleteRuns(ctx context.Context, ids []string) (int, error) {
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if k, ok := lookupID(id); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, "deleting expired runs", func(tx *gorm.DB) error {
		res := tx.Where("id IN ? AND status IN ? AND "+noRelease, keys, endedStatuses).Delete(&runRow{})
		n = res.RowsAffected
		return res.Error
	})
	return int(n), err
}

// UpdateRun applies fn to the run (read FOR UPDATE on PostgreSQL), checks
// the status transition and saves status, completed time, reason,
// workflow name and discovery output.
func (s *Store) UpdateRun(ctx context.Context, id string, fn func(*pipeline.Run) error) (*pipeline.Run, error) {
	var out *pipeline.Run
	err := s.write(ctx, "updating run "+id, func(tx *gorm.DB) error {
		cur, err := s.loadRun(tx, id, true)
		if err != nil {
			return err
		}
		next := *cur
		next.CompletedAt = utcPtr(cur.CompletedAt)
		next.DiscoveryOutput = append(json.RawMessage(nil), cur.DiscoveryOutput...)
		next.Phases = clonePhases(cur.Phases)
		if err := fn(&next); err != nil {
			return err
		}
		if err := pipeline.Transition(pipeline.KindRun, cur.Status, next.Status); err != nil {
			return err
		}
		if err := checkJSON(next.DiscoveryOutput); err != nil {
			return err
		}
		cur.Status = next.Status
		cur.CompletedAt = utcPtr(dbTimePtr(next.CompletedAt))
		cur.Reason = next.Reason
		cur.ArgoWorkflowName = next.ArgoWorkflowName
		cur.DiscoveryOutput = next.DiscoveryOutput
		err = tx.Model(&runRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"status":             string(cur.Status),
			"completed_at":       dbTimePtr(cur.CompletedAt),
			"reason":             cur.Reason,
			"argo_workflow_name": cur.ArgoWorkflowName,
			"discovery_output":   jsonText(cur.DiscoveryOutput),
		}).Error
		if err != nil {
			return dbErr(err, "saving run "+id)
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReopenRun moves a failed run back to running; see ports.RunStore.
func (s *Store) ReopenRun(ctx context.Context, id string, at time.Time, check func(*pipeline.Run) error) (*pipeline.Run, error) {
	var out *pipeline.Run
	err := s.write(ctx, "reopening run "+id, func(tx *gorm.DB) error {
		cur, err := s.loadRun(tx, id, true)
		if err != nil {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		if cur.Status != pipeline.StatusFailed {
			return fault.New(fault.Conflict, "run %s is %s; only a failed run can be retried", id, cur.Status)
		}
		at = at.UTC()
		err = tx.Model(&runRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"status": string(pipeline.StatusRunning), "completed_at": nil, "reason": "", "started_at": dbTime(at),
		}).Error
		if err != nil {
			return dbErr(err, "reopening run "+id)
		}
		cur.Status, cur.CompletedAt, cur.Reason, cur.StartedAt = pipeline.StatusRunning, nil, "", dbTime(at).UTC()
		out = cur
		return nil
	})
	return out, err
}

// AddPhases saves the plan of a run, once; see ports.RunStore.
func (s *Store) AddPhases(ctx context.Context, runID string, phases []pipeline.Phase) ([]pipeline.Phase, error) {
	var out []pipeline.Phase
	err := s.write(ctx, "adding the phases of run "+runID, func(tx *gorm.DB) error {
		// Reading the run FOR UPDATE serialises AddPhases per run.
		run, err := s.loadRun(tx, runID, true)
		if err != nil {
			return err
		}
		if len(run.Phases) > 0 {
			out = run.Phases
			return nil
		}
		var phaseRows []phaseRow
		var taskRows []taskRow
		var stepRows []stepRow
		for _, p := range phases {
			pr := phaseToRow(&p)
			pr.PipelineRunID = run.ID
			if pr.ID, err = newID(p.ID, "phase id"); err != nil {
				return err
			}
			if pr.Status, err = rowStatus(pipeline.KindPhase, p.Status); err != nil {
				return err
			}
			phaseRows = append(phaseRows, pr)
			for _, t := range p.Tasks {
				tr := taskToRow(&t)
				tr.PhaseExecutionID = pr.ID
				if tr.ID, err = newID(t.ID, "task id"); err != nil {
					return err
				}
				if tr.Status, err = rowStatus(pipeline.KindTask, t.Status); err != nil {
					return err
				}
				taskRows = append(taskRows, tr)
				for _, st := range t.Steps {
					sr := stepToRow(&st)
					sr.TaskExecutionID = tr.ID
					if sr.ID, err = newID(st.ID, "step id"); err != nil {
						return err
					}
					if sr.Status, err = rowStatus(pipeline.KindStep, st.Status); err != nil {
						return err
					}
					stepRows = append(stepRows, sr)
				}
			}
		}
		what := "adding the phases of run " + runID
		if len(phaseRows) > 0 {
			if err := tx.CreateInBatches(phaseRows, 200).Error; err != nil {
				return dbErr(err, what)
			}
		}
		if len(taskRows) > 0 {
			if err := tx.CreateInBatches(taskRows, 200).Error; err != nil {
				return dbErr(err, what)
			}
		}
		// Steps keep their order: seq follows the order of insertion.
		if len(stepRows) > 0 {
			if err := tx.CreateInBatches(stepRows, 200).Error; err != nil {
				return dbErr(err, what)
			}
		}
		out, err = loadPhases(tx, "pipeline_run_id = ?", run.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func rowStatus(k pipeline.Kind, st pipeline.Status) (string, error) {
	v, err := statusOf(k, st)
	return string(v), err
}

// GetTask returns a task with its steps.
func (s *Store) GetTask(ctx context.Context, id string) (*pipeline.Task, error) {
	return s.loadTask(s.read(ctx), id, false)
}

func (s *Store) loadTask(db *gorm.DB, id string, lock bool) (*pipeline.Task, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "task %q not found", id)
	}
	q := db
	if lock {
		q = s.forUpdate(db)
	}
	var row taskRow
	if err := q.Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "task %s not found", id)
	} else if err != nil {
		return nil, dbErr(err, "reading task "+id)
	}
	var steps []stepRow
	if err := db.Where("task_execution_id = ?", row.ID).Order("seq").Find(&steps).Error; err != nil {
		return nil, dbErr(err, "reading the steps of task "+id)
	}
	t := row.domain()
	for _, st := range steps {
		t.Steps = append(t.Steps, st.domain())
	}
	return &t, nil
}

// GetStep returns a step.
func (s *Store) GetStep(ctx context.Context, id string) (*pipeline.Step, error) {
	return s.loadStep(s.read(ctx), id, false)
}

func (s *Store) loadStep(db *gorm.DB, id string, lock bool) (*pipeline.Step, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "step %q not found", id)
	}
	if lock {
		db = s.forUpdate(db)
	}
	var row stepRow
	if err := db.Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "step %s not found", id)
	} else if err != nil {
		return nil, dbErr(err, "reading step "+id)
	}
	st := row.domain()
	return &st, nil
}

func (s *Store) loadPhase(db *gorm.DB, id string, lock bool) (*pipeline.Phase, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "phase %q not found", id)
	}
	q := db
	if lock {
		q = s.forUpdate(db)
	}
	var row phaseRow
	if err := q.Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "phase %s not found", id)
	} else if err != nil {
		return nil, dbErr(err, "reading phase "+id)
	}
	phases, err := loadPhases(db, "id = ?", key)
	if err != nil {
		return nil, err
	}
	if len(phases) == 0 {
		return nil, fault.New(fault.NotFound, "phase %s not found", id)
	}
	return &phases[0], nil
}

// UpdatePhase applies fn to a phase and saves its status and times.
func (s *Store) UpdatePhase(ctx context.Context, id string, fn func(*pipeline.Phase) error) (*pipeline.Phase, error) {
	var out *pipeline.Phase
	err := s.write(ctx, "updating phase "+id, func(tx *gorm.DB) error {
		cur, err := s.loadPhase(tx, id, true)
		if err != nil {
			return err
		}
		next := *cur
		next.StartedAt, next.CompletedAt = utcPtr(cur.StartedAt), utcPtr(cur.CompletedAt)
		next.Tasks = cloneTasks(cur.Tasks)
		if err := fn(&next); err != nil {
			return err
		}
		if err := pipeline.Transition(pipeline.KindPhase, cur.Status, next.Status); err != nil {
			return err
		}
		cur.Status = next.Status
		cur.StartedAt = utcPtr(dbTimePtr(next.StartedAt))
		cur.CompletedAt = utcPtr(dbTimePtr(next.CompletedAt))
		err = tx.Model(&phaseRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"status":       string(cur.Status),
			"started_at":   dbTimePtr(cur.StartedAt),
			"completed_at": dbTimePtr(cur.CompletedAt),
		}).Error
		if err != nil {
			return dbErr(err, "saving phase "+id)
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTask applies fn to a task and saves its status, times and error.
func (s *Store) UpdateTask(ctx context.Context, id string, fn func(*pipeline.Task) error) (*pipeline.Task, error) {
	var out *pipeline.Task
	err := s.write(ctx, "updating task "+id, func(tx *gorm.DB) error {
		cur, err := s.loadTask(tx, id, true)
		if err != nil {
			return err
		}
		next := *cur
		next.StartedAt, next.CompletedAt = utcPtr(cur.StartedAt), utcPtr(cur.CompletedAt)
		next.Steps = cloneSteps(cur.Steps)
		if err := fn(&next); err != nil {
			return err
		}
		if err := pipeline.Transition(pipeline.KindTask, cur.Status, next.Status); err != nil {
			return err
		}
		cur.Status = next.Status
		cur.StartedAt = utcPtr(dbTimePtr(next.StartedAt))
		cur.CompletedAt = utcPtr(dbTimePtr(next.CompletedAt))
		cur.Error = next.Error
		err = tx.Model(&taskRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"status":       string(cur.Status),
			"started_at":   dbTimePtr(cur.StartedAt),
			"completed_at": dbTimePtr(cur.CompletedAt),
			"error":        cur.Error,
		}).Error
		if err != nil {
			return dbErr(err, "saving task "+id)
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateStep applies fn to a step and saves its status, times, exit code
// and log key.
func (s *Store) UpdateStep(ctx context.Context, id string, fn func(*pipeline.Step) error) (*pipeline.Step, error) {
	var out *pipeline.Step
	err := s.write(ctx, "updating step "+id, func(tx *gorm.DB) error {
		cur, err := s.loadStep(tx, id, true)
		if err != nil {
			return err
		}
		next := cloneSteps([]pipeline.Step{*cur})[0]
		if err := fn(&next); err != nil {
			return err
		}
		if err := pipeline.Transition(pipeline.KindStep, cur.Status, next.Status); err != nil {
			return err
		}
		cur.Status = next.Status
		cur.StartedAt = utcPtr(dbTimePtr(next.StartedAt))
		cur.CompletedAt = utcPtr(dbTimePtr(next.CompletedAt))
		cur.ExitCode = copyInt(next.ExitCode)
		cur.LogsKey = next.LogsKey
		err = tx.Model(&stepRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"status":       string(cur.Status),
			"started_at":   dbTimePtr(cur.StartedAt),
			"completed_at": dbTimePtr(cur.CompletedAt),
			"exit_code":    copyInt(cur.ExitCode),
			"logs_s3_key":  nullString(cur.LogsKey),
		}).Error
		if err != nil {
			return dbErr(err, "saving step "+id)
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// placeQuery reads a task's place; placeOfStep adds its step.
const placeQuery = `SELECT r.id AS run_id, r.status AS run_status, p.phase_name, p.status AS phase_status,
	t.id AS task_id, t.project_name AS task_project, t.status AS task_status`

// placeRow is a row of placeQuery.
type placeRow struct {
	RunID       string
	RunStatus   string
	PhaseName   string
	PhaseStatus string
	TaskID      string
	TaskProject string
	TaskStatus  string
	StepID      string
	StepName    string
	StepStatus  string
}

func (r placeRow) domain() *pipeline.Place {
	return &pipeline.Place{RunID: r.RunID, RunStatus: pipeline.Status(r.RunStatus), PhaseName: r.PhaseName, PhaseStatus: pipeline.Status(r.PhaseStatus),
		TaskID: r.TaskID, TaskProject: r.TaskProject, TaskStatus: pipeline.Status(r.TaskStatus),
		StepID: r.StepID, StepName: r.StepName, StepStatus: pipeline.Status(r.StepStatus)}
}

// PlaceOfTask returns where a task sits, with one join over primary keys.
func (s *Store) PlaceOfTask(ctx context.Context, taskID string) (*pipeline.Place, error) {
	return s.place(ctx, "task", taskID, placeQuery+` FROM task_executions t
		JOIN phase_executions p ON p.id = t.phase_execution_id
		JOIN pipeline_runs r ON r.id = p.pipeline_run_id WHERE t.id = ?`)
}

// PlaceOfStep returns where a step sits, with one join over primary keys.
func (s *Store) PlaceOfStep(ctx context.Context, stepID string) (*pipeline.Place, error) {
	return s.place(ctx, "step", stepID, placeQuery+`, st.id AS step_id, st.step_name, st.status AS step_status FROM step_executions st
		JOIN task_executions t ON t.id = st.task_execution_id
		JOIN phase_executions p ON p.id = t.phase_execution_id
		JOIN pipeline_runs r ON r.id = p.pipeline_run_id WHERE st.id = ?`)
}

// place runs query, a placeQuery of the task or step what with id.
func (s *Store) place(ctx context.Context, what, id, query string) (*pipeline.Place, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "%s %q not found", what, id)
	}
	var rows []placeRow
	if err := s.read(ctx).Raw(query, key).Scan(&rows).Error; err != nil {
		return nil, dbErr(err, "finding the place of "+what+" "+id)
	}
	if len(rows) == 0 {
		return nil, fault.New(fault.NotFound, "%s %s not found", what, id)
	}
	return rows[0].domain(), nil
}
