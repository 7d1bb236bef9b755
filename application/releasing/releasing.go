// Package releasing is the use case of releases as the API sees them:
// register a release for a commit of a project (idempotently, with the
// next release number and its aliases), read one by any identifier, and
// list a project's releases. It is in the application layer.
package releasing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultRegistry is where Release OCI images are named when no registry
// is configured: the local profile's embedded registry.
const DefaultRegistry = "localhost:5000"

// DefaultLookupsPerMinute is spec 06's global release lookup limit.
const DefaultLookupsPerMinute = 1000

// Service manages releases.
type Service struct {
	Store  ports.Store
	Clock  ports.Clock
	Events *announcing.Announcer
	// Registry prefixes Release OCI URIs: <registry>/<repository>/<project>:<commit>.
	Registry string
	// Limiter enforces the global release lookup limit; nil disables it.
	Limiter *limiting.Limiter
	// LookupsPerMinute overrides DefaultLookupsPerMinute; negative disables
	// the limit.
	LookupsPerMinute int
	// LookupCacheTTL is how long a release found by a number or a tag is
	// answered from memory (zero: DefaultLookupCacheTTL; negative: never).
	LookupCacheTTL time.Duration

	lookups lookupCache
}

// ArtifactInput describes one built artifact of a new release.
type ArtifactInput struct {
	Name                string
	Type                release.ArtifactType
	TrackingOCIURI      string
	TrackingOCIDigest   string
	PrimaryPublishedURI string
}

// TriggerInput says what created a release; without it a release made by
// a pipeline run is a branch push of the run's branch, and any other is
// manual.
type TriggerInput struct {
	Type   release.TriggerType
	Branch string
	Tag    string
}

// CreateRequest is what a release is created from.
type CreateRequest struct {
	PipelineRunID string
	Repository    string
	Project       string
	CommitSHA     string
	OCIDigest     string
	Artifacts     []ArtifactInput
	Trigger       *TriggerInput
}

// Create registers the release of a triplet, or returns the existing one
// (created=false). New releases get the next number of the project, a
// numeric alias, a tag alias for a tag trigger (the version, without the
// project prefix of monorepo tags) and a branch alias (<branch>-<number>)
// for a branch trigger. The repository must be registered, as for runs.
// Service accounts only.
func (s *Service) Create(ctx context.Context, who *identity.Principal, req CreateRequest) (*release.Release, bool, error) {
	if err := identity.Require(who, identity.PermCreateRelease); err != nil {
		return nil, false, err
	}
	req.Repository = repository.Canonical(req.Repository)
	if err := identity.RequireRepository(who, req.Repository); err != nil {
		return nil, false, err
	}
	tr := release.Triplet{Repository: req.Repository, Project: req.Project, CommitSHA: req.CommitSHA}
	if err := tr.Validate(); err != nil {
		return nil, false, err
	}
	arts, err := artifacts(req.Artifacts)
	if err != nil {
		return nil, false, err
	}
	now := s.Clock.Now()
	var runID *string
	trigger := release.Trigger{Type: release.TriggerManual, TriggeredBy: who.Subject, TriggeredAt: now}
	if req.PipelineRunID != "" {
		run, err := s.Store.GetRun(ctx, req.PipelineRunID)
		if fault.Is(err, fault.NotFound) {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "pipeline_run_id"},
				Message: "pipeline_run_id " + req.PipelineRunID + " names no run"}
		}
		if err != nil {
			return nil, false, err
		}
		if run.Repository != req.Repository || run.CommitSHA != req.CommitSHA {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "pipeline_run_id"},
				Message: "pipeline run " + run.ID + " is for " + run.Repository + "@" + run.CommitSHA + ", not this release's repository and commit"}
		}
		runID = &run.ID
		trigger.Type, trigger.Branch = release.TriggerBranchPush, run.Branch
	}
	if t := req.Trigger; t != nil {
		if !t.Type.Valid() {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger.type"},
				Message: "trigger.type must be branch_push, tag or manual, got " + string(t.Type)}
		}
		if t.Type == release.TriggerTag && t.Tag == "" {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger.tag"}, Message: "a tag trigger needs trigger.tag"}
		}
		if t.Type == release.TriggerBranchPush && t.Branch == "" {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger.branch"}, Message: "a branch_push trigger needs trigger.branch"}
		}
		if err := checkRefName("trigger.branch", t.Branch); err != nil {
			return nil, false, err
		}
		if err := checkRefName("trigger.tag", t.Tag); err != nil {
			return nil, false, err
		}
		trigger.Type, trigger.Branch, trigger.Tag = t.Type, t.Branch, t.Tag
	}
	// Releases, like runs, are only for registered repositories.
	if _, err := s.Store.GetRepository(ctx, req.Repository); fault.Is(err, fault.NotFound) {
		return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "repository"},
			Message: "repository " + req.Repository + " is not registered; an operator registers it with 'forge repo register " + req.Repository + "'"}
	} else if err != nil {
		return nil, false, err
	}
	var aliases []release.Alias
	if trigger.Type == release.TriggerTag {
		a := release.Alias{Alias: tagAlias(req.Project, trigger.Tag), Type: release.AliasTag}
		if err := release.ValidateAlias(a); err != nil {
			return nil, false, validation("trigger.tag", "tag "+strconv.Quote(trigger.Tag)+" cannot name a release: "+err.Error())
		}
		aliases = append(aliases, a)
	}
	r := &release.Release{
		Repository: req.Repository, Project: req.Project, CommitSHA: req.CommitSHA,
		PipelineRunID: runID,
		OCIURI:        s.registry() + "/" + req.Repository + "/" + req.Project + ":" + req.CommitSHA,
		OCIDigest:     req.OCIDigest,
		CreatedAt:     now,
		CreatedBy:     who.Subject,
		Trigger:       &trigger,
		Artifacts:     arts,
		Aliases:       aliases,
	}
	var got *release.Release
	var created bool
	err = s.Store.InTx(ctx, func(tx ports.Tx) error {
		var err error
		got, created, err = tx.CreateRelease(ctx, r)
		if err != nil || !created || trigger.Type != release.TriggerBranchPush || trigger.Branch == "" {
			return err
		}
		a := release.BranchAlias(trigger.Branch, got.Number)
		if err := tx.AddAlias(ctx, got.ID, a); err != nil {
			return err
		}
		got.Aliases = append(got.Aliases, a)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.Events.Announce(ctx, event.ReleaseCreated, map[string]any{
			"release_id": got.ID, "repository": got.Repository, "project": got.Project,
			"commit_sha": got.CommitSHA, "release_number": got.Number,
		})
	}
	return got, created, nil
}

// tagAlias turns a tag into a release alias: "api/v1.2.3" of project api
// becomes "v1.2.3"; in other tags slashes become dashes.
func tagAlias(project, tag string) string {
	if v, ok := strings.CutPrefix(tag, project+"/"); ok && v != "" {
		tag = v
	}
	return release.AliasSafe(tag)
}

// MaxRefLength bounds a branch or tag name, as runs bound their branch.
const MaxRefLength = 255

// checkRefName refuses a branch or tag name (empty is allowed) that git
// would refuse (git check-ref-format: no control characters, spaces,
// '~^:?*[\\', "..", "@{", no leading or trailing '/' and no trailing '.'
// or ".lock") or that is longer than MaxRefLength bytes. Such a name cannot
// have triggered a release, and it would become a release alias.
func checkRefName(field, name string) error {
	bad := func(why string) error {
		return validation(field, field+" "+strconv.Quote(name)+" is not a git branch or tag name: "+why)
	}
	switch {
	case name == "":
		return nil
	case len(name) > MaxRefLength:
		return validation(field, field+" is longer than "+strconv.Itoa(MaxRefLength)+" bytes")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }):
		return bad("it holds a space or a control character")
	case strings.ContainsAny(name, "~^:?*[\\"):
		return bad("it holds one of ~ ^ : ? * [ \\")
	case strings.Contains(name, "..") || strings.Contains(name, "@{") || strings.Contains(name, "//"):
		return bad(`it holds "..", "@{" or "//"`)
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") || strings.HasSuffix(name, ".lock"):
		return bad(`it starts or ends with "/", or ends with "." or ".lock"`)
	}
	return nil
}

func artifacts(in []ArtifactInput) ([]release.Artifact, error) {
	seen := map[string]bool{}
	out := make([]release.Artifact, 0, len(in))
	for i, a := range in {
		field := "artifacts[" + strconv.Itoa(i) + "]"
		switch {
		case a.Name == "":
			return nil, validation(field+".name", "an artifact needs a name")
		case seen[a.Name]:
			return nil, validation(field+".name", "artifact "+a.Name+" is listed twice")
		case !a.Type.Valid():
			return nil, validation(field+".type", "artifact type must be container, binary or archive, got "+string(a.Type))
		case a.TrackingOCIURI == "":
			return nil, validation(field+".tracking_oci_uri", "artifact "+a.Name+" needs its tracking image URI")
		}
		if strings.ContainsAny(a.Name, " /\\") || len(a.Name) > 128 {
			return nil, validation(field+".name", "artifact name "+strconv.Quote(a.Name)+" may not contain spaces or slashes, nor exceed 128 characters")
		}
		seen[a.Name] = true
		out = append(out, release.Artifact{Name: a.Name, Type: a.Type, TrackingOCIURI: a.TrackingOCIURI,
			TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI})
	}
	return out, nil
}

// Get returns the release of a project that identifier names: an alias,
// a release number or a commit prefix (release.Resolve's order). A
// release found by a name it holds for good (a number or a tag) is kept
// for LookupCacheTTL and answered from memory meanwhile; the caller must
// not change what it gets.
func (s *Service) Get(ctx context.Context, who *identity.Principal, repo, project, identifier string) (*release.Release, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	if s.Limiter != nil {
		limit := s.LookupsPerMinute
		if limit == 0 {
			limit = DefaultLookupsPerMinute
		}
		if err := s.Limiter.Allow("release-lookups", limit, "release lookups"); err != nil {
			return nil, err
		}
	}
	repo = repository.Canonical(repo)
	ttl := s.LookupCacheTTL
	if ttl == 0 {
		ttl = DefaultLookupCacheTTL
	}
	key := lookupKey{repo, project, identifier}
	now := s.Clock.Now()
	if ttl > 0 {
		if r := s.lookups.get(key, now); r != nil {
			return r, nil
		}
	}
	r, err := release.Resolve(ctx, s.Store.FindRelease(repo, project), identifier)
	if err == nil && ttl > 0 && release.NamedForGood(r, identifier) {
		s.lookups.put(key, r, now.Add(ttl))
	}
	return r, err
}

// List lists a project's releases, newest first.
func (s *Service) List(ctx context.Context, who *identity.Principal, repo, project string, page ports.Page) ([]release.Release, int, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, 0, err
	}
	return s.Store.ListReleases(ctx, repository.Canonical(repo), project, page.Normalize())
}

func (s *Service) registry() string {
	if s.Registry == "" {
		return DefaultRegistry
	}
	return strings.TrimSuffix(s.Registry, "/")
}

func validation(field, msg string) error {
	return &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": field}}
}

// SetImage records the digest of a release's pushed image, once (see
// ports.ReleaseStore.SetReleaseImage). Service accounts only: the worker
// that registered the release, pushed its image and now records it.
func (s *Service) SetImage(ctx context.Context, who *identity.Principal, id, digest string) (*release.Release, error) {
	if err := identity.Require(who, identity.PermCreateRelease); err != nil {
		return nil, err
	}
	if who.Repository != "" {
		cur, err := s.Store.GetRelease(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := identity.RequireRepository(who, cur.Repository); err != nil {
			return nil, err
		}
	}
	r, err := s.Store.SetReleaseImage(ctx, id, digest)
	if err == nil {
		s.lookups.drop(id)
	}
	return r, err
}

// RunReleases lists the releases a pipeline run created, by project.
func (s *Service) RunReleases(ctx context.Context, who *identity.Principal, runID string) ([]release.Release, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	return s.Store.RunReleases(ctx, runID)
}
