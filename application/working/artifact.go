package working

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// ArtifactLogKey is where the log of an artifact's build and publication
// is stored, beside the step logs of its run.
func ArtifactLogKey(runID, project, name string) string {
	return LogKey(runID, "release", project, "artifact-"+name)
}

// ArtifactRequest is what building the artifact of aj in the checkout ws
// takes, its build's output going to log: what a worker builds, and what
// forge release create builds on a developer's machine.
func ArtifactRequest(aj *orchestrating.ArtifactJob, ws *ports.Workspace, log io.Writer) publishing.Request {
	return publishing.Request{
		RunID: aj.RunID, Repository: aj.Repository, CommitSHA: aj.CommitSHA, CommitTime: ws.CommitTime,
		Dir: ws.Dir, Project: aj.Project, ProjectPath: aj.Path, Name: aj.Name, Artifact: aj.Artifact,
		Publishers: aj.Publishers, Previous: aj.Previous, Log: log,
		Env: map[string]string{"FORGE_RUN_ID": aj.RunID, "FORGE_PROJECT": aj.Project, "FORGE_PROJECT_PATH": aj.Path,
			"FORGE_REPOSITORY": aj.Repository, "FORGE_COMMIT": aj.CommitSHA},
	}
}

// artifact checks the commit out, builds one artifact, publishes it and
// pushes its tracking image; the result is the artifact's outcome, which
// says what failed. A job taken away from this worker (its lease lost,
// the worker stopping) reports nothing: it runs again elsewhere.
func (w *Worker) artifact(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	if w.Artifacts == nil {
		return nil, fault.New(fault.Validation, "this worker does not build artifacts")
	}
	var aj orchestrating.ArtifactJob
	if err := json.Unmarshal(d.Job.Payload, &aj); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading artifact job %s", d.Job.ID)
	}
	ws, err := w.workspace(ctx, d.Job.ID, aj.Repository, aj.CommitSHA)
	if err != nil {
		return nil, err
	}
	defer ws.Remove(context.WithoutCancel(ctx))

	actx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go w.watch(actx, stop, aj.RunID, d)

	log := newLogUploader(w.Objects, ArtifactLogKey(aj.RunID, aj.Project, aj.Name), orDefault(w.LogFlush, DefaultLogFlush))
	out, err := w.Artifacts.Build(actx, ArtifactRequest(&aj, ws, log))
	if err != nil {
		fmt.Fprintf(log, "\n[forge] artifact %s stopped: %v\n", aj.Name, err)
	}
	logErr := log.Close(context.WithoutCancel(ctx))
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	switch {
	case err != nil:
		out.Error = "stopped: " + err.Error()
	case logErr != nil:
		// The artifact was built, but what its build said is lost.
		w.logger().Error("storing the log of an artifact failed", "job", d.Job.ID, "error", logErr.Error())
		out.Error = "its log could not be stored"
	}
	return json.Marshal(out)
}
