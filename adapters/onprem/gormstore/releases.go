package gormstore

import (
	"context"
	"errors"
	"strconv"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"gorm.io/gorm"
)

// lockProject serialises, on PostgreSQL, the transactions that number the
// releases of one repository/project: the lock is held until the
// transaction ends, so max+1 never sees a number another creator is about
// to commit. On SQLite write transactions already run one at a time.
func (s *Store) lockProject(tx *gorm.DB, repository, project string) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(? || '/' || ?))", repository, project).Error
	return dbErr(err, "locking the releases of "+repository+"/"+project)
}

// checkAlias validates an alias a caller gives (release.ValidateAlias:
// digits alone are reserved for release numbers).
func checkAlias(a release.Alias) (release.Alias, error) {
	return a, release.ValidateAlias(a)
}

// CreateRelease saves r with the next release number of its project, its
// aliases, trigger and artifacts; idempotent on the triplet. See
// ports.ReleaseStore.
func (s *Store) CreateRelease(ctx context.Context, r *release.Release) (*release.Release, bool, error) {
	if r == nil {
		return nil, false, fault.New(fault.Validation, "no release given")
	}
	for _, f := range [][2]string{{"repository", r.Repository}, {"project", r.Project}, {"commit_sha", r.CommitSHA}} {
		if f[1] == "" {
			return nil, false, &fault.Error{Kind: fault.Validation, Message: f[0] + " must not be empty",
				Details: map[string]any{"field": f[0]}}
		}
	}
	id, err := newID(r.ID, "id")
	if err != nil {
		return nil, false, err
	}
	var runID *string
	if r.PipelineRunID != nil && *r.PipelineRunID != "" {
		v, err := newID(*r.PipelineRunID, "pipeline_run_id")
		if err != nil {
			return nil, false, err
		}
		runID = &v
	}
	if r.Trigger != nil && !r.Trigger.Type.Valid() {
		return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger_type"},
			Message: "trigger_type must be branch_push, tag or manual, got " + strconv.Quote(string(r.Trigger.Type))}
	}
	var extra []release.Alias
	for _, a := range r.Aliases {
		a, err := checkAlias(a)
		if err != nil {
			return nil, false, err
		}
		if a.Type == release.AliasNumeric {
			continue // the store gives every release its numeric alias
		}
		extra = append(extra, a)
	}
	for _, a := range r.Artifacts {
		if a.Name == "" {
			return nil, false, &fault.Error{Kind: fault.Validation, Message: "artifact_name must not be empty",
				Details: map[string]any{"field": "artifact_name"}}
		}
		if a.Type != "" && !a.Type.Valid() {
			return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "artifact_type"},
				Message: "artifact_type must be container, binary or archive, got " + strconv.Quote(string(a.Type))}
		}
	}

	name := r.Triplet().String()
	what := "creating release " + name
	var out *release.Release
	created := false
	err = s.write(ctx, what, func(tx *gorm.DB) error {
		created = false
		if err := s.lockProject(tx, r.Repository, r.Project); err != nil {
			return err
		}
		var existing releaseRow
		err := tx.Where("repository = ? AND project = ? AND commit_sha = ?", r.Repository, r.Project, r.CommitSHA).Take(&existing).Error
		if err == nil {
			out, err = s.loadRelease(tx, existing.ID)
			return err
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return dbErr(err, what)
		}
		var last int
		if err := tx.Raw("SELECT COALESCE(MAX(release_number), 0) FROM releases WHERE repository = ? AND project = ?",
			r.Repository, r.Project).Scan(&last).Error; err != nil {
			return dbErr(err, "numbering "+name)
		}
		number := last + 1
		row := releaseRow{ID: id, Repository: r.Repository, Project: r.Project, CommitSHA: r.CommitSHA, Number: number,
			PipelineRunID: runID, OCIURI: r.OCIURI, OCIDigest: r.OCIDigest, CreatedAt: s.orNow(r.CreatedAt), CreatedBy: r.CreatedBy}
		if err := tx.Create(&row).Error; err != nil {
			return dbErr(err, what)
		}
		if t := r.Trigger; t != nil {
			trow := triggerRow{ReleaseID: id, Type: string(t.Type), Branch: nullString(t.Branch), Tag: nullString(t.Tag),
				TriggeredBy: t.TriggeredBy, TriggeredAt: s.orNow(t.TriggeredAt)}
			if err := tx.Create(&trow).Error; err != nil {
				return dbErr(err, "saving the trigger of "+name)
			}
		}
		if len(r.Artifacts) > 0 {
			rows := make([]artifactRow, len(r.Artifacts))
			for i, a := range r.Artifacts {
				aid, err := newID(a.ID, "artifact id")
				if err != nil {
					return err
				}
				at := row.CreatedAt
				if !a.CreatedAt.IsZero() {
					at = dbTime(a.CreatedAt)
				}
				rows[i] = artifactRow{ID: aid, ReleaseID: id, Name: a.Name, Type: string(a.Type), TrackingOCIURI: a.TrackingOCIURI,
					TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI, CreatedAt: at}
			}
			if err := tx.Create(&rows).Error; err != nil {
				return dbErr(err, "saving the artifacts of "+name)
			}
		}
		aliases := []release.Alias{release.NumericAlias(number)}
		seen := map[string]bool{aliases[0].Alias: true}
		for _, a := range extra {
			if !seen[a.Alias] {
				seen[a.Alias] = true
				aliases = append(aliases, a)
			}
		}
		for _, a := range aliases {
			if err := s.insertAlias(tx, row, a); err != nil {
				return err
			}
		}
		out, err = s.loadRelease(tx, id)
		created = err == nil
		return err
	})
	if err == nil {
		return out, created, nil
	}
	if !fault.Is(err, fault.Conflict) {
		return nil, false, err
	}
	// A creator this transaction did not wait for (another store on the
	// same SQLite file, say) may have won the triplet.
	var existing releaseRow
	if gerr := s.read(ctx).Where("repository = ? AND project = ? AND commit_sha = ?", r.Repository, r.Project, r.CommitSHA).
		Take(&existing).Error; gerr != nil {
		return nil, false, err
	}
	got, gerr := s.GetRelease(ctx, existing.ID)
	if gerr != nil {
		return nil, false, gerr
	}
	return got, false, nil
}

// insertAlias gives rel the alias a: nothing when rel has it already;
// Conflict when rel has its text as another kind, or another release of
// the project has it as the same kind. Aliases are unique per kind
// (release.AliasPrecedence says why and how an identifier resolves).
func (s *Store) insertAlias(tx *gorm.DB, rel releaseRow, a release.Alias) error {
	if a.Type == release.AliasNumeric && a.Alias != strconv.Itoa(rel.Number) {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "alias_type"},
			Message: "a numeric alias must be the release's number (" + strconv.Itoa(rel.Number) + "), got " + strconv.Quote(a.Alias)}
	}
	var own []aliasRow
	if err := tx.Where("release_id = ? AND alias = ?", rel.ID, a.Alias).Limit(1).Find(&own).Error; err != nil {
		return dbErr(err, "reading alias "+a.Alias)
	}
	if len(own) > 0 {
		if own[0].Type == string(a.Type) {
			return nil
		}
		return &fault.Error{Kind: fault.Conflict, Details: map[string]any{"alias": a.Alias, "alias_type": own[0].Type},
			Message: "release " + strconv.Itoa(rel.Number) + " of " + rel.Repository + "/" + rel.Project +
				" already has alias " + strconv.Quote(a.Alias) + " as a " + own[0].Type + " alias"}
	}
	var taken []aliasRow
	if err := tx.Where("repository = ? AND project = ? AND alias_type = ? AND alias = ?", rel.Repository, rel.Project, string(a.Type), a.Alias).
		Limit(1).Find(&taken).Error; err != nil {
		return dbErr(err, "reading alias "+a.Alias)
	}
	if len(taken) > 0 {
		var other releaseRow
		_ = tx.Where("id = ?", taken[0].ReleaseID).Take(&other).Error
		return &fault.Error{Kind: fault.Conflict, Details: map[string]any{"alias": a.Alias, "alias_type": string(a.Type), "release_id": taken[0].ReleaseID},
			Message: string(a.Type) + " alias " + strconv.Quote(a.Alias) + " already names release " + strconv.Itoa(other.Number) +
				" of " + rel.Repository + "/" + rel.Project}
	}
	id, err := newID("", "alias id")
	if err != nil {
		return err
	}
	row := aliasRow{ID: id, ReleaseID: rel.ID, Repository: rel.Repository, Project: rel.Project, Alias: a.Alias, Type: string(a.Type)}
	if err := tx.Create(&row).Error; err != nil {
		return dbErr(err, "saving alias "+a.Alias)
	}
	return nil
}

// GetRelease returns a release with its aliases, trigger and artifacts.
func (s *Store) GetRelease(ctx context.Context, id string) (*release.Release, error) {
	return s.loadRelease(s.read(ctx), id)
}

func (s *Store) loadRelease(db *gorm.DB, id string) (*release.Release, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "release %q not found", id)
	}
	rels, err := s.findReleases(db, "id = ?", key)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fault.New(fault.NotFound, "release %s not found", id)
	}
	return &rels[0], nil
}

// findReleases reads the releases matching where, newest number first,
// with their aliases, triggers and artifacts.
func (s *Store) findReleases(db *gorm.DB, where string, args ...any) ([]release.Release, error) {
	var rows []releaseRow
	if err := db.Where(where, args...).Order("release_number DESC").Find(&rows).Error; err != nil {
		return nil, dbErr(err, "reading releases")
	}
	return s.withDetails(db, rows)
}

// withDetails converts release rows and loads what hangs off them.
func (s *Store) withDetails(db *gorm.DB, rows []releaseRow) ([]release.Release, error) {
	out := make([]release.Release, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	index := make(map[string]int, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		ids[i] = r.ID
		index[r.ID] = i
	}
	var aliases []aliasRow
	if err := db.Where("release_id IN ?", ids).Order("seq").Find(&aliases).Error; err != nil {
		return nil, dbErr(err, "reading release aliases")
	}
	for _, a := range aliases {
		i := index[a.ReleaseID]
		out[i].Aliases = append(out[i].Aliases, a.domain())
	}
	var artifacts []artifactRow
	if err := db.Where("release_id IN ?", ids).Order("seq").Find(&artifacts).Error; err != nil {
		return nil, dbErr(err, "reading release artifacts")
	}
	for _, a := range artifacts {
		i := index[a.ReleaseID]
		out[i].Artifacts = append(out[i].Artifacts, a.domain())
	}
	var triggers []triggerRow
	if err := db.Where("release_id IN ?", ids).Find(&triggers).Error; err != nil {
		return nil, dbErr(err, "reading release triggers")
	}
	for _, t := range triggers {
		out[index[t.ReleaseID]].Trigger = t.domain()
	}
	return out, nil
}

// ListReleases returns the releases of a project, newest number first.
func (s *Store) ListReleases(ctx context.Context, repository, project string, page ports.Page) ([]release.Release, int, error) {
	page = page.Normalize()
	db := s.read(ctx)
	var total int64
	if err := db.Model(&releaseRow{}).Where("repository = ? AND project = ?", repository, project).Count(&total).Error; err != nil {
		return nil, 0, dbErr(err, "counting releases")
	}
	var rows []releaseRow
	if err := db.Where("repository = ? AND project = ?", repository, project).Order("release_number DESC").
		Limit(page.Limit).Offset(page.Offset).Find(&rows).Error; err != nil {
		return nil, 0, dbErr(err, "listing releases")
	}
	out, err := s.withDetails(db, rows)
	if err != nil {
		return nil, 0, err
	}
	return out, int(total), nil
}

// AddAlias gives a release one more alias; see ports.ReleaseStore.
func (s *Store) AddAlias(ctx context.Context, releaseID string, a release.Alias) error {
	a, err := checkAlias(a)
	if err != nil {
		return err
	}
	key, ok := lookupID(releaseID)
	if !ok {
		return fault.New(fault.NotFound, "release %q not found", releaseID)
	}
	return s.write(ctx, "adding alias "+a.Alias, func(tx *gorm.DB) error {
		var rel releaseRow
		if err := tx.Where("id = ?", key).Take(&rel).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "release %s not found", releaseID)
		} else if err != nil {
			return dbErr(err, "reading release "+releaseID)
		}
		return s.insertAlias(tx, rel, a)
	})
}

// FindRelease returns a finder over one project's releases for
// release.Resolve. It reads through s, so inside InTx it sees the
// transaction.
func (s *Store) FindRelease(repository, project string) release.Finder {
	return finder{s: s, repository: repository, project: project}
}

type finder struct {
	s                   *Store
	repository, project string
}

func (f finder) name() string { return f.repository + "/" + f.project }

// ByAlias returns the releases of the project that have alias, of any
// kind (one per kind at most), newest number first.
func (f finder) ByAlias(ctx context.Context, alias string) ([]*release.Release, error) {
	db := f.s.read(ctx)
	var ids []string
	if err := db.Model(&aliasRow{}).Where("repository = ? AND project = ? AND alias = ?", f.repository, f.project, alias).
		Pluck("release_id", &ids).Error; err != nil {
		return nil, dbErr(err, "finding alias "+alias)
	}
	if len(ids) == 0 {
		return nil, fault.New(fault.NotFound, "no release of %s has alias %q", f.name(), alias)
	}
	rels, err := f.s.findReleases(db, "id IN ?", ids)
	if err != nil {
		return nil, err
	}
	out := make([]*release.Release, len(rels))
	for i := range rels {
		out[i] = &rels[i]
	}
	return out, nil
}

// ByNumber returns the release of the project with number n.
func (f finder) ByNumber(ctx context.Context, n int) (*release.Release, error) {
	rels, err := f.s.findReleases(f.s.read(ctx), "repository = ? AND project = ? AND release_number = ?", f.repository, f.project, n)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fault.New(fault.NotFound, "%s has no release %d", f.name(), n)
	}
	return &rels[0], nil
}

// BySHAPrefix returns every release of the project whose commit starts
// with prefix (compared exactly, whatever the database's LIKE does with
// case), or NotFound.
func (f finder) BySHAPrefix(ctx context.Context, prefix string) ([]*release.Release, error) {
	if prefix == "" {
		return nil, fault.New(fault.NotFound, "no commit prefix given")
	}
	rels, err := f.s.findReleases(f.s.read(ctx), "repository = ? AND project = ? AND substr(commit_sha, 1, ?) = ?",
		f.repository, f.project, len(prefix), prefix)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fault.New(fault.NotFound, "no release of %s has a commit starting %q", f.name(), prefix)
	}
	out := make([]*release.Release, len(rels))
	for i := range rels {
		out[i] = &rels[i]
	}
	// Oldest first reads better in a list of candidates.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// SetReleaseImage records a release's image digest, once; see
// ports.ReleaseStore.
func (s *Store) SetReleaseImage(ctx context.Context, releaseID, digest string) (*release.Release, error) {
	key, ok := lookupID(releaseID)
	if !ok {
		return nil, fault.New(fault.NotFound, "release %q not found", releaseID)
	}
	var got *release.Release
	err := s.write(ctx, "recording the image of release "+releaseID, func(tx *gorm.DB) error {
		rel, err := s.loadRelease(tx, key)
		if err != nil {
			return err
		}
		had := rel.OCIDigest
		if err := rel.SetImage(digest); err != nil {
			return err
		}
		if had == "" {
			// Only an empty digest is replaced, so that two writers
			// racing cannot both win.
			res := tx.Model(&releaseRow{}).Where("id = ? AND oci_digest = ''", key).Update("oci_digest", digest)
			if res.Error != nil {
				return dbErr(res.Error, "recording the image of release "+releaseID)
			}
			if res.RowsAffected == 0 {
				return fault.New(fault.Conflict, "the image of release %s was recorded meanwhile; try again", releaseID)
			}
		}
		got = rel
		return nil
	})
	return got, err
}

// RunReleases returns the releases a pipeline run created, by project.
func (s *Store) RunReleases(ctx context.Context, runID string) ([]release.Release, error) {
	key, ok := lookupID(runID)
	if !ok {
		return []release.Release{}, nil
	}
	db := s.read(ctx)
	var rows []releaseRow
	if err := db.Where("pipeline_run_id = ?", key).Order("project").Find(&rows).Error; err != nil {
		return nil, dbErr(err, "reading the releases of run "+runID)
	}
	return s.withDetails(db, rows)
}
