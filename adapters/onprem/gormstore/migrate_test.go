package gormstore_test

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/domain/fault"
)

// allMigrations are the embedded migrations, in order.
var allMigrations = []string{"0001_initial", "0002_alias_kinds", "0003_deployment_failures", "0004_deployment_resumption", "0005_github_context"}

func TestMigrateAppliesOnceOnAFreshDatabase(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)

		current, pending, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatalf("SchemaStatus: %v", err)
		}
		if current != "" || !reflect.DeepEqual(pending, allMigrations) {
			t.Fatalf("SchemaStatus before Migrate = %q, %v; want \"\", %v", current, pending, allMigrations)
		}

		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if !reflect.DeepEqual(applied, allMigrations) {
			t.Fatalf("first Migrate applied %v, want %v", applied, allMigrations)
		}
		applied, err = s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Fatalf("second Migrate applied %v, want nothing", applied)
		}

		current, pending, err = s.SchemaStatus(ctx)
		if err != nil {
			t.Fatalf("SchemaStatus: %v", err)
		}
		if last := allMigrations[len(allMigrations)-1]; current != last || len(pending) != 0 {
			t.Fatalf("SchemaStatus after Migrate = %q, %v; want %s, none", current, pending, last)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Migrate: %v", err)
		}
	})
}

func TestCheckSchemaNamesTheMigrateCommand(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		err := s.CheckSchema(context.Background())
		if !fault.Is(err, fault.Unavailable) {
			t.Fatalf("CheckSchema on an unmigrated database = %v, want Unavailable", err)
		}
		want := "the database schema is out of date (pending: " + strings.Join(allMigrations, ", ") + "); run: forge-api migrate --database " + gormstore.RedactDSN(dsn)
		if err.Error() != want {
			t.Fatalf("CheckSchema message:\n got %s\nwant %s", err.Error(), want)
		}
	})
}

func TestCheckSchemaRedactsThePassword(t *testing.T) {
	u, err := url.Parse(freshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	// Trust auth ignores the password; the message must not repeat it.
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	s := open(t, u.String())
	err = s.CheckSchema(context.Background())
	if err == nil || contains(err.Error(), "hunter2") || !contains(err.Error(), ":xxxxx@") {
		t.Fatalf("CheckSchema = %v; want the DSN with its password redacted", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		const n = 4
		stores := make([]*gormstore.Store, n)
		for i := range stores {
			stores[i] = open(t, dsn)
		}
		var wg sync.WaitGroup
		applied := make([][]string, n)
		errs := make([]error, n)
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				applied[i], errs[i] = s.Migrate(ctx)
			}()
		}
		wg.Wait()
		total := 0
		for i := range stores {
			if errs[i] != nil {
				t.Fatalf("Migrate %d: %v", i, errs[i])
			}
			total += len(applied[i])
		}
		seen := map[string]int{}
		for _, a := range applied {
			for _, v := range a {
				seen[v]++
			}
		}
		for _, v := range allMigrations {
			if seen[v] != 1 {
				t.Fatalf("concurrent Migrate calls applied %v; want each of %v exactly once", applied, allMigrations)
			}
		}
		if total != len(allMigrations) {
			t.Fatalf("concurrent Migrate calls applied %v; want %v once", applied, allMigrations)
		}
		if err := stores[0].CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema: %v", err)
		}
	})
}
