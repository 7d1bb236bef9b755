package gormstore

import (
	"context"
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"gorm.io/gorm"
)

// migrationFiles holds the versioned schema, one folder per dialect. A
// migration's version is its file name without ".sql"; they apply in name
// order and are never edited once released (add a new file instead).
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises
// concurrent Migrate calls ("forge_mg"). It is outside the int4 range of
// the hashtext keys the store takes per project, so they never collide.
const migrationLockKey int64 = 0x666f7267655f6d67

// migration is one embedded schema change.
type migration struct {
	version string
	sql     string
}

// migrations returns the dialect's migrations in order.
func migrations(d dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "reading the embedded %s migrations", d)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fault.Wrap(fault.Internal, err, "reading migration %s", e.Name())
		}
		out = append(out, migration{version: strings.TrimSuffix(e.Name(), ".sql"), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// createMigrationsTable returns the statement that creates the table of
// applied versions when it is missing.
func (s *Store) createMigrationsTable() string {
	if s.dialect == dialectPostgres {
		return `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL)`
}

// Migrate applies the pending migrations in order, each in its own
// transaction together with its row in schema_migrations, and returns the
// versions it applied (none when the schema is current). It is idempotent
// and safe to run from several processes at once: on PostgreSQL each
// transaction first takes an advisory lock, on SQLite BEGIN IMMEDIATE
// serialises them; either way a migration another process applied
// meanwhile is skipped.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	if s.inTx {
		return nil, fault.New(fault.Internal, "Migrate runs its own transactions; call it on the Store, not inside InTx")
	}
	ms, err := migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		var did bool
		err := s.transact(ctx, "applying migration "+m.version, false, func(tx *gorm.DB) error {
			did = false
			if s.dialect == dialectPostgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
					return dbErr(err, "locking the schema for migration")
				}
			}
			if err := tx.Exec(s.createMigrationsTable()).Error; err != nil {
				return dbErr(err, "creating schema_migrations")
			}
			var n int64
			if err := tx.Raw("SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n).Error; err != nil {
				return dbErr(err, "reading schema_migrations")
			}
			if n > 0 {
				return nil
			}
			if err := tx.Exec(m.sql).Error; err != nil {
				return fault.Wrap(fault.Internal, err, "applying migration %s", m.version)
			}
			if err := tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, s.clock()).Error; err != nil {
				return dbErr(err, "recording migration "+m.version)
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// SchemaStatus returns the newest applied migration ("" for none) and the
// embedded migrations not applied yet, in order. It changes nothing.
func (s *Store) SchemaStatus(ctx context.Context) (current string, pending []string, err error) {
	ms, err := migrations(s.dialect)
	if err != nil {
		return "", nil, err
	}
	done, err := s.appliedVersions(ctx)
	if err != nil {
		return "", nil, err
	}
	for v := range done {
		if v > current {
			current = v
		}
	}
	for _, m := range ms {
		if !done[m.version] {
			pending = append(pending, m.version)
		}
	}
	return current, pending, nil
}

// appliedVersions reads schema_migrations; a database without the table
// has applied nothing.
func (s *Store) appliedVersions(ctx context.Context) (map[string]bool, error) {
	db := s.read(ctx)
	var exists int64
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if s.dialect == dialectPostgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	if err := db.Raw(q).Scan(&exists).Error; err != nil {
		return nil, dbErr(err, "reading the schema version")
	}
	done := map[string]bool{}
	if exists == 0 {
		return done, nil
	}
	var versions []string
	if err := db.Raw("SELECT version FROM schema_migrations").Scan(&versions).Error; err != nil {
		return nil, dbErr(err, "reading the schema version")
	}
	for _, v := range versions {
		done[v] = true
	}
	return done, nil
}

// CheckSchema returns nil when every embedded migration is applied, and
// otherwise an Unavailable error that names the pending migrations and the
// command that applies them, so a server refuses to start on an old schema.
func (s *Store) CheckSchema(ctx context.Context) error {
	_, pending, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	return &fault.Error{Kind: fault.Unavailable,
		Message: "the database schema is out of date (pending: " + strings.Join(pending, ", ") +
			"); run: forge-api migrate --database " + s.target.redacted,
		Details: map[string]any{"pending": pending}}
}
