package memstore

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

type releaseRecord struct {
	rel release.Release // with its aliases, trigger and artifacts
	seq uint64
}

type tripletKey = release.Triplet

type projectKey struct{ repository, project string }

// aliasKey is an alias of one kind: a project's aliases are unique per
// kind (release.AliasPrecedence says why).
type aliasKey struct {
	kind  release.AliasType
	alias string
}

// projectReleases indexes the releases of one repository/project.
type projectReleases struct {
	last     int                 // highest release number given
	byNumber map[int]string      // number → release ID
	aliases  map[aliasKey]string // alias of a kind → release ID
}

func (p *projectReleases) clone() *projectReleases {
	c := &projectReleases{last: p.last, byNumber: map[int]string{}, aliases: map[aliasKey]string{}}
	copyMap(c.byNumber, p.byNumber)
	copyMap(c.aliases, p.aliases)
	return c
}

// CreateRelease implements ports.ReleaseStore.
func (v view) CreateRelease(_ context.Context, r *release.Release) (got *release.Release, created bool, err error) {
	err = v.do(func(st *state) error {
		got, created, err = st.createRelease(r)
		return err
	})
	return got, created, err
}

// GetRelease implements ports.ReleaseStore.
func (v view) GetRelease(_ context.Context, id string) (got *release.Release, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.releases[id]
		if !ok {
			return notFound("release", id)
		}
		got = cloneRelease(&rec.rel)
		return nil
	})
	return got, err
}

// FindRelease implements ports.ReleaseStore.
func (v view) FindRelease(repository, project string) release.Finder {
	return finder{view: v, key: projectKey{repository, project}}
}

// ListReleases implements ports.ReleaseStore.
func (v view) ListReleases(_ context.Context, repository, project string, p ports.Page) (out []release.Release, total int, err error) {
	err = v.do(func(st *state) error {
		out = []release.Release{}
		proj, ok := st.projects[projectKey{repository, project}]
		if !ok {
			return nil
		}
		numbers := make([]int, 0, len(proj.byNumber))
		for n := range proj.byNumber {
			numbers = append(numbers, n)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(numbers)))
		total = len(numbers)
		for _, n := range paginate(numbers, p) {
			out = append(out, *cloneRelease(&st.releases[proj.byNumber[n]].rel))
		}
		return nil
	})
	return out, total, err
}

// AddAlias implements ports.ReleaseStore.
func (v view) AddAlias(_ context.Context, releaseID string, a release.Alias) error {
	return v.do(func(st *state) error {
		rec, ok := st.releases[releaseID]
		if !ok {
			return notFound("release", releaseID)
		}
		if err := checkAlias(a); err != nil {
			return err
		}
		if a.Type == release.AliasNumeric && a.Alias != strconv.Itoa(rec.rel.Number) {
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "alias_type"},
				Message: "a numeric alias must be the release's number (" + strconv.Itoa(rec.rel.Number) + "), got " + strconv.Quote(a.Alias)}
		}
		proj := st.projects[projectKey{rec.rel.Repository, rec.rel.Project}]
		for _, have := range rec.rel.Aliases {
			if have.Alias == a.Alias && have.Type == a.Type {
				return nil
			}
			if have.Alias == a.Alias {
				return sameTextConflict(a, have.Type, rec.rel.Number)
			}
		}
		if owner, taken := proj.aliases[aliasKey{a.Type, a.Alias}]; taken {
			return aliasConflict(a, st.releases[owner].rel.Number)
		}
		a.ID, a.ReleaseID = uuid.NewString(), releaseID
		rec.rel.Aliases = append(rec.rel.Aliases, a)
		proj.aliases[aliasKey{a.Type, a.Alias}] = releaseID
		return nil
	})
}

// finder implements release.Finder for one repository/project.
type finder struct {
	view view
	key  projectKey
}

// ByAlias implements release.Finder: the releases with alias, one per
// kind at most, in release.AliasPrecedence's order.
func (f finder) ByAlias(_ context.Context, alias string) (got []*release.Release, err error) {
	err = f.view.do(func(st *state) error {
		if proj, ok := st.projects[f.key]; ok {
			for _, kind := range release.AliasPrecedence {
				if id, ok := proj.aliases[aliasKey{kind, alias}]; ok {
					got = append(got, cloneRelease(&st.releases[id].rel))
				}
			}
		}
		if len(got) == 0 {
			return fault.New(fault.NotFound, "no release of %s/%s has alias %q", f.key.repository, f.key.project, alias)
		}
		return nil
	})
	return got, err
}

// ByNumber implements release.Finder.
func (f finder) ByNumber(_ context.Context, number int) (got *release.Release, err error) {
	err = f.view.do(func(st *state) error {
		if proj, ok := st.projects[f.key]; ok {
			if id, ok := proj.byNumber[number]; ok {
				got = cloneRelease(&st.releases[id].rel)
				return nil
			}
		}
		return fault.New(fault.NotFound, "%s/%s has no release %d", f.key.repository, f.key.project, number)
	})
	return got, err
}

// BySHAPrefix implements release.Finder; releases come by number.
func (f finder) BySHAPrefix(_ context.Context, prefix string) (got []*release.Release, err error) {
	err = f.view.do(func(st *state) error {
		if proj, ok := st.projects[f.key]; ok {
			numbers := make([]int, 0, len(proj.byNumber))
			for n := range proj.byNumber {
				numbers = append(numbers, n)
			}
			sort.Ints(numbers)
			for _, n := range numbers {
				rel := &st.releases[proj.byNumber[n]].rel
				if strings.HasPrefix(rel.CommitSHA, prefix) {
					got = append(got, cloneRelease(rel))
				}
			}
		}
		if len(got) == 0 {
			return fault.New(fault.NotFound, "no release of %s/%s has a commit starting with %q", f.key.repository, f.key.project, prefix)
		}
		return nil
	})
	return got, err
}

func (st *state) createRelease(r *release.Release) (*release.Release, bool, error) {
	if r == nil || r.Repository == "" || r.Project == "" || r.CommitSHA == "" {
		return nil, false, fault.New(fault.Validation, "a release needs a repository, a project and a commit")
	}
	if id, ok := st.releaseKeys[r.Triplet()]; ok {
		return cloneRelease(&st.releases[id].rel), false, nil
	}

	in := cloneRelease(r)
	if in.Trigger != nil && !in.Trigger.Type.Valid() {
		return nil, false, fault.New(fault.Validation, "%q is not a release trigger type", in.Trigger.Type)
	}
	names := map[string]bool{}
	for i := range in.Artifacts {
		a := &in.Artifacts[i]
		if !a.Type.Valid() {
			return nil, false, fault.New(fault.Validation, "artifact %q: %q is not container, binary or archive", a.Name, a.Type)
		}
		if names[a.Name] {
			return nil, false, fault.New(fault.Conflict, "artifact %q appears twice", a.Name)
		}
		names[a.Name] = true
	}

	key := projectKey{in.Repository, in.Project}
	proj, ok := st.projects[key]
	if !ok {
		proj = &projectReleases{byNumber: map[int]string{}, aliases: map[aliasKey]string{}}
	}
	in.Number = proj.last + 1
	aliases := []release.Alias{release.NumericAlias(in.Number)}
	seen := map[string]bool{aliases[0].Alias: true}
	for _, a := range in.Aliases {
		if err := checkAlias(a); err != nil {
			return nil, false, err
		}
		if seen[a.Alias] || a.Type == release.AliasNumeric {
			continue // the store gives every release its numeric alias
		}
		seen[a.Alias] = true
		aliases = append(aliases, a)
	}
	for _, a := range aliases {
		if owner, taken := proj.aliases[aliasKey{a.Type, a.Alias}]; taken {
			return nil, false, aliasConflict(a, st.releases[owner].rel.Number)
		}
	}
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if _, taken := st.releases[in.ID]; taken {
		return nil, false, fault.New(fault.Conflict, "release ID %q is taken", in.ID)
	}

	for i := range aliases {
		aliases[i].ID, aliases[i].ReleaseID = uuid.NewString(), in.ID
		proj.aliases[aliasKey{aliases[i].Type, aliases[i].Alias}] = in.ID
	}
	in.Aliases = aliases
	for i := range in.Artifacts {
		if in.Artifacts[i].ID == "" {
			in.Artifacts[i].ID = uuid.NewString()
		}
		in.Artifacts[i].ReleaseID = in.ID
	}
	proj.last = in.Number
	proj.byNumber[in.Number] = in.ID
	st.projects[key] = proj
	st.releases[in.ID] = &releaseRecord{rel: *in, seq: st.next()}
	st.releaseKeys[in.Triplet()] = in.ID
	return cloneRelease(in), true, nil
}

func checkAlias(a release.Alias) error { return release.ValidateAlias(a) }

func aliasConflict(a release.Alias, number int) error {
	return &fault.Error{Kind: fault.Conflict,
		Message: string(a.Type) + " alias \"" + a.Alias + "\" already names release " + strconv.Itoa(number) + " of the project",
		Details: map[string]any{"alias": a.Alias, "alias_type": string(a.Type)}}
}

// sameTextConflict refuses a second alias with the same text on one
// release (spec 06: (release_id, alias) is unique).
func sameTextConflict(a release.Alias, have release.AliasType, number int) error {
	return &fault.Error{Kind: fault.Conflict,
		Message: "release " + strconv.Itoa(number) + " already has alias \"" + a.Alias + "\" as a " + string(have) + " alias",
		Details: map[string]any{"alias": a.Alias, "alias_type": string(have)}}
}

// SetReleaseImage implements ports.ReleaseStore.
func (v view) SetReleaseImage(_ context.Context, releaseID, digest string) (got *release.Release, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.releases[releaseID]
		if !ok {
			return notFound("release", releaseID)
		}
		if err := rec.rel.SetImage(digest); err != nil {
			return err
		}
		got = cloneRelease(&rec.rel)
		return nil
	})
	return got, err
}

// RunReleases implements ports.ReleaseStore.
func (v view) RunReleases(_ context.Context, runID string) (out []release.Release, err error) {
	err = v.do(func(st *state) error {
		out = []release.Release{}
		for _, rec := range st.releases {
			if rec.rel.PipelineRunID != nil && *rec.rel.PipelineRunID == runID {
				out = append(out, *cloneRelease(&rec.rel))
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
		return nil
	})
	return out, err
}
