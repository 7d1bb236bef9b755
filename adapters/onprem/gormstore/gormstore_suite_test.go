package gormstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/conformance/storetest"
	"github.com/catalyst-forge/forge/ports"
)

func TestGormstoreConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gormstore")
}

// SQLite: a fresh, migrated database file per spec.
var _ = storetest.Describe("gormstore/sqlite", func() (ports.Store, func()) {
	dir, err := os.MkdirTemp("", "gormstore-conformance-")
	Expect(err).NotTo(HaveOccurred())
	s, err := gormstore.Open(context.Background(), "sqlite://"+filepath.Join(dir, "forge.db"))
	Expect(err).NotTo(HaveOccurred())
	_, err = s.Migrate(context.Background())
	Expect(err).NotTo(HaveOccurred())
	return s, func() { _ = os.RemoveAll(dir) }
})

// PostgreSQL: one database for the run, created and migrated before the
// specs and dropped after them, its tables truncated before every spec.
var _ = func() bool {
	if os.Getenv(postgresEnv) == "" {
		return Describe("Store conformance: gormstore/postgres", func() {
			It("runs against PostgreSQL", func() { Skip(skipPostgres) }) // set FORGE_TEST_POSTGRES_DSN
		})
	}
	return storetest.Describe("gormstore/postgres", conformancePostgres)
}()

// pgSuite is the run's PostgreSQL database, when there is one.
var pgSuite struct {
	dsn string
	db  *sql.DB
}

var _ = BeforeSuite(func() {
	if os.Getenv(postgresEnv) == "" {
		return
	}
	ctx := context.Background()
	dsn, drop, err := createDatabase()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if pgSuite.db != nil {
			_ = pgSuite.db.Close()
		}
		Expect(drop()).To(Succeed(), "dropping the conformance database")
	})
	s, err := gormstore.Open(ctx, dsn)
	Expect(err).NotTo(HaveOccurred())
	_, err = s.Migrate(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Close()).To(Succeed())
	pgSuite.dsn = dsn
	pgSuite.db, err = sql.Open("pgx", dsn)
	Expect(err).NotTo(HaveOccurred())
})

// conformanceTables are the tables a spec may fill, emptied before each.
var conformanceTables = []string{
	"repositories", "pipeline_runs", "phase_executions", "task_executions", "step_executions",
	"releases", "release_aliases", "release_triggers", "release_artifacts", "release_approvals", "deployments",
}

func conformancePostgres() (ports.Store, func()) {
	ctx := context.Background()
	Expect(pgSuite.db).NotTo(BeNil(), "BeforeSuite made no database")
	_, err := pgSuite.db.ExecContext(ctx, "TRUNCATE "+strings.Join(conformanceTables, ", ")+" RESTART IDENTITY CASCADE")
	Expect(err).NotTo(HaveOccurred())
	s, err := gormstore.Open(ctx, pgSuite.dsn)
	Expect(err).NotTo(HaveOccurred())
	return s, nil
}
