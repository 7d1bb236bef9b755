package orchestrating

import (
	"context"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// LocalEngine is the WorkflowEngine of the local profile: it drives each
// run with the Orchestrator in a goroutine of this process. A run whose
// orchestration fails for a passing reason (the store or queue briefly
// unavailable) is resumed after a pause; a run left in progress when the
// process stopped is resumed by Resume when it starts again.
type LocalEngine struct {
	orch    *Orchestrator
	onError func(runID string, err error)

	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	active map[string]bool
}

var _ ports.WorkflowEngine = (*LocalEngine)(nil)

// NewLocalEngine returns an engine driving runs with o. onError, when not
// nil, hears of each failed attempt to drive a run (it is retried).
func NewLocalEngine(o *Orchestrator, onError func(runID string, err error)) *LocalEngine {
	ctx, stop := context.WithCancel(context.Background())
	return &LocalEngine{orch: o, onError: onError, ctx: ctx, stop: stop, active: map[string]bool{}}
}

// Start begins driving the run unless this engine drives it already. The
// local engine has no workflow name: it returns "".
func (e *LocalEngine) Start(_ context.Context, run *pipeline.Run) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active[run.ID] || e.ctx.Err() != nil {
		return "", nil
	}
	e.active[run.ID] = true
	e.wg.Add(1)
	go e.drive(run.ID)
	return "", nil
}

// Retry drives a reopened run as Start does: what it finished before
// keeps its outcome.
func (e *LocalEngine) Retry(ctx context.Context, run *pipeline.Run) (string, error) {
	return e.Start(ctx, run)
}

// retryPauses are the waits between attempts to drive a run; the last
// repeats.
var retryPauses = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second}

func (e *LocalEngine) drive(runID string) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		delete(e.active, runID)
		e.mu.Unlock()
	}()
	for attempt := 0; ; attempt++ {
		err := e.orch.Execute(e.ctx, runID)
		if err == nil || e.ctx.Err() != nil || fault.Is(err, fault.NotFound) {
			return
		}
		if fault.Is(err, fault.Validation) {
			// Trying again cannot help (an unreadable plan): end the run.
			// The cause (a record that cannot be read) is the server's to
			// see, not the run's readers'.
			e.orch.logger().Error("a run cannot go on", "run", runID, "error", err.Error())
			if err := e.orch.endRun(e.ctx, runID, "the run cannot go on: its records could not be read"); err != nil && e.onError != nil {
				e.onError(runID, err)
			}
			return
		}
		if e.onError != nil {
			e.onError(runID, err)
		}
		t := time.NewTimer(retryPauses[min(attempt, len(retryPauses)-1)])
		select {
		case <-e.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Cancel needs no action here: the run's status is the signal. The
// orchestration dispatches nothing more once the run has ended, and the
// workers stop the run's steps when they next check its status.
func (e *LocalEngine) Cancel(context.Context, *pipeline.Run) error { return nil }

// Active reports whether this engine drives the run now.
func (e *LocalEngine) Active(_ context.Context, run *pipeline.Run) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[run.ID], nil
}

// Resume starts driving every run left pending or running, as after a
// restart, and returns how many it started. Their finished tasks keep
// their outcome; the others are dispatched again (a job the queue still
// holds is not queued twice).
func (e *LocalEngine) Resume(ctx context.Context) (int, error) {
	left, err := e.orch.unfinished(ctx)
	if err != nil {
		return 0, err
	}
	for i := range left {
		if _, err := e.Start(ctx, &left[i]); err != nil {
			return i, err
		}
	}
	return len(left), nil
}

// unfinished lists every run left running or pending.
func (o *Orchestrator) unfinished(ctx context.Context) ([]pipeline.Run, error) {
	var all []pipeline.Run
	for _, st := range []pipeline.Status{pipeline.StatusRunning, pipeline.StatusPending} {
		for offset := 0; ; {
			runs, total, err := o.Store.ListRuns(ctx, ports.RunFilter{Status: st}, ports.Page{Limit: ports.MaxPageLimit, Offset: offset})
			if err != nil {
				return nil, err
			}
			all = append(all, runs...)
			offset += len(runs)
			if len(runs) == 0 || offset >= total {
				break
			}
		}
	}
	return all, nil
}

// Close stops driving runs and waits for the goroutines to return. Runs in
// progress stay as they are, for Resume to pick up.
func (e *LocalEngine) Close() {
	e.mu.Lock()
	e.stop() // under mu: no Start adds to wg after this
	e.mu.Unlock()
	e.wg.Wait()
}

// Reconcile ends, as failed, every run left pending or running whose
// workflow is no longer active: the workflow failed outside the stages
// (its deadline, a pod that could not be scheduled, someone deleted it) or
// never started, so no run stays running forever. Runs younger than grace
// are left alone (their workflow may be starting). It returns how many
// runs it ended, and the first error met; a run it could not look at is
// left for the next call, the others are still looked at.
func (o *Orchestrator) Reconcile(ctx context.Context, engine ports.WorkflowEngine, grace time.Duration) (int, error) {
	candidates, err := o.unfinished(ctx)
	if err != nil {
		return 0, err
	}
	ended := 0
	firstErr := o.tidyCancelled(ctx, engine)
	for i := range candidates {
		// From its start, not its creation: a run reopened for a retry
		// is young again while its new workflow starts.
		if o.Clock.Now().Sub(candidates[i].StartedAt) < grace {
			continue
		}
		done, err := o.reconcileRun(ctx, engine, &candidates[i])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if done {
			ended++
		}
	}
	return ended, firstErr
}

// tidyCancelled settles what the newest cancelled runs still hold once
// their workflow has stopped: a terminated Argo workflow's dispatcher may
// be killed before it records its group's end.
func (o *Orchestrator) tidyCancelled(ctx context.Context, engine ports.WorkflowEngine) error {
	runs, _, err := o.Store.ListRuns(ctx, ports.RunFilter{Status: pipeline.StatusCancelled}, ports.Page{Limit: ports.MaxPageLimit})
	if err != nil {
		return err
	}
	for i := range runs {
		if runs[i].CompletedAt == nil {
			continue
		}
		// Workers report what they stopped within seconds; after that,
		// and for an hour, what is left is tidied.
		if since := o.Clock.Now().Sub(*runs[i].CompletedAt); since < time.Minute || since > tidyWindow {
			continue
		}
		run, err := o.Store.GetRun(ctx, runs[i].ID)
		if err != nil {
			return err
		}
		if !unsettled(run) {
			continue
		}
		if active, err := engine.Active(ctx, run); err != nil || active {
			if err != nil {
				return err
			}
			continue
		}
		for _, ph := range run.Phases {
			o.settle(ctx, []pipeline.Phase{ph}, "stopped: the run was cancelled")
			if ph.Status == pipeline.StatusPending {
				o.setPhase(ctx, ph.ID, pipeline.StatusSkipped)
			} else {
				o.closePhase(ctx, run.ID, ph.ID)
			}
		}
	}
	return nil
}

// tidyWindow is how long after its cancellation a run is tidied.
const tidyWindow = time.Hour

// unsettled says whether a run holds a phase, task or step that has not
// ended.
func unsettled(run *pipeline.Run) bool {
	for _, ph := range run.Phases {
		if !ph.Status.Terminal() {
			return true
		}
		for _, t := range ph.Tasks {
			if !t.Status.Terminal() {
				return true
			}
			for _, s := range t.Steps {
				if !s.Status.Terminal() {
					return true
				}
			}
		}
	}
	return false
}

func (o *Orchestrator) reconcileRun(ctx context.Context, engine ports.WorkflowEngine, run *pipeline.Run) (bool, error) {
	active, err := engine.Active(ctx, run)
	if err != nil || active {
		return false, err
	}
	cur, err := o.Store.GetRun(ctx, run.ID)
	if err != nil || cur.Status.Terminal() {
		return false, err // or it ended while we looked
	}
	return true, o.abandon(ctx, cur)
}

// abandon ends a run whose workflow is gone, and all it holds.
func (o *Orchestrator) abandon(ctx context.Context, run *pipeline.Run) error {
	return o.endRun(ctx, run.ID, "its workflow ended before the run did (it failed, was deleted or never started)")
}
