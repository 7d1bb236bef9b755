package gormstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver, to build a database at 0001

	"github.com/catalyst-forge/forge/domain/release"
)

// TestMigration0002KeepsAliases builds a database at 0001_initial with
// releases and aliases (and a hole in the alias rows), applies
// 0002_alias_kinds and checks that every alias survived in its order, that
// new aliases sort after the old ones, and that a tag may now share the
// text of a branch alias.
func TestMigration0002KeepsAliases(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dialect, driver, source := "postgres", "pgx", dsn
		if strings.HasPrefix(dsn, "sqlite://") {
			dialect, driver, source = "sqlite", "sqlite", strings.TrimPrefix(dsn, "sqlite://")+"?_pragma=foreign_keys(1)"
		}
		initial, err := os.ReadFile(filepath.Join("migrations", dialect, "0001_initial.sql"))
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open(driver, source)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{string(initial),
			`CREATE TABLE schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("building the 0001 database: %v", err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ('0001_initial', CURRENT_TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}

		s := open(t, dsn)
		if _, pending, err := s.SchemaStatus(ctx); err != nil || strings.Join(pending, ",") != "0002_alias_kinds,0003_deployment_failures,0004_deployment_resumption,0005_github_context" {
			t.Fatalf("pending = %v, %v; want 0002 to 0004", pending, err)
		}
		mk := func(c string, aliases ...release.Alias) *release.Release {
			t.Helper()
			r, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: strings.Repeat(c, 40),
				CreatedAt: time.Now(), CreatedBy: "ci", Aliases: aliases})
			if err != nil {
				t.Fatalf("release %s: %v", c, err)
			}
			return r
		}
		r1 := mk("a", release.BranchAlias("main", 1))
		r2 := mk("b", release.Alias{Alias: "v1", Type: release.AliasTag}, release.Alias{Alias: "gone", Type: release.AliasCustom})
		r3 := mk("c", release.BranchAlias("main", 3), release.Alias{Alias: "last", Type: release.AliasCustom})
		// A hole in the middle and at the end of the rows.
		if _, err := db.ExecContext(ctx, `DELETE FROM release_aliases WHERE alias IN ('gone', 'last')`); err != nil {
			t.Fatal(err)
		}
		// The bug of 0001: this tag was a conflict with main-3.
		if _, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: strings.Repeat("d", 40),
			Aliases: []release.Alias{{Alias: "main-3", Type: release.AliasTag}}}); err == nil {
			t.Fatal("0001 accepted a tag main-3 next to the branch alias main-3; the test no longer shows the bug")
		}

		if applied, err := s.Migrate(ctx); err != nil || strings.Join(applied, ",") != "0002_alias_kinds,0003_deployment_failures,0004_deployment_resumption,0005_github_context" {
			t.Fatalf("Migrate = %v, %v", applied, err)
		}
		for _, want := range []struct {
			r       *release.Release
			aliases string
		}{{r1, "1,main-1"}, {r2, "2,v1"}, {r3, "3,main-3"}} {
			got, err := s.GetRelease(ctx, want.r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if names := aliasTexts(got.Aliases); names != want.aliases {
				t.Errorf("release %d aliases after 0002 = %s, want %s", got.Number, names, want.aliases)
			}
		}
		if err := s.AddAlias(ctx, r1.ID, release.Alias{Alias: "stable", Type: release.AliasCustom}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRelease(ctx, r1.ID)
		if err != nil || aliasTexts(got.Aliases) != "1,main-1,stable" {
			t.Fatalf("release 1 after AddAlias = %v, %v", got, err)
		}
		rows, err := db.QueryContext(ctx, `SELECT alias, seq FROM release_aliases ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var order []string
		seqs := map[int64]bool{}
		for rows.Next() {
			var a string
			var seq int64
			if err := rows.Scan(&a, &seq); err != nil {
				t.Fatal(err)
			}
			if seqs[seq] {
				t.Errorf("seq %d is given twice", seq)
			}
			seqs[seq] = true
			order = append(order, a)
		}
		if got := strings.Join(order, ","); got != "1,main-1,2,v1,3,main-3,stable" {
			t.Errorf("aliases by seq = %s; the new alias must come last", got)
		}
		tag, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: strings.Repeat("d", 40),
			Aliases: []release.Alias{{Alias: "main-3", Type: release.AliasTag}}})
		if err != nil || aliasTexts(tag.Aliases) != "4,main-3" {
			t.Fatalf("tag main-3 after 0002 = %v, %v", tag, err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func aliasTexts(as []release.Alias) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Alias
	}
	return strings.Join(out, ",")
}
