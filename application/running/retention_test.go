package running_test

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// keys is an object store that only knows keys: enough to see what Prune
// deletes, with List paging two at a time to exercise the loop.
type keys struct {
	mu sync.Mutex
	m  map[string]bool
	// refuse, when set, is a key prefix whose objects cannot be deleted.
	refuse string
}

func (k *keys) Put(_ context.Context, key string, _ io.Reader, _ ports.PutOptions) (ports.ObjectInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = true
	return ports.ObjectInfo{Key: key}, nil
}
func (k *keys) Get(context.Context, string, int64) (io.ReadCloser, ports.ObjectInfo, error) {
	panic("not used")
}
func (k *keys) Stat(context.Context, string) (ports.ObjectInfo, error) { panic("not used") }
func (k *keys) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.refuse != "" && strings.HasPrefix(key, k.refuse) {
		return errors.New("access denied")
	}
	delete(k.m, key)
	return nil
}
func (k *keys) List(_ context.Context, prefix, after string, _ int) ([]ports.ObjectInfo, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var all []string
	for key := range k.m {
		if strings.HasPrefix(key, prefix) && key > after {
			all = append(all, key)
		}
	}
	sort.Strings(all)
	var out []ports.ObjectInfo
	for i := 0; i < len(all) && i < 2; i++ {
		out = append(out, ports.ObjectInfo{Key: all[i]})
	}
	return out, len(all) > 2, nil
}
func (k *keys) PresignGet(context.Context, string, time.Duration) (string, error) {
	panic("not used")
}

func (k *keys) list() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for key := range k.m {
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}

// TestPruneDeletesExpiredRunsInBatchesWithTheirObjects: five expired runs
// go in batches of two with everything they stored; a run that is still
// running, one a release names and a recent one stay, with their objects.
func TestPruneDeletesExpiredRunsInBatchesWithTheirObjects(t *testing.T) {
	svc, _, now := setup(t, repository.Limits{})
	objects := &keys{m: map[string]bool{}}
	svc.Objects = objects
	ctx := context.Background()
	made := func(n int, age time.Duration, st pipeline.Status) string {
		t.Helper()
		r, _, err := svc.Store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", Branch: "main", CommitSHA: sha(n),
			Status: pipeline.StatusPending, CreatedAt: now.Add(-age), StartedAt: now.Add(-age)})
		if err != nil {
			t.Fatal(err)
		}
		steps := []pipeline.Status{pipeline.StatusRunning}
		if st != pipeline.StatusRunning {
			steps = append(steps, st)
		}
		for _, s := range steps {
			if _, err := svc.Store.UpdateRun(ctx, r.ID, func(run *pipeline.Run) error { run.Status = s; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		for _, key := range []string{"logs/test/api/unit.log", "logs/test/api/lint.log", "logs/build/api/go.log", "artifacts/api/image.json"} {
			_, _ = objects.Put(ctx, pipeline.ObjectsPrefix(r.ID)+key, nil, ports.PutOptions{})
		}
		return r.ID
	}
	old := 100 * 24 * time.Hour
	var expired []string
	for i := range 5 {
		expired = append(expired, made(i, old+time.Duration(i)*time.Hour, pipeline.StatusSuccess))
	}
	stillRunning := made(10, old, pipeline.StatusRunning)
	released := made(11, old, pipeline.StatusFailed)
	recent := made(12, time.Hour, pipeline.StatusSuccess)
	if _, _, err := svc.Store.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(11),
		PipelineRunID: &released, OCIURI: "r.test/acme/mono/api:" + sha(11), CreatedAt: *now, CreatedBy: "ci"}); err != nil {
		t.Fatal(err)
	}

	n, err := svc.Prune(ctx, now.Add(-running.DefaultRetention), 2)
	if err != nil || n != 5 {
		t.Fatalf("Prune = %d, %v; want the 5 expired runs", n, err)
	}
	for _, id := range expired {
		if _, err := svc.Store.GetRun(ctx, id); err == nil {
			t.Errorf("expired run %s is still there", id)
		}
	}
	var want []string
	for _, id := range []string{stillRunning, released, recent} {
		if _, err := svc.Store.GetRun(ctx, id); err != nil {
			t.Errorf("run %s was deleted: %v", id, err)
		}
		for _, key := range []string{"artifacts/api/image.json", "logs/build/api/go.log", "logs/test/api/lint.log", "logs/test/api/unit.log"} {
			want = append(want, pipeline.ObjectsPrefix(id)+key)
		}
	}
	sort.Strings(want)
	if got := objects.list(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects left:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n, err := svc.Prune(ctx, now.Add(-running.DefaultRetention), 2); err != nil || n != 0 {
		t.Errorf("a second Prune = %d, %v; want nothing left to do", n, err)
	}

	// A run whose logs cannot be deleted keeps its rows (to be tried
	// again) and does not hold the others back.
	stuck := made(20, old+10*time.Hour, pipeline.StatusFailed)
	gone := made(21, old, pipeline.StatusFailed)
	objects.refuse = pipeline.ObjectsPrefix(stuck)
	n, err = svc.Prune(ctx, now.Add(-running.DefaultRetention), 2)
	if n != 1 || err == nil || !strings.Contains(err.Error(), stuck) {
		t.Errorf("Prune with one run's logs refused = %d, %v; want the other run deleted and an error naming %s", n, err, stuck)
	}
	if _, err := svc.Store.GetRun(ctx, stuck); err != nil {
		t.Errorf("the run whose logs stayed was deleted: %v", err)
	}
	if _, err := svc.Store.GetRun(ctx, gone); err == nil {
		t.Error("the other expired run was held back")
	}
}
