package releasing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

var (
	ci  = &identity.Principal{Subject: "ci", Roles: []identity.Role{identity.RoleServiceAccount}}
	dev = &identity.Principal{Subject: "alice", Roles: []identity.Role{identity.RoleDeveloper}}
)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

// registered returns a memstore where acme/mono is registered.
func registered(t *testing.T) *memstore.Store {
	t.Helper()
	store := memstore.New()
	if _, _, err := store.CreateRepository(context.Background(), &repository.Repository{Name: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	return store
}

func TestCreateAndGet(t *testing.T) {
	store := registered(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	svc := &releasing.Service{Store: store, Clock: func() time.Time { return now }, Registry: "registry.example.com/"}
	ctx := context.Background()
	run, _, err := store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", Branch: "main", CommitSHA: sha('a'), Status: pipeline.StatusRunning, CreatedAt: now, StartedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	r1, created, err := svc.Create(ctx, ci, releasing.CreateRequest{PipelineRunID: run.ID, Repository: "acme/mono", Project: "api", CommitSHA: sha('a'),
		Artifacts: []releasing.ArtifactInput{{Name: "api", Type: "container", TrackingOCIURI: "reg/track:a", PrimaryPublishedURI: "reg/api:a"}}})
	if err != nil || !created || r1.Number != 1 {
		t.Fatalf("create = %+v, %v, %v", r1, created, err)
	}
	if r1.OCIURI != "registry.example.com/acme/mono/api:"+sha('a') || r1.Trigger.Type != release.TriggerBranchPush || r1.Trigger.Branch != "main" {
		t.Errorf("release = %+v trigger %+v", r1, r1.Trigger)
	}
	r2, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('b'),
		Trigger: &releasing.TriggerInput{Type: release.TriggerTag, Tag: "api/v1.2.3"}})
	if err != nil || r2.Number != 2 {
		t.Fatalf("second = %+v, %v", r2, err)
	}
	again, created, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('a')})
	if err != nil || created || again.ID != r1.ID {
		t.Fatalf("same triplet = %+v, %v, %v", again, created, err)
	}
	for id, want := range map[string]*release.Release{"main-1": r1, "v1.2.3": r2, "2": r2, "1": r1, sha('b')[:7]: r2} {
		got, err := svc.Get(ctx, dev, "acme/mono", "api", id)
		if err != nil || got.ID != want.ID {
			t.Errorf("Get(%q) = %v, %v; want release %d", id, got, err, want.Number)
		}
	}
	if _, err := svc.Get(ctx, dev, "acme/mono", "web", "1"); !fault.Is(err, fault.NotFound) {
		t.Errorf("another project's release = %v", err)
	}
	list, total, err := svc.List(ctx, dev, "acme/mono", "api", ports.Page{Limit: 1})
	if err != nil || total != 2 || len(list) != 1 || list[0].Number != 2 {
		t.Errorf("list = %+v (total %d), %v", list, total, err)
	}
}

func TestCreateRefusals(t *testing.T) {
	store := registered(t)
	svc := &releasing.Service{Store: store}
	ctx := context.Background()
	good := releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('c')}
	cases := []struct {
		name  string
		who   *identity.Principal
		edit  func(*releasing.CreateRequest)
		kind  fault.Kind
		field string
	}{
		{"developer", dev, func(*releasing.CreateRequest) {}, fault.PermissionDenied, ""},
		{"bad project", ci, func(r *releasing.CreateRequest) { r.Project = "API" }, fault.Validation, "project"},
		{"unknown run", ci, func(r *releasing.CreateRequest) { r.PipelineRunID = "nope" }, fault.Validation, "pipeline_run_id"},
		{"artifact without name", ci, func(r *releasing.CreateRequest) {
			r.Artifacts = []releasing.ArtifactInput{{Type: "binary", TrackingOCIURI: "x"}}
		}, fault.Validation, "artifacts[0].name"},
		{"artifact twice", ci, func(r *releasing.CreateRequest) {
			a := releasing.ArtifactInput{Name: "a", Type: "binary", TrackingOCIURI: "x"}
			r.Artifacts = []releasing.ArtifactInput{a, a}
		}, fault.Validation, "artifacts[1].name"},
		{"artifact type", ci, func(r *releasing.CreateRequest) {
			r.Artifacts = []releasing.ArtifactInput{{Name: "a", Type: "wheel", TrackingOCIURI: "x"}}
		}, fault.Validation, "artifacts[0].type"},
		{"tag trigger without tag", ci, func(r *releasing.CreateRequest) { r.Trigger = &releasing.TriggerInput{Type: release.TriggerTag} }, fault.Validation, "trigger.tag"},
		{"unknown trigger", ci, func(r *releasing.CreateRequest) { r.Trigger = &releasing.TriggerInput{Type: "cron"} }, fault.Validation, "trigger.type"},
		{"unregistered repository", ci, func(r *releasing.CreateRequest) { r.Repository = "acme/other" }, fault.Validation, "repository"},
	}
	for _, c := range cases {
		req := good
		c.edit(&req)
		_, _, err := svc.Create(ctx, c.who, req)
		var fe *fault.Error
		if fault.KindOf(err) != c.kind {
			t.Errorf("%s: %v, want %s", c.name, err, c.kind)
			continue
		}
		if c.field != "" {
			if e, ok := err.(*fault.Error); ok {
				fe = e
			}
			if fe == nil || fe.Details["field"] != c.field {
				t.Errorf("%s: %v names field %v, want %s", c.name, err, fe.Details["field"], c.field)
			}
		}
	}
}

// TestCreateNeedsARegisteredRepository checks that releases, like runs,
// are refused for a repository that was never registered, and that nothing
// is stored then.
func TestCreateNeedsARegisteredRepository(t *testing.T) {
	store := registered(t)
	svc := &releasing.Service{Store: store, Clock: time.Now}
	ctx := context.Background()
	_, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/unknown", Project: "api", CommitSHA: sha('d')})
	if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "repository acme/unknown is not registered") {
		t.Fatalf("release of an unregistered repository: %v", err)
	}
	if _, n, err := store.ListReleases(ctx, "acme/unknown", "api", ports.Page{}); err != nil || n != 0 {
		t.Errorf("releases stored: %d, %v", n, err)
	}
	if _, created, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('d')}); err != nil || !created {
		t.Errorf("release of a registered repository: %v, %v", created, err)
	}
}

// TestTriggerNamesAndTheirAliases checks that a branch or tag that git
// allows gives a release (branch aliases are made safe), that one git
// refuses is a 422 naming the trigger's field, and that a tag that cannot
// be an alias is refused naming trigger.tag, not an "alias" field the
// request does not have.
func TestTriggerNamesAndTheirAliases(t *testing.T) {
	store := registered(t)
	svc := &releasing.Service{Store: store, Clock: time.Now}
	ctx := context.Background()
	n := 0
	create := func(tr releasing.TriggerInput) (*release.Release, error) {
		n++
		r, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api",
			CommitSHA: strings.Repeat(string(rune('a'+n%6)), 39) + string(rune('0'+n%10)), Trigger: &tr})
		return r, err
	}
	for branch, alias := range map[string]string{"fix-#12": "fix--12-", "100%": "100--", strings.Repeat("b", 255): strings.Repeat("b", 100)} {
		r, err := create(releasing.TriggerInput{Type: release.TriggerBranchPush, Branch: branch})
		if err != nil {
			t.Errorf("branch %.20q: %v", branch, err)
			continue
		}
		found := false
		for _, a := range r.Aliases {
			found = found || (a.Type == release.AliasBranch && strings.HasPrefix(a.Alias, alias))
		}
		if !found {
			t.Errorf("branch %.20q gave aliases %+v", branch, r.Aliases)
		}
	}
	for _, c := range []struct {
		tr    releasing.TriggerInput
		field string
	}{
		{releasing.TriggerInput{Type: release.TriggerBranchPush, Branch: "a b"}, "trigger.branch"},
		{releasing.TriggerInput{Type: release.TriggerBranchPush, Branch: "feature..x"}, "trigger.branch"},
		{releasing.TriggerInput{Type: release.TriggerBranchPush, Branch: strings.Repeat("b", 256)}, "trigger.branch"},
		{releasing.TriggerInput{Type: release.TriggerTag, Tag: "v1\x01"}, "trigger.tag"},
		{releasing.TriggerInput{Type: release.TriggerTag, Tag: "3"}, "trigger.tag"},
		{releasing.TriggerInput{Type: release.TriggerTag, Tag: "api/42"}, "trigger.tag"},
		{releasing.TriggerInput{Type: release.TriggerTag, Tag: "v" + strings.Repeat("1", 200)}, "trigger.tag"},
		{releasing.TriggerInput{Type: release.TriggerManual, Tag: "x:y"}, "trigger.tag"},
	} {
		_, err := create(c.tr)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Validation || fe.Details["field"] != c.field {
			t.Errorf("%+.40v: %v; want a validation error naming %s", c.tr, err, c.field)
		}
	}
	if r, err := create(releasing.TriggerInput{Type: release.TriggerTag, Tag: "api/v1#rc1"}); err != nil || r.Aliases[1].Alias != "v1-rc1" {
		t.Errorf("tag api/v1#rc1 = %+v, %v", r, err)
	}
}

// TestLookupsByNumberOrTagAreKeptBriefly: a release found by its number or
// a tag is answered from memory for LookupCacheTTL, so a change made
// elsewhere (another replica setting its image) shows once that has
// passed, and at once when made through this service; a lookup by a
// branch alias or a commit prefix, which a later release could answer,
// always reads the store.
func TestLookupsByNumberOrTagAreKeptBriefly(t *testing.T) {
	store := registered(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	svc := &releasing.Service{Store: store, Clock: func() time.Time { return now }}
	ctx := context.Background()
	r1, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('a'),
		Trigger: &releasing.TriggerInput{Type: release.TriggerTag, Tag: "api/v1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('b'),
		Trigger: &releasing.TriggerInput{Type: release.TriggerBranchPush, Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	digest := func(id string) string {
		t.Helper()
		got, err := svc.Get(ctx, dev, "acme/mono", "api", id)
		if err != nil {
			t.Fatal(err)
		}
		return got.OCIDigest
	}
	for _, id := range []string{"v1.0.0", "1", "main-2", sha('b')[:8]} {
		if d := digest(id); d != "" {
			t.Fatalf("Get(%q) has digest %q before any image", id, d)
		}
	}
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	// Another replica records the images: the store changes, this
	// service's memory does not.
	for id, d := range map[string]string{r1.ID: d1, r2.ID: d2} {
		if _, err := store.SetReleaseImage(ctx, id, d); err != nil {
			t.Fatal(err)
		}
	}
	if d := digest("v1.0.0"); d != "" {
		t.Errorf("Get(v1.0.0) = %q within the time to live; want the kept answer", d)
	}
	if d := digest("main-2"); d != d2 {
		t.Errorf("Get(main-2), a branch alias, = %q; want %q from the store", d, d2)
	}
	if d := digest(sha('b')[:8]); d != d2 {
		t.Errorf("Get(commit prefix) = %q; want %q from the store", d, d2)
	}
	now = now.Add(releasing.DefaultLookupCacheTTL)
	if d := digest("v1.0.0"); d != d1 {
		t.Errorf("Get(v1.0.0) = %q once the time to live passed; want %q", d, d1)
	}

	// Through this service, a change drops the kept answer at once.
	r3, _, err := svc.Create(ctx, ci, releasing.CreateRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha('c'),
		Trigger: &releasing.TriggerInput{Type: release.TriggerTag, Tag: "api/v1.1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := digest("3"); d != "" {
		t.Fatalf("Get(3) = %q before its image", d)
	}
	d3 := "sha256:" + strings.Repeat("3", 64)
	if _, err := svc.SetImage(ctx, ci, r3.ID, d3); err != nil {
		t.Fatal(err)
	}
	if d := digest("3"); d != d3 {
		t.Errorf("Get(3) = %q right after SetImage; want %q", d, d3)
	}

	off := &releasing.Service{Store: store, Clock: func() time.Time { return now }, LookupCacheTTL: -1}
	if got, err := off.Get(ctx, dev, "acme/mono", "api", "v1.1.0"); err != nil || got.OCIDigest != d3 {
		t.Errorf("with the cache off: %+v, %v", got, err)
	}
}
