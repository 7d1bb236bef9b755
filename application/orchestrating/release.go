package orchestrating

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// ArtifactKey is where the outcome of an artifact of a run is kept, for
// the release that renders it and for whoever looks at the run.
func ArtifactKey(runID, project, name string) string {
	return pipeline.ObjectsPrefix(runID) + "artifacts/" + project + "/" + name + ".json"
}

// artifactJobID names the artifact job of project's artifact name in a
// run: the same on every attempt of one start of the run, so a retried
// dispatch is not queued twice, and another once the run is reopened for
// a retry (its start time changes), so the queue does not answer with the
// failed job's stored result.
func artifactJobID(run *pipeline.Run, project, name string) string {
	return stageJobID(run, "artifact", project+"\x00"+name)
}

// ReleaseKey is where the outcome of a project's release of a run is
// kept (a ReleaseResult), for a resumed run and for whoever looks.
func ReleaseKey(runID, project string) string {
	return pipeline.ObjectsPrefix(runID) + "releases/" + project + ".json"
}

// releaseJobID names the release job of a project in a run, as
// artifactJobID does.
func releaseJobID(run *pipeline.Run, project string) string {
	return stageJobID(run, "release", project)
}

func stageJobID(run *pipeline.Run, kind, what string) string {
	sum := sha256.Sum256([]byte(what + "\x00" + strconv.FormatInt(run.StartedAt.UnixMicro(), 10)))
	return run.ID + "-" + kind + "-" + hex.EncodeToString(sum[:8])
}

// Release is the release stage of a run whose phase groups all
// succeeded. For each release-triggered project, at once: every artifact
// is built, published and tracked by an artifact job (outcomes kept at
// ArtifactKey); once all of a project's artifacts succeeded, its release
// job renders its resources, pushes its Release OCI image and registers
// the release (outcome kept at ReleaseKey). Projects are independent:
// one project's failure does not stop another's release, and the run
// fails naming every artifact and release that failed. ended says the
// run has ended (failed here, or cancelled meanwhile); a resumed run
// reuses the outcomes kept by an earlier attempt.
func (o *Orchestrator) Release(ctx context.Context, runID string) (ended bool, err error) {
	run, err := o.Store.GetRun(ctx, runID)
	if err != nil {
		return false, err
	}
	if run.Status.Terminal() {
		return true, nil
	}
	ctx, cancel, expired := o.deadline(ctx, run)
	defer cancel()
	if expired {
		return true, o.overLimit(ctx, runID)
	}
	var out discovery.Output
	if err := json.Unmarshal(run.DiscoveryOutput, &out); err != nil {
		return false, fault.Wrap(fault.Validation, err, "run %s has no readable discovery output", runID)
	}
	var projects []discovery.Project
	artifacts := 0
	for _, p := range out.Projects {
		if p.ReleaseTriggered {
			projects = append(projects, p)
			artifacts += len(p.Artifacts)
		}
	}
	if len(projects) == 0 {
		return false, nil
	}
	o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Releasing %d project(s): building %d artifact(s)", len(projects), artifacts))
	failures := make([][]string, len(projects))
	errs := make([]error, len(projects))
	var wg sync.WaitGroup
	for i, p := range projects {
		wg.Go(func() {
			failures[i], errs[i] = o.releaseProject(ctx, run, &out, p)
		})
	}
	wg.Wait()
	if ctx.Err() == context.DeadlineExceeded {
		return true, o.overLimit(ctx, runID)
	}
	for _, err := range errs {
		if err != nil {
			return false, o.interrupted(ctx, runID, err)
		}
	}
	var failed []string
	for _, f := range failures {
		failed = append(failed, f...)
	}
	if len(failed) > 0 {
		return true, o.finish(ctx, runID, pipeline.StatusFailed, strings.Join(failed, "; "))
	}
	return o.ended(ctx, runID, nil)
}

// releaseProject builds a project's artifacts, all at once, then, when
// all succeeded, runs its release job; failures say what failed.
func (o *Orchestrator) releaseProject(ctx context.Context, run *pipeline.Run, out *discovery.Output, p discovery.Project) (failures []string, err error) {
	names := slices.Sorted(maps.Keys(p.Artifacts))
	results := make([]artifact.Output, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			results[i], errs[i] = o.buildArtifact(ctx, run, out, p, name)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil || ctx.Err() != nil {
		return nil, err
	}
	outputs := map[string]artifact.Output{}
	for _, r := range results {
		if f := r.Failure(); f != "" {
			failures = append(failures, f)
		}
		outputs[r.Name] = r
	}
	if len(failures) > 0 {
		return failures, nil
	}
	res, err := o.releaseJob(ctx, run, out, p, outputs)
	if err != nil {
		return nil, err
	}
	if res.Failure() != "" {
		return []string{res.Failure()}, nil
	}
	return nil, o.autoDeploy(ctx, run, p, res)
}

// autoDeploy deploys a release the stage made where policies say, and
// reports each deployment. A failed deployment does not fail the run: the
// release exists and can be deployed again; the deployment says why.
func (o *Orchestrator) autoDeploy(ctx context.Context, run *pipeline.Run, p discovery.Project, res ReleaseResult) error {
	if o.AutoDeploy == nil || res.ReleaseID == "" {
		return nil
	}
	ds, err := o.AutoDeploy(ctx, res.ReleaseID)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	for _, d := range ds {
		res.Deployments = append(res.Deployments, Deployed{Environment: d.Environment, Status: string(d.Status), Commit: d.GitOpsCommitSHA, Reason: d.Reason})
		if d.Status == release.DeploymentFailed {
			o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Deploying %s release %d to %s failed: %s", p.Name, d.ReleaseNumber, d.Environment, d.Reason))
		} else {
			o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Deployed %s release %d to %s: GitOps commit %s", p.Name, d.ReleaseNumber, d.Environment, d.GitOpsCommitSHA))
		}
	}
	return o.keep(ctx, ReleaseKey(run.ID, p.Name), res)
}

// releaseJob runs the release job of a project (unless an earlier
// attempt of the run made the release) and keeps its outcome.
func (o *Orchestrator) releaseJob(ctx context.Context, run *pipeline.Run, out *discovery.Output, p discovery.Project, outputs map[string]artifact.Output) (ReleaseResult, error) {
	key := ReleaseKey(run.ID, p.Name)
	var kept ReleaseResult
	if o.Objects != nil && o.kept(ctx, key, &kept) == nil && kept.Failure() == "" {
		return kept, nil
	}
	if out.Commit == nil {
		return ReleaseResult{Project: p.Name, Error: "the run's discovery did not record its commit (a worker older than this platform discovered it); run the commit again"}, nil
	}
	payload, err := json.Marshal(ReleaseJob{RunID: run.ID, Repository: run.Repository, CommitSHA: run.CommitSHA,
		Project: p, Commit: *out.Commit, Artifacts: outputs})
	if err != nil {
		return ReleaseResult{}, fault.Wrap(fault.Internal, err, "writing the release job of %s", p.Name)
	}
	o.report(ctx, run, ports.StatusPhase, "Releasing "+p.Name)
	res, err := o.Jobs.Dispatch(ctx, job.Job{ID: releaseJobID(run, p.Name), Type: job.TypeRelease, RunID: run.ID,
		Payload: payload, Timeout: orDefault(o.ReleaseTimeout, DefaultReleaseTimeout)})
	if err != nil {
		if ctx.Err() != nil {
			return ReleaseResult{}, nil
		}
		return ReleaseResult{}, err
	}
	result := ReleaseResult{Project: p.Name}
	if res.Error != "" {
		result.Error = res.Error
	} else if err := json.Unmarshal(res.Payload, &result); err != nil {
		result.Error = "its worker's answer could not be read"
	}
	if result.Failure() == "" {
		o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Released %s: release %d (%s) at %s@%s",
			p.Name, result.Number, strings.Join(result.Aliases, ", "), result.Reference, result.Digest))
	}
	return result, o.keep(ctx, key, result)
}

// keep stores v as JSON at key, when the orchestrator keeps outcomes.
func (o *Orchestrator) keep(ctx context.Context, key string, v any) error {
	if o.Objects == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fault.Wrap(fault.Internal, err, "writing %s", key)
	}
	_, err = o.Objects.Put(ctx, key, bytes.NewReader(b), ports.PutOptions{ContentType: "application/json"})
	return err
}

// kept reads the JSON kept at key into v.
func (o *Orchestrator) kept(ctx context.Context, key string, v any) error {
	rc, _, err := o.Objects.Get(ctx, key, 0)
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}

// buildArtifact runs one artifact job (unless an earlier attempt of the
// run built it) and keeps its outcome.
func (o *Orchestrator) buildArtifact(ctx context.Context, run *pipeline.Run, out *discovery.Output, p discovery.Project, name string) (artifact.Output, error) {
	key := ArtifactKey(run.ID, p.Name, name)
	var previous *artifact.Output
	if o.Objects != nil {
		var kept artifact.Output
		if err := o.kept(ctx, key, &kept); err == nil && kept.Failure() == "" {
			return kept, nil
		} else if err == nil {
			previous = &kept
		}
	}
	payload, err := json.Marshal(ArtifactJob{RunID: run.ID, Repository: run.Repository, CommitSHA: run.CommitSHA,
		Project: p.Name, Path: p.Path, Name: name, Artifact: p.Artifacts[name], Publishers: out.Repository.Publishers, Previous: previous})
	if err != nil {
		return artifact.Output{}, fault.Wrap(fault.Internal, err, "writing the artifact job of %s of %s", name, p.Name)
	}
	res, err := o.Jobs.Dispatch(ctx, job.Job{ID: artifactJobID(run, p.Name, name), Type: job.TypeArtifact, RunID: run.ID,
		Payload: payload, Timeout: orDefault(o.ArtifactTimeout, DefaultArtifactTimeout)})
	if err != nil {
		if ctx.Err() != nil {
			return artifact.Output{}, nil
		}
		return artifact.Output{}, err
	}
	result := artifact.Output{Name: name, Project: p.Name}
	if res.Error != "" {
		result.Error = res.Error
	} else if err := json.Unmarshal(res.Payload, &result); err != nil {
		result.Error = "its worker's answer could not be read"
	}
	return result, o.keep(ctx, key, result)
}
