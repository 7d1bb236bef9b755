package working

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// LogKey is where a step's log is stored (spec 03).
func LogKey(runID, phase, project, step string) string {
	return pipeline.ObjectsPrefix(runID) + "logs/" + phase + "/" + project + "/" + step + ".log"
}

// task runs one project's steps of one phase, in priority batches: the
// steps of a batch run at once; the first failure stops its siblings and
// skips later batches. The run ending elsewhere stops the task too.
func (w *Worker) task(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	var tj orchestrating.TaskJob
	if err := json.Unmarshal(d.Job.Payload, &tj); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading CI job %s", d.Job.ID)
	}
	// Every report of this task carries its run's report key.
	ctx = ports.WithReportKey(ctx, tj.ReportKey)
	if st, err := w.Reporter.RunStatus(ctx, tj.RunID); err == nil && st.Terminal() {
		// The run ended while the job waited in the queue: run nothing.
		for _, s := range tj.Steps {
			_ = w.Reporter.ReportStep(ctx, s.ID, pipeline.StatusSkipped, nil, "")
		}
		_ = w.Reporter.ReportTask(ctx, tj.TaskID, pipeline.StatusSkipped, "the run is "+string(st))
		return json.Marshal(orchestrating.TaskResult{Status: pipeline.StatusSkipped})
	}
	// The task runs from here: its checkout is part of its time.
	if err := w.Reporter.ReportTask(ctx, tj.TaskID, pipeline.StatusRunning, ""); err != nil && !fault.Is(err, fault.Conflict) {
		return nil, w.userError(d.Job.ID, err, "the start of the task could not be recorded")
	}
	ws, err := w.workspace(ctx, d.Job.ID, tj.Repository, tj.CommitSHA)
	if err != nil {
		return nil, err
	}
	defer ws.Remove(context.WithoutCancel(ctx))

	tctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go w.watch(tctx, stop, tj.RunID, d)

	ids := map[string]string{}
	steps := make([]config.Step, 0, len(tj.Steps))
	for _, s := range tj.Steps {
		ids[s.Name] = s.ID
		steps = append(steps, s.Step)
	}
	dir := filepath.Join(ws.Dir, filepath.FromSlash(tj.Path))
	failed, failure := "", ""
	for _, batch := range discovery.Batches(discovery.OrderSteps(steps)) {
		if failed != "" || tctx.Err() != nil {
			if ctx.Err() != nil {
				continue // taken away: the job runs again elsewhere
			}
			for _, st := range batch {
				_ = w.Reporter.ReportStep(ctx, ids[st.Name], pipeline.StatusSkipped, nil, "")
			}
			continue
		}
		failed, failure = w.batch(tctx, ctx, tj, dir, batch, ids)
	}
	if ctx.Err() != nil {
		// The job was taken from this worker (it is shutting down, or its
		// lease was lost): another worker runs it again, so nothing here
		// is final.
		return nil, context.Cause(ctx)
	}
	result := orchestrating.TaskResult{Status: pipeline.StatusSuccess}
	reason := ""
	switch {
	case failed != "":
		result = orchestrating.TaskResult{Status: pipeline.StatusFailed, FailedStep: failed}
		reason = failure
	case tctx.Err() != nil:
		result = orchestrating.TaskResult{Status: pipeline.StatusFailed}
		reason = "stopped: " + context.Cause(tctx).Error()
	}
	if err := w.Reporter.ReportTask(context.WithoutCancel(ctx), tj.TaskID, result.Status, reason); err != nil && !fault.Is(err, fault.Conflict) {
		return nil, w.userError(d.Job.ID, err, "the outcome of the task (%s) could not be recorded", result.Status)
	}
	return json.Marshal(result)
}

// watch keeps the job's lease alive and stops the task when its run has
// ended (cancelled, or failed in another task).
func (w *Worker) watch(ctx context.Context, stop context.CancelCauseFunc, runID string, d *ports.Delivery) {
	tick := time.NewTicker(orDefault(w.CancelPoll, DefaultCancelPoll))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if d.Progress != nil {
			_ = d.Progress()
		}
		if st, err := w.Reporter.RunStatus(ctx, runID); err == nil && st.Terminal() {
			stop(fmt.Errorf("the run is %s", st))
			return
		}
	}
}

// batch runs steps at once and returns the name of the first that failed
// and why, as the task's reason ("step build failed with exit code 2").
func (w *Worker) batch(ctx, jobCtx context.Context, tj orchestrating.TaskJob, dir string, steps []config.Step, ids map[string]string) (failed, reason string) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, st := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A step stopped because the task was (its run ended) did
			// not fail on its own: the task reports being stopped.
			if ok, why := w.step(bctx, jobCtx, tj, dir, st, ids[st.Name]); !ok && ctx.Err() == nil {
				mu.Lock()
				if failed == "" {
					failed, reason = st.Name, "step "+st.Name+" "+why
					cancel() // fail-fast: stop the siblings
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, reason
}

// step runs one step with its log streamed to the object store, and
// reports it; it returns whether the step succeeded and, when it did
// not, why in the user's terms ("failed with exit code 2"). When the job
// itself is taken away (jobCtx ends), the step's outcome is not reported:
// the job runs again elsewhere.
//
// A step whose log could not be stored, or whose status could not be
// recorded, has failed: its record would otherwise say less than what
// happened (a cut log on a successful step, a step that ran while its
// record stays pending).
func (w *Worker) step(ctx, jobCtx context.Context, tj orchestrating.TaskJob, dir string, st config.Step, id string) (bool, string) {
	report := context.WithoutCancel(ctx)
	key := LogKey(tj.RunID, tj.Phase, tj.Project, st.Name)
	// Conflict means the step has ended already (a job seen twice, or
	// the run ended): it runs, and the watch stops it if the run has.
	if err := w.Reporter.ReportStep(report, id, pipeline.StatusRunning, nil, key); err != nil && !fault.Is(err, fault.Conflict) {
		return false, "did not start: its status could not be recorded"
	}
	log := newLogUploader(w.Objects, key, orDefault(w.LogFlush, DefaultLogFlush))

	req := ports.StepRequest{
		Action: string(st.Action), Target: st.Target, Args: st.Args, Run: st.Run, Shell: st.Shell, Dir: dir,
		Env: map[string]string{
			"FORGE_RUN_ID": tj.RunID, "FORGE_TASK_ID": tj.TaskID, "FORGE_STEP": st.Name, "FORGE_PHASE": tj.Phase,
			"FORGE_PROJECT": tj.Project, "FORGE_PROJECT_PATH": tj.Path, "FORGE_REPOSITORY": tj.Repository, "FORGE_COMMIT": tj.CommitSHA,
		},
		Output: log,
	}
	if st.Timeout != "" {
		if d, err := time.ParseDuration(st.Timeout); err == nil {
			req.Timeout = d
		}
	}
	code := -1
	ok := false
	why := "could not run"
	secrets, err := w.secrets(ctx, st)
	if err == nil {
		req.Secrets = secrets
		var res ports.StepResult
		res, err = w.Steps.Execute(ctx, req)
		code = res.ExitCode
		ok = err == nil && res.Succeeded()
		switch {
		case res.TimedOut:
			why = fmt.Sprintf("timed out after %s", req.Timeout)
			fmt.Fprintf(log, "\n[forge] step %s timed out after %s\n", st.Name, req.Timeout)
		case res.Cancelled:
			why = "was stopped"
			fmt.Fprintf(log, "\n[forge] step %s stopped: %v\n", st.Name, context.Cause(ctx))
		case err == nil && !ok:
			why = fmt.Sprintf("failed with exit code %d", code)
		}
	}
	if err != nil {
		fmt.Fprintf(log, "\n[forge] step %s could not run: %v\n", st.Name, err)
	}
	if lerr := log.Close(report); lerr != nil && ok {
		ok, why = false, "ran, but its log could not be stored"
	}
	if jobCtx.Err() != nil {
		return false, why
	}
	status := pipeline.StatusSuccess
	if !ok {
		status = pipeline.StatusFailed
	}
	if err := w.Reporter.ReportStep(report, id, status, &code, key); err != nil && !fault.Is(err, fault.Conflict) {
		if ok {
			why = "ran, but its status could not be recorded"
		}
		return false, why
	}
	return ok, why
}

// secrets resolves a step's secret references to environment variables.
func (w *Worker) secrets(ctx context.Context, st config.Step) (map[string]string, error) {
	if len(st.Secrets) == 0 {
		return nil, nil
	}
	if w.Secrets == nil {
		return nil, fault.New(fault.Unavailable, "step %s needs secrets, and this worker has no secret provider", st.Name)
	}
	out := map[string]string{}
	for i, ref := range st.Secrets {
		name := ref.Env
		if name == "" {
			name = fmt.Sprintf("FORGE_SECRET_%d", i)
		}
		v, err := w.Secrets(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("secret %s (provider %s): %w", name, ref.Provider, err)
		}
		out[strings.ToUpper(name)] = v
	}
	return out, nil
}
