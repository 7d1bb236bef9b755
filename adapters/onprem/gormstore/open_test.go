package gormstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/domain/fault"
)

func TestOpenRejectsUnknownDSNs(t *testing.T) {
	cases := []struct {
		name, dsn string
	}{
		{"empty", ""},
		{"no scheme", "/var/lib/forge/forge.db"},
		{"mysql", "mysql://root:hunter2@localhost/forge"},
		{"http", "http://example.com/db"},
		{"sqlite without slashes", "sqlite:forge.db"},
		{"sqlite without a path", "sqlite://"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := gormstore.Open(context.Background(), c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.dsn)
			}
			if !fault.Is(err, fault.Validation) {
				t.Fatalf("Open(%q) = %v, want a Validation error", c.dsn, err)
			}
			if contains(err.Error(), "hunter2") {
				t.Fatalf("Open(%q) repeats the password: %v", c.dsn, err)
			}
			if !contains(err.Error(), "sqlite") {
				t.Fatalf("Open(%q) = %q; want the accepted forms named", c.dsn, err)
			}
		})
	}
	_, err := gormstore.Open(context.Background(), "mysql://root:hunter2@localhost/forge")
	if !contains(err.Error(), gormstore.AcceptedDSNs) || !contains(err.Error(), `"mysql"`) {
		t.Fatalf("unknown scheme: %q; want the scheme and %q", err, gormstore.AcceptedDSNs)
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := map[string]string{
		// Nothing listens on port 1 of the loopback address.
		"postgres": "postgres://forge:hunter2@127.0.0.1:1/forge?sslmode=disable&connect_timeout=2",
		"sqlite":   "sqlite://" + filepath.Join(t.TempDir(), "no", "such", "dir", "forge.db"),
	}
	for name, dsn := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := gormstore.Open(ctx, dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !fault.Is(err, fault.Unavailable) {
				t.Fatalf("Open = %v, want Unavailable", err)
			}
			if contains(err.Error(), "hunter2") {
				t.Fatalf("Open repeats the password: %v", err)
			}
		})
	}
}

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	a := migrated(t, "sqlite::memory:")
	b := open(t, "sqlite::memory:")
	if err := a.CheckSchema(ctx); err != nil {
		t.Fatalf("migrated memory database: %v", err)
	}
	// Each Open of sqlite::memory: gets a database of its own.
	if err := b.CheckSchema(ctx); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("second memory database CheckSchema = %v, want Unavailable (unmigrated)", err)
	}
}

func TestOpenRelativeSQLitePath(t *testing.T) {
	t.Chdir(t.TempDir())
	s := migrated(t, "sqlite://data.db")
	if err := s.CheckSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob("data.db"); len(m) != 1 {
		t.Fatalf("sqlite://data.db did not create data.db in the working directory")
	}
	// The write-ahead log is on while the store is open.
	if m, _ := filepath.Glob("data.db-wal"); len(m) != 1 {
		t.Fatalf("no data.db-wal beside data.db: the database is not in WAL mode")
	}
}

func TestRedactDSN(t *testing.T) {
	cases := map[string]string{
		"postgres://forge:hunter2@db:5432/forge?sslmode=disable": "postgres://forge:xxxxx@db:5432/forge?sslmode=disable",
		"postgresql://forge@db/forge":                            "postgresql://forge@db/forge",
		"postgres://db/forge?password=hunter2&sslmode=require":   "postgres://db/forge?password=xxxxx&sslmode=require",
		"sqlite:///var/lib/forge/forge.db":                       "sqlite:///var/lib/forge/forge.db",
		"sqlite::memory:":                                        "sqlite::memory:",
		"mysql://root:hunter2@localhost/forge":                   "(unparsable DSN)",
	}
	for in, want := range cases {
		if got := gormstore.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
