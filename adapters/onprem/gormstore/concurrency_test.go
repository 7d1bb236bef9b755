package gormstore_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// TestConcurrentReleaseNumbering creates releases of one project from 50
// goroutines over two Stores (two pools, as two API replicas would have),
// with some goroutines racing on the same commit: numbers come out 1..N
// with no gap and no duplicate, and a commit gets one release.
func TestConcurrentReleaseNumbering(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		stores := []*gormstore.Store{migrated(t, dsn), open(t, dsn)}
		const goroutines, commits = 50, 40
		results := make([]*release.Release, goroutines)
		created := make([]bool, goroutines)
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		for i := 0; i < goroutines; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := stores[i%len(stores)]
				results[i], created[i], errs[i] = s.CreateRelease(ctx, &release.Release{
					Repository: "acme/mono", Project: "api", CommitSHA: sha(i % commits)})
			}()
		}
		wg.Wait()
		byCommit := map[string]int{}
		nCreated := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			r := results[i]
			if n, ok := byCommit[r.CommitSHA]; ok && n != r.Number {
				t.Fatalf("commit %s got numbers %d and %d", r.CommitSHA, n, r.Number)
			}
			byCommit[r.CommitSHA] = r.Number
			if created[i] {
				nCreated++
			}
		}
		if nCreated != commits {
			t.Fatalf("%d creations reported created=true, want %d (one per commit)", nCreated, commits)
		}
		list, total, err := stores[0].ListReleases(ctx, "acme/mono", "api", ports.Page{Limit: ports.MaxPageLimit})
		if err != nil || total != commits {
			t.Fatalf("ListReleases: %d, %v; want %d releases", total, err, commits)
		}
		numbers := make([]int, len(list))
		for i, r := range list {
			numbers[i] = r.Number
			if len(r.Aliases) != 1 || r.Aliases[0].Type != release.AliasNumeric {
				t.Fatalf("release %d aliases %+v, want its numeric alias", r.Number, r.Aliases)
			}
		}
		sort.Ints(numbers)
		for i, n := range numbers {
			if n != i+1 {
				t.Fatalf("release numbers %v; want 1..%d with no gap or duplicate", numbers, commits)
			}
		}
	})
}

// TestConcurrentActivation activates deployments of one project in one
// environment from many goroutines: exactly one stays active.
func TestConcurrentActivation(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		const n = 20
		rels := make([]*release.Release, n)
		for i := range rels {
			rels[i] = newRelease(t, s, "api", i)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, errs[i] = s.CreateDeployment(ctx, &release.Deployment{ReleaseID: rels[i].ID, Environment: "dev",
						Status: release.DeploymentActive})
					return
				}
				d, err := s.CreateDeployment(ctx, &release.Deployment{ReleaseID: rels[i].ID, Environment: "dev"})
				if err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = s.UpdateDeployment(ctx, d.ID, func(d *release.Deployment) error {
					d.Status = release.DeploymentActive
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
		}
		list, total, err := s.ListDeployments(ctx, "dev", "acme/mono", "api", ports.Page{Limit: ports.MaxPageLimit})
		if err != nil || total != n {
			t.Fatalf("ListDeployments: %d, %v", total, err)
		}
		active := 0
		for _, d := range list {
			if d.Status == release.DeploymentActive {
				active++
			}
		}
		if active != 1 {
			t.Fatalf("%d deployments active, want exactly 1", active)
		}
	})
}

// TestConcurrentCreateRun creates the run of one commit from many
// goroutines: one creates it, every one gets it.
func TestConcurrentCreateRun(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		const n = 20
		ids := make([]string, n)
		created := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, c, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(1)})
				if err == nil {
					ids[i], created[i] = r.ID, c
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		nCreated := 0
		for i := range ids {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("goroutines got runs %s and %s", ids[0], ids[i])
			}
			if created[i] {
				nCreated++
			}
		}
		if nCreated != 1 {
			t.Fatalf("%d goroutines created the run, want 1", nCreated)
		}
	})
}

// TestSQLiteWritersOfTwoLocks opens one SQLite file under two names (a
// symlinked directory), so the two Stores do not share the process-wide
// write lock, as two processes would not: BEGIN IMMEDIATE, the busy timeout
// and the retries still number releases without gaps or duplicates.
func TestSQLiteWritersOfTwoLocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatalf("cannot make a symlink: %v", err)
	}
	a := migrated(t, "sqlite://"+filepath.Join(dir, "forge.db"))
	b := open(t, "sqlite://"+filepath.Join(link, "forge.db"))
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			_, _, errs[i] = s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	list, total, err := a.ListReleases(ctx, "acme/mono", "api", ports.Page{Limit: ports.MaxPageLimit})
	if err != nil || total != n {
		t.Fatalf("ListReleases: %d, %v; want %d", total, err, n)
	}
	for i, r := range list {
		if r.Number != n-i {
			t.Fatalf("release numbers out of 1..%d: position %d has %d", n, i, r.Number)
		}
	}
}
