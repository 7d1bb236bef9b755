package gormstore_test

import (
	"context"
	"net/url"
	"reflect"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/domain/fault"
)

func TestMigrateAppliesOnceOnAFreshDatabase(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)

		current, pending, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatalf("SchemaStatus: %v", err)
		}
		if current != "" || !reflect.DeepEqual(pending, []string{"0001_initial"}) {
			t.Fatalf("SchemaStatus before Migrate = %q, %v; want \"\", [0001_initial]", current, pending)
		}

		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if !reflect.DeepEqual(applied, []string{"0001_initial"}) {
			t.Fatalf("first Migrate applied %v, want [0001_initial]", applied)
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
		if current != "0001_initial" || len(pending) != 0 {
			t.Fatalf("SchemaStatus after Migrate = %q, %v; want 0001_initial, none", current, pending)
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
		want := "the database schema is out of date (pending: 0001_initial); run: forge-api migrate --database " + gormstore.RedactDSN(dsn)
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
		if total != 1 {
			t.Fatalf("concurrent Migrate calls applied %v; want 0001_initial exactly once", applied)
		}
		if err := stores[0].CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema: %v", err)
		}
	})
}
