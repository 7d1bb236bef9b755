package gormstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/release"
)

// TestMigration0003KeepsDeployments builds a database at 0002 with a
// release and two deployments, applies 0003_deployment_failures and
// checks that both survived as they were, in their order, and that a
// pending one can now fail with a reason.
func TestMigration0003KeepsDeployments(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dialect, driver, source := "postgres", "pgx", dsn
		if strings.HasPrefix(dsn, "sqlite://") {
			dialect, driver, source = "sqlite", "sqlite", strings.TrimPrefix(dsn, "sqlite://")+"?_pragma=foreign_keys(1)"
		}
		db, err := sql.Open(driver, source)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		queries := []string{`CREATE TABLE schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`}
		for _, v := range []string{"0001_initial", "0002_alias_kinds"} {
			b, err := os.ReadFile(filepath.Join("migrations", dialect, v+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			queries = append(queries, string(b), `INSERT INTO schema_migrations (version, applied_at) VALUES ('`+v+`', CURRENT_TIMESTAMP)`)
		}
		for _, q := range queries {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("building the 0002 database: %v", err)
			}
		}
		s := open(t, dsn)
		r, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: strings.Repeat("a", 40),
			CreatedAt: time.Now(), CreatedBy: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{"0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b01", "0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b02"}
		for i, st := range []string{"active", "pending"} {
			if _, err := db.ExecContext(ctx, `INSERT INTO deployments (id, release_id, repository, project, release_number, environment, status, deployed_at, deployed_by, gitops_commit_sha)
				VALUES ($1, $2, 'acme/mono', 'web', 1, $3, $4, CURRENT_TIMESTAMP, 'alice', $5)`,
				ids[i], r.ID, []string{"dev", "staging"}[i], st, strings.Repeat("b", 40)[:40*(1-i)]); err != nil {
				t.Fatal(err)
			}
		}
		if applied, err := s.Migrate(ctx); err != nil || strings.Join(applied, ",") != "0003_deployment_failures,0004_deployment_resumption,0005_github_context" {
			t.Fatalf("Migrate = %v, %v", applied, err)
		}
		dev, err := s.GetDeployment(ctx, ids[0])
		if err != nil || dev.Status != release.DeploymentActive || dev.GitOpsCommitSHA != strings.Repeat("b", 40) || dev.DeployedBy != "alice" || dev.Environment != "dev" {
			t.Fatalf("dev deployment after 0003 = %+v, %v", dev, err)
		}
		failed, err := s.UpdateDeployment(ctx, ids[1], func(d *release.Deployment) error {
			d.Status, d.Reason = release.DeploymentFailed, "push refused"
			return nil
		})
		if err != nil || failed.Status != release.DeploymentFailed || failed.Reason != "push refused" {
			t.Fatalf("failing the pending deployment = %+v, %v", failed, err)
		}
		var seqs []int64
		rows, err := db.QueryContext(ctx, `SELECT seq FROM deployments ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, n)
		}
		if len(seqs) != 2 || seqs[0] >= seqs[1] {
			t.Errorf("deployment seqs after 0003 = %v; want both, in their order", seqs)
		}
	})
}
