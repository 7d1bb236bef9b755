package working_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// registrar registers releases in memory, numbering them as the platform
// would and keeping the image digest once set.
type registrar struct {
	mu       sync.Mutex
	releases map[string]*release.Release // by project
	down     bool
}

func (r *registrar) RegisterRelease(_ context.Context, reg ports.ReleaseRegistration) (*release.Release, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return nil, false, fault.New(fault.Unavailable, "the API is not answering")
	}
	if got, ok := r.releases[reg.Project]; ok {
		c := *got
		return &c, false, nil
	}
	rel := &release.Release{ID: "rel-" + reg.Project, Repository: reg.Repository, Project: reg.Project, CommitSHA: reg.CommitSHA, Number: 1,
		OCIURI:    "releases.test/" + reg.Repository + "/" + reg.Project + ":" + reg.CommitSHA,
		Trigger:   &release.Trigger{Type: release.TriggerBranchPush, Branch: "main"},
		Aliases:   []release.Alias{release.NumericAlias(1), release.BranchAlias("main", 1)},
		Artifacts: reg.Artifacts}
	r.releases[reg.Project] = rel
	c := *rel
	return &c, true, nil
}

func (r *registrar) SetReleaseImage(_ context.Context, id, digest string) (*release.Release, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rel := range r.releases {
		if rel.ID == id {
			if err := rel.SetImage(digest); err != nil {
				return nil, err
			}
			c := *rel
			return &c, nil
		}
	}
	return nil, fault.New(fault.NotFound, "no release %s", id)
}

type releaseEnv struct {
	w   *working.Worker
	reg *memregistry.Registry
	rr  *registrar
}

func newReleaseEnv() *releaseEnv {
	e := &releaseEnv{reg: memregistry.New(), rr: &registrar{releases: map[string]*release.Release{}}}
	e.w = &working.Worker{Releaser: &working.Releaser{Releases: e.rr,
		Registry: func(context.Context, string) (ports.Registry, error) { return e.reg, nil }}}
	return e
}

// releaseJob is hello-api's release job: a Deployment whose image is the
// published URI of its image artifact.
func releaseJob(field string) orchestrating.ReleaseJob {
	commit := strings.Repeat("c", 40)
	return orchestrating.ReleaseJob{RunID: "run1", Repository: "acme/mono", CommitSHA: commit,
		Project: discovery.Project{Name: "hello-api", Path: "services/api", File: "services/api/.forge/project.cue",
			ArtifactRefs: []config.ArtifactRef{{Ref: "image." + field, Artifact: "image", Field: field,
				Path: "deployment.resources[0].spec.image", Pos: config.Position{File: "services/api/.forge/project.cue", Line: 12}}},
			Resources: []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api"},
				"spec": map[string]any{"image": "", "replicas": float64(2)}}}},
		Commit: discovery.Commit{SHA: commit, Time: time.Unix(1700000000, 0).UTC(), Author: "Ada <ada@acme.test>", Message: "ship"},
		Artifacts: map[string]artifact.Output{"image": {Name: "image", Project: "hello-api", Type: "container",
			Producer:   map[string]any{"digest": "sha256:" + strings.Repeat("a", 64)},
			Publishers: map[string]artifact.Publication{"docker": {Type: "docker", Status: artifact.Published, Fields: map[string]any{"uri": "r.test/api@sha256:aa"}}},
			Tracking:   &artifact.Tracking{URI: "r.test/tracking/api:sha-c", Digest: "sha256:" + strings.Repeat("b", 64)}}},
	}
}

func (e *releaseEnv) handle(t *testing.T, rj orchestrating.ReleaseJob) (orchestrating.ReleaseResult, error) {
	t.Helper()
	payload, _ := json.Marshal(rj)
	b, err := e.w.Handle(context.Background(), &ports.Delivery{Job: job.Job{ID: "run1-release-x", Type: job.TypeRelease, Payload: payload, Timeout: time.Minute}, Attempt: 1})
	var res orchestrating.ReleaseResult
	if err == nil {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
	}
	return res, err
}

func TestReleaseJobRegistersPushesAndRecordsTheImage(t *testing.T) {
	e := newReleaseEnv()
	res, err := e.handle(t, releaseJob("publishers.docker.uri"))
	if err != nil || res.Error != "" {
		t.Fatalf("%+v %v", res, err)
	}
	rel := e.rr.releases["hello-api"]
	if !res.Created || !res.Pushed || res.Digest == "" || rel.OCIDigest != res.Digest || res.Reference != rel.OCIURI ||
		strings.Join(res.Aliases, ",") != "1,main-1" {
		t.Fatalf("result %+v, release %+v", res, rel)
	}
	if len(rel.Artifacts) != 1 || rel.Artifacts[0].PrimaryPublishedURI != "r.test/api@sha256:aa" || rel.Artifacts[0].TrackingOCIURI != "r.test/tracking/api:sha-c" {
		t.Errorf("registered artifacts %+v", rel.Artifacts)
	}
	ctx := context.Background()
	if d, err := e.reg.Resolve(ctx, rel.OCIURI); err != nil || string(d.Digest) != res.Digest {
		t.Fatalf("%s = %v %v", rel.OCIURI, d.Digest, err)
	}
	if y := resourcesOf(t, e.reg, rel.OCIURI); !strings.Contains(y, "image: r.test/api@sha256:aa") || !strings.Contains(y, "replicas: 2") {
		t.Errorf("resources:\n%s", y)
	}

	// Again: the release exists with its image; nothing new is pushed.
	again, err := e.handle(t, releaseJob("publishers.docker.uri"))
	if err != nil || again.Created || again.Pushed || again.Digest != res.Digest {
		t.Errorf("again: %+v %v", again, err)
	}
}

func TestReleaseJobWithAMissingOutputFailsNamingTheReference(t *testing.T) {
	e := newReleaseEnv()
	res, err := e.handle(t, releaseJob("publishers.helm.uri"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Error, `services/api/.forge/project.cue:12`) || !strings.Contains(res.Error, `image.publishers.helm.uri`) {
		t.Errorf("error %q does not name the file, line and reference", res.Error)
	}
	if len(e.rr.releases) != 0 {
		t.Error("a release that cannot render was registered")
	}
}

func TestReleaseJobRefusesToReplaceAnotherImage(t *testing.T) {
	e := newReleaseEnv()
	if res, err := e.handle(t, releaseJob("publishers.docker.uri")); err != nil || res.Error != "" {
		t.Fatal(res, err)
	}
	// The release is registered again (a lost database, say) and the
	// resources changed: the registry holds another image at the tag.
	e.rr.releases = map[string]*release.Release{}
	rj := releaseJob("publishers.docker.uri")
	rj.Project.Resources[0].(map[string]any)["spec"].(map[string]any)["replicas"] = float64(3)
	res, err := e.handle(t, rj)
	if err != nil || !strings.Contains(res.Error, "holds another release image") {
		t.Errorf("%+v %v", res, err)
	}
}

func TestReleaseJobWhenThePlatformIsDownFailsTheAttempt(t *testing.T) {
	e := newReleaseEnv()
	e.rr.down = true
	if _, err := e.handle(t, releaseJob("publishers.docker.uri")); !fault.Is(err, fault.Unavailable) {
		t.Errorf("err = %v; want the job to fail (and run again), Unavailable", err)
	}
}

// resourcesOf reads resources.yaml out of the release image at ref.
func resourcesOf(t *testing.T, reg ports.Registry, ref string) string {
	t.Helper()
	ctx := context.Background()
	raw, _, err := reg.Manifest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var m oci.Manifest
	if err := json.Unmarshal(raw.Bytes, &m); err != nil || len(m.Layers) != 2 || m.Layers[1].MediaType != packaging.MediaTypeReleaseResource {
		t.Fatalf("manifest %s: %v", raw.Bytes, err)
	}
	repo, _, _ := strings.Cut(ref, ":")
	rc, err := reg.Blob(ctx, repo, m.Layers[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if h, err := tr.Next(); err != nil || h.Name != packaging.ResourcesFile {
		t.Fatalf("resources layer: %v", err)
	}
	b, _ := io.ReadAll(tr)
	return string(b)
}
