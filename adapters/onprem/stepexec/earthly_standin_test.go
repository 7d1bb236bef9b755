package stepexec_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// These tests run the earthly action against the stand-in earthly
// executable of earthly_standin_suite_test.go, NOT against Earthly, and
// check what the stand-in received: the argument vector and environment
// the executor builds for the real earthly CLI.

// standInDir returns a temporary directory holding the stand-in.
func standInDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeEarthlyStandIn(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runStandIn runs req on an executor whose PATH starts with the stand-in
// in dir, and returns what the stand-in recorded.
func runStandIn(t *testing.T, dir string, req ports.StepRequest) (ports.StepResult, standInCall) {
	t.Helper()
	var out bytes.Buffer
	req.Dir, req.Output = t.TempDir(), &out
	res, err := newStandInExecutor(dir).Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if !res.Succeeded() {
		t.Fatalf("stand-in step failed: %+v, output %q", res, out.String())
	}
	call, err := readStandInCall(dir)
	if err != nil {
		t.Fatalf("reading what the stand-in recorded: %v", err)
	}
	return res, call
}

func TestEarthlyStandInArgumentVector(t *testing.T) {
	secrets := map[string]string{
		"REGISTRY_PASSWORD": "pw-0c9d8e7f6a5b",
		"API_TOKEN":         "tok-1a2b3c4d5e6f",
	}
	tests := []struct {
		name    string
		args    []string
		secrets map[string]string
		want    []string
	}{
		{
			name: "target only",
			want: []string{"--ci", "+succeed"},
		},
		{
			name: "args in order",
			args: []string{"--push", "--platform=linux/arm64", "--no-cache"},
			want: []string{"--ci", "--push", "--platform=linux/arm64", "--no-cache", "+succeed"},
		},
		{
			name:    "one --secret NAME per secret, sorted by name",
			args:    []string{"--push"},
			secrets: secrets,
			want:    []string{"--ci", "--push", "--secret", "API_TOKEN", "--secret", "REGISTRY_PASSWORD", "+succeed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := earthly("+succeed")
			req.Args, req.Secrets = tt.args, tt.secrets
			_, call := runStandIn(t, standInDir(t), req)
			if !slices.Equal(call.args, tt.want) {
				t.Errorf("earthly got arguments %q, want %q", call.args, tt.want)
			}
			joined := strings.Join(call.args, " ")
			for name, value := range tt.secrets {
				if strings.Contains(joined, value) {
					t.Errorf("the value of secret %s is in earthly's arguments %q", name, call.args)
				}
				if !slices.Contains(call.environ, name+"="+value) {
					t.Errorf("secret %s is not in earthly's environment", name)
				}
			}
		})
	}
}

func TestEarthlyStandInEnvironment(t *testing.T) {
	t.Setenv("FORGE_WORKER_ONLY_CREDENTIAL", "worker-credential")
	req := earthly("+succeed")
	req.Env = map[string]string{"FORGE_RUN_ID": "run-1"}
	req.Secrets = map[string]string{"API_TOKEN": "tok-1a2b3c4d5e6f"}
	_, call := runStandIn(t, standInDir(t), req)

	names := map[string]bool{}
	for _, kv := range call.environ {
		name, _, _ := strings.Cut(kv, "=")
		names[name] = true
	}
	for _, want := range []string{"PATH", "FORGE_RUN_ID", "API_TOKEN"} {
		if !names[want] {
			t.Errorf("earthly's environment lacks %s: %q", want, call.environ)
		}
	}
	if names["FORGE_WORKER_ONLY_CREDENTIAL"] {
		t.Errorf("earthly inherited a variable of the worker's environment")
	}
}

func TestEarthlyStandInTargetIsLookedUpOnTheStepPATH(t *testing.T) {
	// The stand-in is on the executor's PATH only, not on this process's.
	dir := standInDir(t)
	if strings.Contains(os.Getenv("PATH"), dir) {
		t.Fatal("the stand-in directory is on the test's own PATH")
	}
	runStandIn(t, dir, earthly("+succeed"))
}

func TestEarthlyUnavailable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-earthly-here")
	tests := []struct {
		name     string
		executor *stepexec.Executor
		want     []string // in the message
	}{
		{
			name:     "not on PATH",
			executor: stepexec.New(stepexec.WithEnv(map[string]string{"PATH": missing})),
			want:     []string{`"earthly"`, missing},
		},
		{
			name:     "a path that does not exist",
			executor: stepexec.New(stepexec.WithEarthly(filepath.Join(missing, "earthly"))),
			want:     []string{filepath.Join(missing, "earthly")},
		},
		{
			name:     "another name",
			executor: stepexec.New(stepexec.WithEarthly("earthly-v0.8-not-installed")),
			want:     []string{"earthly-v0.8-not-installed", "PATH"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := earthly("+succeed")
			req.Dir, req.Output = t.TempDir(), &bytes.Buffer{}
			_, err := tt.executor.Execute(context.Background(), req)
			if !fault.Is(err, fault.Unavailable) {
				t.Fatalf("err = %v, want Unavailable", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err.Error(), w)
				}
			}
		})
	}
}

func TestWithEarthlyPath(t *testing.T) {
	// A path needs no PATH entry.
	dir := standInDir(t)
	var out bytes.Buffer
	e := stepexec.New(stepexec.WithEarthly(filepath.Join(dir, "earthly")), stepexec.WithGracePeriod(testGrace))
	req := earthly("+print-" + "6f6b") // "ok"
	req.Dir, req.Output = t.TempDir(), &out
	res, err := e.Execute(context.Background(), req)
	if err != nil || !res.Succeeded() || out.String() != "ok\nok\n" {
		t.Errorf("result %+v, err %v, output %q", res, err, out.String())
	}
}
