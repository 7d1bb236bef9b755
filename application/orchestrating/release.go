package orchestrating

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// ArtifactKey is where the outcome of an artifact of a run is kept, for
// the release that renders it and for whoever looks at the run.
func ArtifactKey(runID, project, name string) string {
	return fmt.Sprintf("pipeline-runs/%s/artifacts/%s/%s.json", runID, project, name)
}

// artifactJobID names the artifact job of project's artifact name in a
// run: the same on every attempt, so a retried dispatch is not queued
// twice.
func artifactJobID(runID, project, name string) string {
	sum := sha256.Sum256([]byte(project + "\x00" + name))
	return runID + "-artifact-" + hex.EncodeToString(sum[:8])
}

// Release is the release stage of a run whose phase groups all
// succeeded: every artifact of every release-triggered project is built,
// published and tracked, all at once, by artifact jobs; their outcomes
// are kept in the object store (ArtifactKey). Projects are independent:
// one project's failure does not stop another's artifacts, and the run
// fails naming every artifact that failed. ended says the run has ended
// (failed here, or cancelled meanwhile); a resumed run reuses the
// outcomes kept by an earlier attempt.
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
	type item struct {
		project discovery.Project
		name    string
	}
	var items []item
	for _, p := range out.Projects {
		if !p.ReleaseTriggered {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(p.Artifacts)) {
			items = append(items, item{p, name})
		}
	}
	if len(items) == 0 {
		return false, nil
	}
	o.report(ctx, run, ports.StatusPhase, fmt.Sprintf("Building %d artifacts", len(items)))
	failures := make([]string, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() {
			failures[i], errs[i] = o.buildArtifact(ctx, run, &out, it.project, it.name)
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
		if f != "" {
			failed = append(failed, f)
		}
	}
	if len(failed) > 0 {
		return true, o.finish(ctx, runID, pipeline.StatusFailed, strings.Join(failed, "; "))
	}
	return o.ended(ctx, runID, nil)
}

// buildArtifact runs one artifact job (unless an earlier attempt of the
// run built it) and keeps its outcome; failure says why it failed.
func (o *Orchestrator) buildArtifact(ctx context.Context, run *pipeline.Run, out *discovery.Output, p discovery.Project, name string) (failure string, err error) {
	key := ArtifactKey(run.ID, p.Name, name)
	var previous *artifact.Output
	if o.Objects != nil {
		if kept, err := o.keptArtifact(ctx, key); err == nil && kept.Failure() == "" {
			return "", nil
		} else if err == nil {
			previous = kept
		}
	}
	payload, err := json.Marshal(ArtifactJob{RunID: run.ID, Repository: run.Repository, CommitSHA: run.CommitSHA,
		Project: p.Name, Path: p.Path, Name: name, Artifact: p.Artifacts[name], Publishers: out.Repository.Publishers, Previous: previous})
	if err != nil {
		return "", fault.Wrap(fault.Internal, err, "writing the artifact job of %s of %s", name, p.Name)
	}
	res, err := o.Jobs.Dispatch(ctx, job.Job{ID: artifactJobID(run.ID, p.Name, name), Type: job.TypeArtifact, RunID: run.ID,
		Payload: payload, Timeout: orDefault(o.ArtifactTimeout, DefaultArtifactTimeout)})
	if err != nil {
		if ctx.Err() != nil {
			return "", nil
		}
		return "", err
	}
	result := artifact.Output{Name: name, Project: p.Name}
	if res.Error != "" {
		result.Error = res.Error
	} else if err := json.Unmarshal(res.Payload, &result); err != nil {
		result.Error = "its worker's answer could not be read"
	}
	if o.Objects != nil {
		b, _ := json.Marshal(result)
		if _, err := o.Objects.Put(ctx, key, bytes.NewReader(b), ports.PutOptions{ContentType: "application/json"}); err != nil {
			return "", err
		}
	}
	return result.Failure(), nil
}

func (o *Orchestrator) keptArtifact(ctx context.Context, key string) (*artifact.Output, error) {
	rc, _, err := o.Objects.Get(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var kept artifact.Output
	if err := json.NewDecoder(rc).Decode(&kept); err != nil {
		return nil, err
	}
	return &kept, nil
}
