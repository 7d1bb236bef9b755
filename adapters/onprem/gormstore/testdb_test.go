package gormstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create and drop test databases
)

// postgresEnv names the variable that points the tests at a PostgreSQL
// server; without it the PostgreSQL tests are skipped.
const postgresEnv = "FORGE_TEST_POSTGRES_DSN"

const skipPostgres = "set " + postgresEnv + " to run against PostgreSQL"

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createDatabase creates a database named forge_test_<random> on the
// server FORGE_TEST_POSTGRES_DSN points at, and returns its DSN (the
// variable's DSN with the database name replaced) and a func that drops
// it. The tests never touch any other database.
func createDatabase() (dsn string, drop func() error, err error) {
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		return "", nil, fmt.Errorf("%s is not set", postgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("%s is not a URL", postgresEnv)
	}
	name := "forge_test_" + randomSuffix()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", nil, fmt.Errorf("creating %s: %w", name, err)
	}
	drop = func() error {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return err
		}
		defer db.Close()
		// FORCE ends the connections a store may still hold.
		_, err = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		return err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// freshPostgres returns the DSN of a new, empty database, dropped when the
// test ends; without FORGE_TEST_POSTGRES_DSN it skips the test.
func freshPostgres(t *testing.T) string {
	t.Helper()
	if os.Getenv(postgresEnv) == "" {
		t.Skip(skipPostgres) // set FORGE_TEST_POSTGRES_DSN
	}
	dsn, drop, err := createDatabase()
	if err != nil {
		t.Fatalf("PostgreSQL test database: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	return dsn
}

// freshSQLite returns the DSN of a new SQLite file in a temp directory.
func freshSQLite(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "forge.db")
}

// dialects runs f once per database: SQLite always, PostgreSQL when
// configured. f receives the DSN of an empty database.
func dialects(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, freshSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, freshPostgres(t)) })
}

// open opens dsn and closes the store when the test ends.
func open(t *testing.T, dsn string) *gormstore.Store {
	t.Helper()
	s, err := gormstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migrated opens dsn and applies the migrations.
func migrated(t *testing.T, dsn string) *gormstore.Store {
	t.Helper()
	s := open(t, dsn)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
