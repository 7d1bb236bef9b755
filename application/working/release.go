package working

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/rendering"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// Releaser is what a worker needs to make releases: the platform to
// register them with, the registry client for a host, and the key their
// images are signed with.
type Releaser struct {
	Releases ports.ReleaseRegistrar
	// Registry returns a client of the registry at host, authenticated as
	// the worker's configuration says.
	Registry func(ctx context.Context, host string) (ports.Registry, error)
	// Signer signs release images; nil leaves them unsigned.
	Signer *signing.Signer
}

// release renders a project's resources with its artifacts' outputs,
// registers the release (which gives it its number and aliases), builds
// its Release OCI image, pushes it to the release's OCI URI, signs it and
// records its digest. A release registered by an earlier attempt is
// finished (its image pushed, its digest recorded); one whose digest is
// recorded already is returned as it is, pushing nothing. What the user
// can fix (a reference without an output, an image that differs from the
// one recorded) is the result's Error; what went wrong on the way
// (registry or platform unreachable) fails the job, to run again.
func (w *Worker) release(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	if w.Releaser == nil {
		return nil, fault.New(fault.Validation, "this worker does not make releases")
	}
	var rj orchestrating.ReleaseJob
	if err := json.Unmarshal(d.Job.Payload, &rj); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading release job %s", d.Job.ID)
	}
	res, err := w.Releaser.Make(ctx, &rj)
	if err != nil {
		if fault.Is(err, fault.Validation) || fault.Is(err, fault.Conflict) {
			return json.Marshal(orchestrating.ReleaseResult{Project: rj.Project.Name, Error: err.Error()})
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, w.userError(d.Job.ID, err, "making the release of %s failed", rj.Project.Name)
	}
	return json.Marshal(res)
}

// Make makes the release a release job describes, as a worker does (see
// release); forge release create calls it for a release without a run.
// Errors: Validation and Conflict for what the user can fix, others for
// what may pass.
func (r *Releaser) Make(ctx context.Context, rj *orchestrating.ReleaseJob) (*orchestrating.ReleaseResult, error) {
	outputs := rendering.Outputs{}
	for name, o := range rj.Artifacts {
		outputs[name] = o.View()
	}
	rendered, err := rendering.Render(rj.Project.Config(), outputs, rendering.Options{})
	if err != nil {
		return nil, err
	}
	resources, err := rendering.YAML(rendered.Resources)
	if err != nil {
		return nil, err
	}
	reg := ports.ReleaseRegistration{PipelineRunID: rj.RunID, Tag: rj.Tag, Repository: rj.Repository, Project: rj.Project.Name, CommitSHA: rj.CommitSHA}
	var tracked []packaging.Tracked
	for _, name := range slices.Sorted(maps.Keys(rj.Artifacts)) {
		o := rj.Artifacts[name]
		if o.Tracking == nil {
			return nil, fault.New(fault.Validation, "artifact %s of %s has no tracking image", name, rj.Project.Name)
		}
		reg.Artifacts = append(reg.Artifacts, release.Artifact{Name: name, Type: release.ArtifactType(o.Type),
			TrackingOCIURI: o.Tracking.URI, TrackingOCIDigest: o.Tracking.Digest, PrimaryPublishedURI: primaryURI(o)})
		tracked = append(tracked, packaging.Tracked{Name: name, Type: o.Type, TrackingURI: o.Tracking.URI, TrackingDigest: o.Tracking.Digest})
	}
	got, created, err := r.Releases.RegisterRelease(ctx, reg)
	if err != nil {
		return nil, err
	}
	res := &orchestrating.ReleaseResult{Project: got.Project, ReleaseID: got.ID, Number: got.Number, Aliases: aliasNames(got.Aliases),
		Reference: got.OCIURI, Digest: got.OCIDigest, Created: created}
	if got.OCIDigest != "" {
		return res, nil // released before: nothing new is pushed
	}
	img, err := packaging.Build(packaging.Release{
		Repository: got.Repository, Project: got.Project, Number: got.Number, Aliases: res.Aliases,
		Trigger:   trigger(got.Trigger),
		Source:    packaging.Source{Commit: rj.Commit.SHA, Time: rj.Commit.Time, Author: rj.Commit.Author, Message: rj.Commit.Message},
		Artifacts: tracked, Resources: resources, Summary: packaging.Summarize(rendered.Resources),
	})
	if err != nil {
		return nil, err
	}
	host, _, _ := strings.Cut(got.OCIURI, "/")
	registry, err := r.Registry(ctx, host)
	if err != nil {
		return nil, err
	}
	present, err := packaging.Push(ctx, registry, got.OCIURI, img, r.Signer)
	if err != nil {
		return nil, err
	}
	if _, err := r.Releases.SetReleaseImage(ctx, got.ID, string(img.Digest)); err != nil {
		return nil, err
	}
	res.Digest, res.Pushed = string(img.Digest), !present
	return res, nil
}

// primaryURI is the uri of the artifact's first publisher (by name)
// that has one: where users find the artifact.
func primaryURI(o artifact.Output) string {
	for _, name := range slices.Sorted(maps.Keys(o.Publishers)) {
		if uri, ok := o.Publishers[name].Fields["uri"].(string); ok && uri != "" {
			return uri
		}
	}
	return ""
}

// aliasNames lists a release's aliases, its number first.
func aliasNames(aliases []release.Alias) []string {
	out := make([]string, 0, len(aliases))
	for _, a := range aliases {
		out = append(out, a.Alias)
	}
	return out
}

// trigger is what a release image says of its trigger.
func trigger(t *release.Trigger) packaging.Trigger {
	if t == nil {
		return packaging.Trigger{Type: "manual"}
	}
	kind := string(t.Type)
	if t.Type == release.TriggerBranchPush {
		kind = "branch"
	}
	return packaging.Trigger{Type: kind, Branch: t.Branch, Tag: t.Tag}
}
