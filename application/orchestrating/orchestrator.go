package orchestrating

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// Orchestrator drives pipeline runs. It is safe for concurrent use: each
// Execute call drives one run.
type Orchestrator struct {
	Store  ports.Store
	Jobs   ports.JobQueue
	Status ports.StatusReporter
	Events *announcing.Announcer
	Clock  ports.Clock
	// Objects keeps the outcome of each artifact of the release stage;
	// nil keeps none (a resumed run builds its artifacts again).
	Objects ports.ObjectStore
	// ReportSecret makes the report key each CI job carries, so that its
	// worker's statuses are accepted (running.Service.ReportSecret); empty
	// sends none.
	ReportSecret []byte
	// AutoDeploy, when set, deploys a release the release stage made to
	// the environments whose policy auto-deploys it
	// (deploying.Service.AutoDeploy); the run reports each deployment.
	AutoDeploy func(ctx context.Context, releaseID string) ([]release.Deployment, error)

	// DiscoveryTimeout and TaskTimeout bound one attempt of a job; zero
	// means the defaults. A phase's own timeout from the repository
	// configuration, when shorter, bounds its tasks instead.
	DiscoveryTimeout time.Duration
	TaskTimeout      time.Duration
	ArtifactTimeout  time.Duration
	ReleaseTimeout   time.Duration
	// Limit is the longest a run may take; zero means RunLimit.
	Limit time.Duration
	// StopWait bounds how long a failed group waits for its other tasks
	// to report that they stopped; zero means DefaultStopWait.
	StopWait time.Duration
	// Log receives the causes of failures: a run's reason, which every
	// reader sees, says what failed in the user's terms; the cause (a
	// decoding or database error) goes here. Nil means slog.Default().
	Log *slog.Logger
}

// logger is where causes go.
func (o *Orchestrator) logger() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.Default()
}

// deadline bounds ctx by the run's time limit. expired says the limit has
// passed already.
func (o *Orchestrator) deadline(ctx context.Context, run *pipeline.Run) (_ context.Context, cancel context.CancelFunc, expired bool) {
	end := run.StartedAt.Add(orDefault(o.Limit, RunLimit))
	ctx, cancel = context.WithDeadline(ctx, end)
	return ctx, cancel, !o.Clock.Now().Before(end)
}

// Execute drives run runID to its end and returns nil once the run is
// finished, whatever its outcome (the outcome is on the run). An error
// means the run could not be driven (its store or queue failed, or ctx
// ended) and it was left as it was, for a later Execute to resume: a
// resumed run keeps its discovery output and plan, and its finished tasks
// are not run again.
func (o *Orchestrator) Execute(ctx context.Context, runID string) error {
	plan, err := o.Discover(ctx, runID)
	if err != nil || plan.Ended {
		return err
	}
	for _, n := range plan.Groups {
		ended, err := o.RunGroup(ctx, runID, n)
		if err != nil || ended {
			return err
		}
	}
	if plan.Release {
		ended, err := o.Release(ctx, runID)
		if err != nil || ended {
			return err
		}
	}
	return o.Complete(ctx, runID)
}

// Plan is what the discovery stage decided for a run.
type Plan struct {
	// Groups are the phase group numbers to run, in order.
	Groups []int `json:"groups"`
	// Release says a release stage follows the groups.
	Release bool `json:"release"`
	// Ended says the run has ended (discovery failed, or the run was
	// cancelled); nothing more is to run.
	Ended bool `json:"ended"`
}

// Discover is the first stage of a run: it marks the run running,
// dispatches the discovery job (unless a resumed run has its output
// already) and persists the plan. A failed discovery ends the run as
// failed and returns a Plan that says so; an error leaves the run to be
// resumed.
func (o *Orchestrator) Discover(ctx context.Context, runID string) (*Plan, error) {
	run, err := o.Store.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if run.Status.Terminal() {
		return &Plan{Ended: true}, nil
	}
	ctx, cancel, expired := o.deadline(ctx, run)
	defer cancel()
	if expired {
		return &Plan{Ended: true}, o.overLimit(ctx, runID)
	}
	if run, err = o.setRun(ctx, runID, pipeline.StatusRunning, ""); err != nil {
		return nil, err
	}
	out, failure, err := o.discover(ctx, run)
	if err != nil {
		return nil, o.interrupted(ctx, runID, err)
	}
	if failure != "" {
		return &Plan{Ended: true}, o.finish(ctx, runID, pipeline.StatusFailed, failure)
	}
	phases, err := o.plan(ctx, run, out)
	if err != nil {
		return nil, o.interrupted(ctx, runID, err)
	}
	groups := groupPhases(phases)
	plan := &Plan{Release: out.ReleaseEnabled}
	for _, g := range groups {
		plan.Groups = append(plan.Groups, g.number)
	}
	if ended, err := o.ended(ctx, runID, groups); err != nil || ended {
		plan.Ended = ended
		return plan, err
	}
	o.report(ctx, run, ports.StatusDiscoveryComplete, fmt.Sprintf("Discovered %d projects; running phase group 1 of %d", len(out.Projects), len(out.PhaseGroups)))
	return plan, nil
}

// RunGroup runs phase group n of a discovered run: every task of the
// group at once (tasks a resumed run finished before keep their outcome).
// A failure ends the run as failed and skips the later groups; ended
// reports that, or that the run had ended already (cancelled).
func (o *Orchestrator) RunGroup(ctx context.Context, runID string, n int) (ended bool, err error) {
	run, err := o.Store.GetRun(ctx, runID)
	if err != nil {
		return false, err
	}
	ctx, cancel, expired := o.deadline(ctx, run)
	defer cancel()
	if expired {
		return true, o.overLimit(ctx, runID)
	}
	groups := groupPhases(run.Phases)
	i := sort.Search(len(groups), func(i int) bool { return groups[i].number >= n })
	if i == len(groups) || groups[i].number != n {
		return false, fault.New(fault.Validation, "run %s has no phase group %d", runID, n)
	}
	if ended, err := o.ended(ctx, runID, groups[i:]); err != nil || ended {
		return ended, err
	}
	var out discovery.Output
	if err := json.Unmarshal(run.DiscoveryOutput, &out); err != nil {
		return false, fault.Wrap(fault.Validation, err, "run %s has no readable discovery output", runID)
	}
	o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Running phase group %d of %d (%d%% complete)", i+1, len(groups), 100*i/len(groups)))
	failure, err := o.runGroup(ctx, run, &out, groups[i])
	if ctx.Err() == context.DeadlineExceeded {
		// The tasks' waits ended with the limit, not with an outcome:
		// the group fails (its workers stop when they see the run has
		// ended) and nothing after it runs.
		return true, o.overLimit(ctx, runID)
	}
	if err != nil {
		return false, o.interrupted(ctx, runID, err)
	}
	if failure != "" { // runGroup has ended the run
		o.skipRest(ctx, groups[i+1:])
		return true, nil
	}
	return o.ended(ctx, runID, groups[i+1:])
}

// Complete ends a run whose groups all succeeded as successful (a
// cancelled run stays cancelled).
func (o *Orchestrator) Complete(ctx context.Context, runID string) error {
	return o.finish(ctx, runID, pipeline.StatusSuccess, "")
}

// ended reports whether the run has ended elsewhere (cancelled) and, if
// so, marks the groups that will never run skipped.
func (o *Orchestrator) ended(ctx context.Context, runID string, rest []group) (bool, error) {
	cur, err := o.Store.GetRun(ctx, runID)
	if err != nil {
		return false, err
	}
	if !cur.Status.Terminal() {
		return false, nil
	}
	o.skipRest(ctx, rest)
	if cur.Status == pipeline.StatusCancelled {
		o.reportFinished(ctx, cur)
	}
	return true, nil
}

// discover dispatches the discovery job; a failed discovery is a failure
// of the run (its message), not an error.
func (o *Orchestrator) discover(ctx context.Context, run *pipeline.Run) (*discovery.Output, string, error) {
	if len(run.DiscoveryOutput) > 0 {
		var out discovery.Output
		if err := json.Unmarshal(run.DiscoveryOutput, &out); err == nil {
			return &out, "", nil // resumed: discovery ran before
		}
	}
	payload, _ := json.Marshal(DiscoveryJob{RunID: run.ID, Repository: run.Repository, CommitSHA: run.CommitSHA, Branch: run.Branch})
	res, err := o.Jobs.Dispatch(ctx, job.Job{ID: run.ID + ".discovery", Type: job.TypeDiscovery, RunID: run.ID,
		Payload: payload, Timeout: orDefault(o.DiscoveryTimeout, DefaultDiscoveryTimeout)})
	if err != nil {
		return nil, "", err
	}
	if res.Error != "" {
		return nil, "discovery failed: " + res.Error, nil
	}
	var out discovery.Output
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		o.logger().Error("reading the discovery output failed", "run", run.ID, "error", err.Error())
		return nil, "discovery answered with an output that could not be read", nil
	}
	if _, err := o.Store.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error {
		r.DiscoveryOutput = res.Payload
		return nil
	}); err != nil {
		return nil, "", err
	}
	return &out, "", nil
}

// plan persists the phases, tasks and steps of the discovery output (once:
// a resumed run keeps its plan) and returns them with their IDs.
func (o *Orchestrator) plan(ctx context.Context, run *pipeline.Run, out *discovery.Output) ([]pipeline.Phase, error) {
	var phases []pipeline.Phase
	for _, g := range out.PhaseGroups {
		for _, name := range g.Phases {
			ph := pipeline.Phase{Name: name, GroupNumber: g.Group, Status: pipeline.StatusPending}
			for _, p := range out.Projects {
				steps := p.Phases[name]
				if len(steps) == 0 {
					continue
				}
				t := pipeline.Task{ProjectName: p.Name, ProjectPath: p.Path, Status: pipeline.StatusPending}
				for _, st := range steps {
					t.Steps = append(t.Steps, pipeline.Step{Name: st.Name, Action: string(st.Action), Target: stepTarget(st), Status: pipeline.StatusPending})
				}
				ph.Tasks = append(ph.Tasks, t)
			}
			phases = append(phases, ph)
		}
	}
	return o.Store.AddPhases(ctx, run.ID, phases)
}

func stepTarget(st config.Step) string {
	if st.Action == config.ActionEarthly {
		return st.Target
	}
	return st.Run
}

// group is the phases of one group number.
type group struct {
	number int
	phases []pipeline.Phase
}

func groupPhases(phases []pipeline.Phase) []group {
	byNumber := map[int][]pipeline.Phase{}
	for _, ph := range phases {
		byNumber[ph.GroupNumber] = append(byNumber[ph.GroupNumber], ph)
	}
	var out []group
	for n, ps := range byNumber {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
		out = append(out, group{number: n, phases: ps})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

// runGroup dispatches every task of every phase of the group at once and
// waits for them. The first failure ends the run as failed at once, so the
// workers of the other tasks stop their steps (they watch the run's
// status); runGroup then waits up to StopWait for them to report before it
// returns the failure.
func (o *Orchestrator) runGroup(ctx context.Context, run *pipeline.Run, out *discovery.Output, g group) (string, error) {
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var failure string
	var firstErr error
	var stopTimer *time.Timer
	fail := func(msg string) {
		mu.Lock()
		first := failure == ""
		if first {
			failure = msg
		}
		mu.Unlock()
		if !first {
			return
		}
		err := o.finish(ctx, run.ID, pipeline.StatusFailed, msg)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
			cancel()
			return
		}
		stopTimer = time.AfterFunc(orDefault(o.StopWait, DefaultStopWait), cancel)
	}
	var wg sync.WaitGroup
	for _, ph := range g.phases {
		o.setPhase(ctx, ph.ID, pipeline.StatusRunning)
		timeout := orDefault(o.TaskTimeout, DefaultTaskTimeout)
		if d, err := time.ParseDuration(out.Repository.Phases[ph.Name].Timeout); err == nil && d > 0 && d < timeout {
			timeout = d
		}
		for _, t := range ph.Tasks {
			if t.Status == pipeline.StatusFailed { // failed before the run was resumed
				fail(fmt.Sprintf("%s of %s failed: %s", ph.Name, t.ProjectName, t.Error))
			}
			mu.Lock()
			stop := failure != "" || firstErr != nil
			mu.Unlock()
			if t.Status.Terminal() || stop {
				continue
			}
			wg.Add(1)
			go func(ph pipeline.Phase, t pipeline.Task) {
				defer wg.Done()
				msg, err := o.runTask(gctx, run, out, ph, t, timeout)
				switch {
				case err != nil:
					mu.Lock()
					if gctx.Err() == nil && firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				case msg != "":
					fail(msg)
				}
			}(ph, t)
		}
	}
	wg.Wait()
	mu.Lock()
	if stopTimer != nil {
		stopTimer.Stop()
	}
	mu.Unlock()
	if ctx.Err() != nil {
		// The run's limit (RunGroup ends it) or the orchestration stopped
		// (the run is resumed later): the waits ended, not the tasks.
		return "", ctx.Err()
	}
	if failure == "" && firstErr != nil {
		return "", firstErr // interrupted: the records wait for the resume
	}
	if failure != "" {
		// Tasks that never started are skipped; one whose worker did not
		// report within StopWait is failed.
		o.settle(ctx, g.phases, "stopped: the run failed and its worker did not report in time")
	}
	for _, ph := range g.phases {
		o.closePhase(ctx, run.ID, ph.ID)
	}
	return failure, nil
}

// runTask dispatches one task's CI job and records the task's outcome.
func (o *Orchestrator) runTask(ctx context.Context, run *pipeline.Run, out *discovery.Output, ph pipeline.Phase, t pipeline.Task, timeout time.Duration) (string, error) {
	ids := map[string]string{}
	for _, st := range t.Steps {
		ids[st.Name] = st.ID
	}
	var steps []TaskStep
	for _, p := range out.Projects {
		if p.Name != t.ProjectName {
			continue
		}
		for _, st := range p.Phases[ph.Name] {
			steps = append(steps, TaskStep{ID: ids[st.Name], Step: st})
		}
	}
	var key string
	if len(o.ReportSecret) > 0 {
		key = pipeline.ReportKey(o.ReportSecret, run.ID)
	}
	payload, _ := json.Marshal(TaskJob{RunID: run.ID, TaskID: t.ID, Repository: run.Repository, CommitSHA: run.CommitSHA, ReportKey: key,
		Phase: ph.Name, Project: t.ProjectName, Path: t.ProjectPath, Steps: steps})
	res, err := o.Jobs.Dispatch(ctx, job.Job{ID: t.ID, Type: job.TypeCI, RunID: run.ID, Payload: payload, Timeout: timeout})
	if err != nil {
		if ctx.Err() != nil {
			return "", nil // another task failed first, or the run ended
		}
		return "", err
	}
	var tr TaskResult
	if res.Error == "" {
		if err := json.Unmarshal(res.Payload, &tr); err != nil {
			o.logger().Error("reading a task's result failed", "run", run.ID, "task", t.ID, "error", err.Error())
			res.Error = "its worker's answer could not be read"
		}
	}
	status, msg := pipeline.StatusSuccess, ""
	switch {
	case res.Error != "":
		status, msg = pipeline.StatusFailed, fmt.Sprintf("%s of %s failed: %s", ph.Name, t.ProjectName, res.Error)
	case tr.Status == pipeline.StatusSkipped:
		status, msg = pipeline.StatusSkipped, fmt.Sprintf("%s of %s was not run: the run had ended", ph.Name, t.ProjectName)
	case tr.Status != pipeline.StatusSuccess && tr.FailedStep == "":
		status = pipeline.StatusFailed
		msg = fmt.Sprintf("%s of %s did not finish", ph.Name, t.ProjectName)
	case tr.Status != pipeline.StatusSuccess:
		status = pipeline.StatusFailed
		msg = fmt.Sprintf("step %s of %s failed in phase %s", tr.FailedStep, t.ProjectName, ph.Name)
	}
	now := o.Clock.Now()
	_, _ = o.Store.UpdateTask(ctx, t.ID, func(task *pipeline.Task) error {
		if task.Status.Terminal() {
			return nil
		}
		task.Status = status
		if msg != "" {
			task.Error = msg
		}
		pipeline.Apply(status, now, &task.StartedAt, &task.CompletedAt)
		return nil
	})
	if status != pipeline.StatusSuccess {
		// Steps its worker could not report (it died on the last
		// delivery, or was stopped) end with the task.
		o.settleTask(ctx, t.ID, msg)
	}
	return msg, nil
}

// settle ends whatever the phases still hold once the run has ended:
// steps that never started are skipped, steps still running failed, tasks
// that never started skipped and tasks still running failed with reason.
func (o *Orchestrator) settle(ctx context.Context, phases []pipeline.Phase, reason string) {
	for _, ph := range phases {
		for _, t := range ph.Tasks {
			o.settleTask(ctx, t.ID, reason)
		}
	}
}

// settleTask ends one task and its steps as settle does.
func (o *Orchestrator) settleTask(ctx context.Context, taskID, reason string) {
	now := o.Clock.Now()
	cur, err := o.Store.GetTask(ctx, taskID)
	if err != nil {
		return
	}
	end := func(st pipeline.Status) pipeline.Status {
		switch st {
		case pipeline.StatusPending:
			return pipeline.StatusSkipped
		case pipeline.StatusRunning:
			return pipeline.StatusFailed
		}
		return st
	}
	for _, st := range cur.Steps {
		if st.Status.Terminal() {
			continue
		}
		_, _ = o.Store.UpdateStep(ctx, st.ID, func(s *pipeline.Step) error {
			if !s.Status.Terminal() {
				s.Status = end(s.Status)
				pipeline.Apply(s.Status, now, &s.StartedAt, &s.CompletedAt)
			}
			return nil
		})
	}
	if cur.Status.Terminal() {
		return
	}
	_, _ = o.Store.UpdateTask(ctx, taskID, func(t *pipeline.Task) error {
		if t.Status.Terminal() {
			return nil
		}
		t.Status = end(t.Status)
		if t.Status == pipeline.StatusFailed && t.Error == "" {
			t.Error = reason
		}
		pipeline.Apply(t.Status, now, &t.StartedAt, &t.CompletedAt)
		return nil
	})
}

// skipRest marks the phases of later groups, and all they hold, skipped.
func (o *Orchestrator) skipRest(ctx context.Context, groups []group) {
	for _, g := range groups {
		o.settle(ctx, g.phases, "the run ended before it started")
		for _, ph := range g.phases {
			o.setPhase(ctx, ph.ID, pipeline.StatusSkipped)
		}
	}
}

// closePhase ends a phase from its tasks: failed when one failed, skipped
// when all were, success otherwise.
func (o *Orchestrator) closePhase(ctx context.Context, runID, phaseID string) {
	run, err := o.Store.GetRun(ctx, runID)
	if err != nil {
		return
	}
	for _, ph := range run.Phases {
		if ph.ID != phaseID {
			continue
		}
		status := pipeline.StatusSuccess
		skipped := len(ph.Tasks) > 0
		for _, t := range ph.Tasks {
			if t.Status == pipeline.StatusFailed {
				status = pipeline.StatusFailed
			}
			if t.Status != pipeline.StatusSkipped {
				skipped = false
			}
		}
		if skipped {
			status = pipeline.StatusSkipped
		}
		o.setPhase(ctx, phaseID, status)
	}
}

func (o *Orchestrator) setPhase(ctx context.Context, id string, status pipeline.Status) {
	now := o.Clock.Now()
	_, _ = o.Store.UpdatePhase(ctx, id, func(ph *pipeline.Phase) error {
		if ph.Status.Terminal() {
			return nil
		}
		ph.Status = status
		pipeline.Apply(status, now, &ph.StartedAt, &ph.CompletedAt)
		return nil
	})
}

func (o *Orchestrator) setRun(ctx context.Context, id string, status pipeline.Status, reason string) (*pipeline.Run, error) {
	run, _, err := o.changeRun(ctx, id, status, reason)
	return run, err
}

// changeRun sets the run's status unless it has ended; changed says
// whether it did.
func (o *Orchestrator) changeRun(ctx context.Context, id string, status pipeline.Status, reason string) (_ *pipeline.Run, changed bool, _ error) {
	now := o.Clock.Now()
	run, err := o.Store.UpdateRun(ctx, id, func(r *pipeline.Run) error {
		changed = false // the store may call this again
		if r.Status.Terminal() {
			return nil
		}
		changed = true
		r.Status = status
		if reason != "" {
			r.Reason = reason
		}
		if status.Terminal() {
			r.CompletedAt = &now
		}
		return nil
	})
	return run, changed, err
}

// finish ends the run, reports it and announces it. A run that had ended
// already is left as it is: a cancelled one gets its finished status point
// (its cancellation announced it), any other nothing more.
func (o *Orchestrator) finish(ctx context.Context, id string, status pipeline.Status, reason string) error {
	run, changed, err := o.changeRun(ctx, id, status, reason)
	if err != nil {
		return err
	}
	if !changed {
		if run.Status == pipeline.StatusCancelled {
			o.reportFinished(ctx, run)
		}
		return nil
	}
	o.announceFinished(ctx, run)
	return nil
}

// announceFinished reports the finished status point and announces
// run.completed.
func (o *Orchestrator) announceFinished(ctx context.Context, run *pipeline.Run) {
	o.reportFinished(ctx, run)
	data := map[string]any{"run_id": run.ID, "status": string(run.Status)}
	if run.CompletedAt != nil {
		data["duration_seconds"] = int(run.CompletedAt.Sub(run.StartedAt).Seconds())
	}
	o.Events.Announce(ctx, event.RunCompleted, data)
}

// reportFinished sends the run's finished status point.
func (o *Orchestrator) reportFinished(ctx context.Context, run *pipeline.Run) {
	outcome := map[pipeline.Status]string{pipeline.StatusSuccess: "succeeded", pipeline.StatusFailed: "failed",
		pipeline.StatusCancelled: "was cancelled"}[run.Status]
	if outcome == "" {
		outcome = string(run.Status)
	}
	desc := "Pipeline " + outcome
	if run.CompletedAt != nil {
		desc += " in " + run.CompletedAt.Sub(run.StartedAt).Round(time.Millisecond).String()
	}
	if run.Reason != "" {
		desc += ": " + run.Reason
	}
	o.report(ctx, run, ports.StatusFinished, desc)
}

// interrupted ends a run that passed its time limit as failed; any other
// error leaves the run for a later Execute to resume.
func (o *Orchestrator) interrupted(ctx context.Context, id string, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return o.overLimit(ctx, id)
	}
	return err
}

// overLimit ends a run that passed its time limit as failed, and all it
// holds.
func (o *Orchestrator) overLimit(ctx context.Context, id string) error {
	return o.endRun(context.WithoutCancel(ctx), id, fmt.Sprintf("the run passed its %s limit", orDefault(o.Limit, RunLimit)))
}

// endRun fails a run that cannot go on and settles everything it holds:
// a phase with work still running or failed fails, one that never started
// is skipped. A run that had ended already is left as it is.
func (o *Orchestrator) endRun(ctx context.Context, id, reason string) error {
	run, changed, err := o.changeRun(ctx, id, pipeline.StatusFailed, reason)
	if err != nil || !changed {
		return err
	}
	o.announceFinished(ctx, run)
	if run, err = o.Store.GetRun(ctx, id); err != nil {
		return err
	}
	for _, ph := range run.Phases {
		o.settle(ctx, []pipeline.Phase{ph}, "stopped: "+reason)
		o.closePhase(ctx, id, ph.ID)
	}
	return nil
}

func (o *Orchestrator) report(ctx context.Context, run *pipeline.Run, point ports.StatusPoint, desc string) {
	if o.Status != nil {
		_ = o.Status.Report(ctx, run, point, desc)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
