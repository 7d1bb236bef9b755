package discovering

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
)

// childEnv makes the test binary the child of Isolated (see TestMain).
const childEnv = "FORGE_DISCOVERY_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "1":
		os.Exit(ServeChild(os.Stdin, os.Stdout))
	case "crash":
		// A child that dies as the Go runtime does when it cannot get
		// memory, in the middle of a configuration.
		var req childRequest
		_ = json.NewDecoder(os.Stdin).Decode(&req)
		_ = gob.NewEncoder(os.Stdout).Encode(message{Start: "svc/.forge/project.cue"})
		fmt.Fprintln(os.Stderr, "fatal error: runtime: out of memory\n\ngoroutine 1 [running]:")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// isolated returns an Isolated whose child is this test binary.
func isolated(l Limits) *Isolated {
	return &Isolated{Path: os.Args[0], Env: []string{childEnv + "=1"}, Limits: l}
}

// TestIsolatedMatchesInProcess checks that the child answers what the
// same discovery in this process answers: output, repository, projects
// with their positions, problems and errors.
func TestIsolatedMatchesInProcess(t *testing.T) {
	git := discovery.GitContext{Branch: "main", Commit: "abc"}
	for _, fixture := range []string{"basic", "invalid", "symlinked", "duplicate", "not-forge", "bad-repo"} {
		t.Run(fixture, func(t *testing.T) {
			dir := writeArchive(t, fixture)
			want, wantErr := (&Service{}).Discover(context.Background(), os.DirFS(dir), git)
			got, err := isolated(Limits{}).Discover(context.Background(), dir, git)
			if wantErr != nil {
				if err == nil || err.Error() != wantErr.Error() || fault.KindOf(err) != fault.KindOf(wantErr) {
					t.Fatalf("error = %v (%s), want %v (%s)", err, fault.KindOf(err), wantErr, fault.KindOf(wantErr))
				}
				gotPs, _ := Problems(err)
				wantPs, _ := Problems(wantErr)
				if !reflect.DeepEqual(gotPs, wantPs) {
					t.Errorf("problems = %v, want %v", gotPs, wantPs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(encode(t, got.Output), encode(t, want.Output)) {
				t.Errorf("output = %s\nwant %s", encode(t, got.Output), encode(t, want.Output))
			}
			if !reflect.DeepEqual(got.Problems, want.Problems) {
				t.Errorf("problems = %v, want %v", got.Problems, want.Problems)
			}
			if got.Repo.File != want.Repo.File || !reflect.DeepEqual(got.Repo.Phases, want.Repo.Phases) {
				t.Errorf("repo = %+v, want %+v", got.Repo, want.Repo)
			}
			if len(got.Projects) != len(want.Projects) {
				t.Fatalf("%d projects, want %d", len(got.Projects), len(want.Projects))
			}
			for i, p := range got.Projects {
				w := want.Projects[i]
				if p.Name != w.Name || p.Path != w.Path || p.NamePos != w.NamePos ||
					!reflect.DeepEqual(p.Release, w.Release) || fmt.Sprint(p.Phases) != fmt.Sprint(w.Phases) {
					t.Errorf("project %d = %+v\nwant %+v", i, p, w)
				}
			}
		})
	}
}

func encode(t *testing.T, out discovery.Output) string {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostileRepo writes a repository whose project svc has the given
// configuration after its name and step.
func hostileRepo(t *testing.T, repoExtra, project string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, ".forge/repo.cue", "package repo\n\nimport \"list\"\n\nforgeVersion: \"v1.0.0\"\ntagging: strategy: \"monorepo\"\nphases: test: {group: 1"+repoExtra+"}\n_l: list.Range(0, 1, 1)\n")
	writeFile(t, dir, "good/.forge/project.cue", "package project\n\nname: \"good\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n")
	writeFile(t, dir, "svc/.forge/project.cue", "package project\n\nimport \"list\"\n\nname: \"svc\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n_l: list.Range(0, 1, 1)\n"+project)
	return dir
}

// slowRange is a nested comprehension whose bounds are not literals, so
// the in-process guard cannot see it: it runs for minutes.
const slowRange = "_n: 100000\ndeployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: [for i in list.Range(0, _n, 1) for j in list.Range(0, _n, 1) {i+j}]}]\n"

// hugeString doubles a string 26 times: a gigabyte, built by evaluation.
func hugeString(field string) string {
	var b strings.Builder
	b.WriteString("_s0: \"0123456789abcdef\"\n")
	for i := 1; i <= 26; i++ {
		fmt.Fprintf(&b, "_s%d: \"\\(_s%d)\\(_s%d)\"\n", i, i-1, i-1)
	}
	return b.String() + field + ": _s26\n"
}

// TestIsolatedBoundsHostileConfiguration runs configurations that no
// in-process guard catches (and the two that the guards do) through the
// child with tight limits: each must end promptly with an error naming
// the file. Unbounded, the first ran for minutes and the second took
// gigabytes.
func TestIsolatedBoundsHostileConfiguration(t *testing.T) {
	cases := []struct {
		name     string
		limits   Limits
		repo     string // added to the repository's test phase
		project  string
		want     string // the first problem, as file: message (prefix)
		discover bool   // the discovery succeeds, svc skipped with want
	}{
		{name: "one file too slow", limits: Limits{FileTime: time.Second}, project: slowRange,
			want: "svc/.forge/project.cue: the evaluation took longer than 1s, the limit for one configuration, while this configuration was being evaluated; forge stops"},
		{name: "discovery too slow", limits: Limits{Time: 2 * time.Second, FileTime: time.Minute}, project: slowRange,
			want: "svc/.forge/project.cue: the discovery took longer than 2s, the limit for one discovery, while this configuration was being evaluated"},
		{name: "too much memory", limits: Limits{Memory: 200 << 20, FileTime: time.Minute}, project: hugeString("deployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: x: _s26}]\n_x"),
			want: "svc/.forge/project.cue: the discovery used "},
		{name: "repository too slow", limits: Limits{FileTime: time.Second}, repo: ", description: \"\\(len([for i in list.Range(0, _n, 1) for j in list.Range(0, _n, 1) {i}]))\"}\n_n: 100000\nphases: build: {group: 2",
			want: ".forge/repo.cue: the evaluation took longer than 1s, the limit for one configuration"},
		{name: "doubling references, caught in process", project: "_a0: {x: 1, y: 1}\n" + chainFields(30) + "deployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: _a30}]\n",
			want: "svc/.forge/project.cue:1:1: the configuration expands to more than 1 MiB", discover: true},
		{name: "literal list.Range, caught in process", project: "deployment: resources: [for i in list.Range(0, 100000, 1) for j in list.Range(0, 100000, 1) {apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\"}]\n",
			want: "svc/.forge/project.cue:8:59: this comprehension iterates 10000000000 times", discover: true},
	}
	goroutines := runtime.NumGoroutine()
	defer func() {
		// Nothing outlives a discovery stopped at its limits: not the
		// goroutines that wait for the child and read its messages.
		for i := 0; i < 100 && runtime.NumGoroutine() > goroutines; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > goroutines {
			t.Errorf("%d goroutines left, %d before", n, goroutines)
		}
	}()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := hostileRepo(t, c.repo, c.project)
			// A guard against a bound that does not hold: the test fails
			// with this deadline instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := isolated(c.limits).Discover(ctx, dir, discovery.GitContext{})
			if ctx.Err() != nil {
				t.Fatalf("the bound did not hold: %v", err)
			}
			if c.discover {
				if err != nil || len(res.Projects) != 1 {
					t.Fatalf("Discover = %v, %v; want good discovered and svc skipped", res, err)
				}
				errs, _ := res.Problems.Split()
				if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), c.want) {
					t.Errorf("problems = %v, want %s…", errs, c.want)
				}
				return
			}
			ps, ok := Problems(err)
			if res != nil || !fault.Is(err, fault.Validation) || !ok || len(ps) == 0 {
				t.Fatalf("Discover = %v, %v; want a validation error with problems", res, err)
			}
			t.Logf("%v", err)
			if !strings.HasPrefix(ps[0].Error(), c.want) {
				t.Errorf("problem = %s\nwant %s…", ps[0].Error(), c.want)
			}
			if !strings.Contains(err.Error(), "discovery stopped at its limits") {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func chainFields(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "_a%d: {x: _a%d, y: _a%d}\n", i, i-1, i-1)
	}
	return b.String()
}

func TestIsolatedReportsAChildThatCannotStart(t *testing.T) {
	_, err := (&Isolated{Path: filepath.Join(t.TempDir(), "missing")}).Discover(context.Background(), t.TempDir(), discovery.GitContext{})
	if !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "starting the discovery process") {
		t.Errorf("Discover = %v; want an internal error about starting the process", err)
	}
	// A binary that exits without answering.
	_, err = (&Isolated{Path: "/bin/true"}).Discover(context.Background(), t.TempDir(), discovery.GitContext{})
	if !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "ended without an answer (it wrote nothing on its standard error)") {
		t.Errorf("Discover = %v; want an internal error about the missing answer", err)
	}
	// A child that crashes while it evaluates a configuration.
	_, err = (&Isolated{Path: os.Args[0], Env: []string{childEnv + "=crash"}}).Discover(context.Background(), t.TempDir(), discovery.GitContext{})
	want := "the discovery process ended without an answer while evaluating svc/.forge/project.cue (fatal error: runtime: out of memory): exit status 2"
	if !fault.Is(err, fault.Internal) || err == nil || err.Error() != want {
		t.Errorf("Discover = %v\nwant %s", err, want)
	}
}

func TestIsolatedHonoursCancellation(t *testing.T) {
	dir := hostileRepo(t, "", slowRange)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := isolated(Limits{}).Discover(ctx, dir, discovery.GitContext{}); err != context.Canceled {
		t.Fatalf("Discover = %v, want context.Canceled", err)
	}
}

func TestChildEnvironmentHoldsNoSecrets(t *testing.T) {
	got := childEnviron([]string{"FORGE_TOKEN=secret", "AWS_SECRET_ACCESS_KEY=x", "HOME=/root", "GOGC=50", "GOMAXPROCS=1", "GODEBUG=inittrace=1", "GOCOVERDIR=/tmp/c"},
		[]string{childEnv + "=1"})
	want := []string{"GOGC=50", "GOMAXPROCS=1", "GODEBUG=inittrace=1", "GOCOVERDIR=/tmp/c", childEnv + "=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("childEnviron = %q, want %q", got, want)
	}
}

// TestWarmChildServesTheNextDiscovery: a child started by Warm serves
// the next discovery, its time limit counting from the request (it waited
// longer than the limit); KeepWarm starts the next one; a warm child
// killed while it waited is replaced by a fresh one; Close stops the
// waiting child and Warm then starts none.
func TestWarmChildServesTheNextDiscovery(t *testing.T) {
	dir := writeArchive(t, "basic")
	s := isolated(Limits{Time: time.Second})
	s.KeepWarm = true
	alive := func(pid int) bool { return syscall.Kill(pid, 0) == nil }
	waiting := func() int {
		t.Helper()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.warm == nil {
			return 0
		}
		return s.warm.cmd.Process.Pid
	}
	s.Warm()
	first := waiting()
	if first == 0 || !alive(first) {
		t.Fatalf("Warm started no child (pid %d)", first)
	}
	s.Warm()
	if waiting() != first {
		t.Errorf("a second Warm replaced the waiting child")
	}
	time.Sleep(1200 * time.Millisecond)
	if _, err := s.Discover(context.Background(), dir, discovery.GitContext{Branch: "main"}); err != nil {
		t.Fatalf("Discover with a child that waited longer than the time limit: %v", err)
	}
	if alive(first) {
		t.Errorf("the warm child %d is still there: the discovery did not use it", first)
	}
	// KeepWarm starts the next child once the discovery has answered.
	second := 0
	for deadline := time.Now().Add(5 * time.Second); second == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		second = waiting()
	}
	if second == 0 || second == first || !alive(second) {
		t.Fatalf("KeepWarm: waiting child after the discovery is %d (first %d)", second, first)
	}

	// Killed well before the request: wait until it is a zombie whose
	// threads have all exited (its pipes closed: the group leader is a
	// zombie before its last thread lets go of the files), as a child
	// killed long ago would be.
	_ = syscall.Kill(second, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", second))
		if err != nil || strings.Contains(string(status), "State:\tZ") && strings.Contains(string(status), "Threads:\t1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed child %d did not die", second)
		}
	}
	if _, err := s.Discover(context.Background(), dir, discovery.GitContext{Branch: "main"}); err != nil {
		t.Fatalf("Discover after the warm child was killed: %v", err)
	}

	third := 0
	for deadline := time.Now().Add(5 * time.Second); third == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		third = waiting()
	}
	s.Close()
	if third == 0 || alive(third) || waiting() != 0 {
		t.Errorf("Close left the waiting child %d (alive %v) or another (%d)", third, third != 0 && alive(third), waiting())
	}
	s.Warm()
	if waiting() != 0 {
		t.Errorf("Warm after Close started a child")
	}
	if _, err := s.Discover(context.Background(), dir, discovery.GitContext{Branch: "main"}); err != nil || waiting() != 0 {
		t.Errorf("Discover after Close = %v, waiting child %d", err, waiting())
	}
}
