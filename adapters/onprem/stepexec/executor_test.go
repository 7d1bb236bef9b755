package stepexec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// runScript runs a script step with the test grace period and returns
// the result and the output.
func runScript(t *testing.T, req ports.StepRequest, opts ...stepexec.Option) (ports.StepResult, string) {
	t.Helper()
	var out bytes.Buffer
	if req.Dir == "" {
		req.Dir = t.TempDir()
	}
	req.Output = &out
	e := stepexec.New(append([]stepexec.Option{stepexec.WithGracePeriod(testGrace)}, opts...)...)
	res, err := e.Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res, out.String()
}

func TestValidation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(action string) ports.StepRequest {
		return ports.StepRequest{Action: action, Run: "true", Target: "+build", Dir: dir, Output: &bytes.Buffer{}}
	}
	with := func(req ports.StepRequest, f func(*ports.StepRequest)) ports.StepRequest { f(&req); return req }
	tests := []struct {
		name  string
		req   ports.StepRequest
		field string
	}{
		{"unknown action", with(ok("script"), func(r *ports.StepRequest) { r.Action = "make" }), "Action"},
		{"empty action", with(ok("script"), func(r *ports.StepRequest) { r.Action = "" }), "Action"},
		{"script without Run", with(ok("script"), func(r *ports.StepRequest) { r.Run = "" }), "Run"},
		{"script with a blank Run", with(ok("script"), func(r *ports.StepRequest) { r.Run = " \n\t" }), "Run"},
		{"earthly without Target", with(ok("earthly"), func(r *ports.StepRequest) { r.Target = "" }), "Target"},
		{"earthly Target that is an option", with(ok("earthly"), func(r *ports.StepRequest) { r.Target = "--version" }), "Target"},
		{"no Dir", with(ok("script"), func(r *ports.StepRequest) { r.Dir = "" }), "Dir"},
		{"Dir that does not exist", with(ok("script"), func(r *ports.StepRequest) { r.Dir = filepath.Join(dir, "nope") }), "Dir"},
		{"Dir that is a file", with(ok("script"), func(r *ports.StepRequest) { r.Dir = file }), "Dir"},
		{"no Output", with(ok("earthly"), func(r *ports.StepRequest) { r.Output = nil }), "Output"},
		{"negative Timeout", with(ok("script"), func(r *ports.StepRequest) { r.Timeout = -time.Second }), "Timeout"},
		{"bad Env name", with(ok("script"), func(r *ports.StepRequest) { r.Env = map[string]string{"A-B": "x"} }), "Env"},
		{"Env name with a digit first", with(ok("script"), func(r *ports.StepRequest) { r.Env = map[string]string{"1A": "x"} }), "Env"},
		{"NUL in an Env value", with(ok("script"), func(r *ports.StepRequest) { r.Env = map[string]string{"A": "x\x00y"} }), "Env"},
		{"name in Env and Secrets", with(ok("script"), func(r *ports.StepRequest) {
			r.Env = map[string]string{"TOKEN": "a"}
			r.Secrets = map[string]string{"TOKEN": "bbbbbbbb"}
		}), "Env"},
		{"bad secret name", with(ok("earthly"), func(r *ports.StepRequest) { r.Secrets = map[string]string{"--push": "value"} }), "Secrets"},
		{"NUL in a secret value", with(ok("earthly"), func(r *ports.StepRequest) { r.Secrets = map[string]string{"S": "a\x00b"} }), "Secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stepexec.New().Execute(context.Background(), tt.req)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Validation {
				t.Fatalf("err = %v, want a Validation *fault.Error", err)
			}
			if got := fe.Details["field"]; got != tt.field {
				t.Errorf("field = %v, want %s (%v)", got, tt.field, err)
			}
			for _, v := range tt.req.Secrets {
				if strings.Contains(err.Error(), v) {
					t.Errorf("the message %q shows a secret value", err.Error())
				}
			}
		})
	}
}

func TestScriptShell(t *testing.T) {
	tests := []struct {
		name  string
		shell string
		run   string
		want  int
	}{
		{"default shell stops at the first failure", "", "false; true", 1},
		{"a shell without -e goes on", "sh", "false; true", 0},
		{"shell words are split", "sh -e -u", `echo "$FORGE_UNSET_VARIABLE"`, 2},
		{"extra blanks in the shell", "  sh   -e  ", "exit 7", 7},
		{"another shell by name", "bash -e -o pipefail", "false | true", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out := runScript(t, ports.StepRequest{Action: "script", Shell: tt.shell, Run: tt.run})
			if res.ExitCode != tt.want {
				t.Errorf("ExitCode = %d, want %d (output %q)", res.ExitCode, tt.want, out)
			}
		})
	}
}

func TestScriptShellUnavailable(t *testing.T) {
	req := ports.StepRequest{Action: "script", Shell: "forge-no-such-shell -e", Run: "true", Dir: t.TempDir(), Output: &bytes.Buffer{}}
	_, err := stepexec.New().Execute(context.Background(), req)
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if !strings.Contains(err.Error(), "forge-no-such-shell") || !strings.Contains(err.Error(), "PATH") {
		t.Errorf("message %q names neither the shell nor PATH", err.Error())
	}
}

func TestDefaultEnvDoesNotCarryTheWorkersEnvironment(t *testing.T) {
	t.Setenv("FORGE_WORKER_ONLY_CREDENTIAL", "worker-credential")
	t.Setenv("LANG", "C.UTF-8")
	env := stepexec.DefaultEnv()
	for name := range env {
		if name != "PATH" && name != "HOME" && name != "LANG" {
			t.Errorf("DefaultEnv has %s", name)
		}
	}
	if env["LANG"] != "C.UTF-8" || env["PATH"] == "" {
		t.Errorf("DefaultEnv = %v, want the worker's PATH and LANG", env)
	}
	res, out := runScript(t, ports.StepRequest{Action: "script", Run: `printf '%s|%s' "${FORGE_WORKER_ONLY_CREDENTIAL-unset}" "$LANG"`})
	if !res.Succeeded() || out != "unset|C.UTF-8" {
		t.Errorf("result %+v, output %q; want the credential unset and LANG passed", res, out)
	}
}

func TestWithEnvReplacesTheBaseEnvironment(t *testing.T) {
	base := map[string]string{"PATH": os.Getenv("PATH"), "FORGE_BASE": "base"}
	e := stepexec.WithEnv(base)
	base["FORGE_BASE"] = "changed after WithEnv"
	res, out := runScript(t, ports.StepRequest{
		Action: "script",
		Run:    `printf '%s|%s|%s' "$FORGE_BASE" "${HOME-unset}" "$FORGE_RUN_ID"`,
		Env:    map[string]string{"FORGE_RUN_ID": "run-1"},
	}, e)
	if !res.Succeeded() || out != "base|unset|run-1" {
		t.Errorf("result %+v, output %q", res, out)
	}
}

func TestGracePeriodEndsWithSIGKILL(t *testing.T) {
	// The step and its child ignore SIGTERM; only SIGKILL, sent after the
	// grace period, stops them.
	dir := t.TempDir()
	const timeout = 200 * time.Millisecond
	began := time.Now()
	res, out := runScript(t, ports.StepRequest{
		Action:  "script",
		Run:     `trap '' TERM; sleep 60 & echo "$!" > child.pid; wait`,
		Dir:     dir,
		Timeout: timeout,
	})
	elapsed := time.Since(began)
	if !res.TimedOut || res.ExitCode != -1 {
		t.Errorf("result %+v, want TimedOut with exit code -1 (output %q)", res, out)
	}
	if elapsed < timeout+testGrace {
		t.Errorf("Execute returned after %s, before timeout + grace period (%s)", elapsed, timeout+testGrace)
	}
	expectGone(t, readPID(t, filepath.Join(dir, "child.pid")))
}

func TestLeftoverProcessesEndWithTheStep(t *testing.T) {
	tests := []struct {
		name string
		run  string
	}{
		{"holding the output open", `sleep 60 & echo "$!" > child.pid`},
		{"with its output closed", `sleep 60 >/dev/null 2>&1 & echo "$!" > child.pid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			began := time.Now()
			res, out := runScript(t, ports.StepRequest{Action: "script", Run: tt.run, Dir: dir})
			if !res.Succeeded() {
				t.Errorf("result %+v, output %q", res, out)
			}
			if elapsed := time.Since(began); elapsed > 10*time.Second {
				t.Errorf("Execute waited %s for a background process", elapsed)
			}
			expectGone(t, readPID(t, filepath.Join(dir, "child.pid")))
		})
	}
}

func TestStepKilledByASignalHasExitCodeMinusOne(t *testing.T) {
	res, _ := runScript(t, ports.StepRequest{Action: "script", Run: "kill -KILL $$"})
	if res.ExitCode != -1 || res.TimedOut || res.Cancelled || res.Succeeded() {
		t.Errorf("result %+v, want exit code -1, neither timed out nor cancelled", res)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("log sink gone") }

func TestOutputFailureKeepsTheStepRunning(t *testing.T) {
	// The step writes far more than a pipe holds; it must still finish.
	req := ports.StepRequest{
		Action: "script",
		Run:    "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done",
		Dir:    t.TempDir(),
		Output: failingWriter{},
	}
	res, err := stepexec.New().Execute(context.Background(), req)
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "log sink gone") {
		t.Errorf("err = %v, want Unavailable naming the cause", err)
	}
	if !res.Succeeded() {
		t.Errorf("result %+v, want the step to have finished", res)
	}
}

func TestConcurrentSteps(t *testing.T) {
	e := stepexec.New(stepexec.WithGracePeriod(testGrace))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var out bytes.Buffer
			secret := fmt.Sprintf("secret-of-step-%d", i)
			res, err := e.Execute(context.Background(), ports.StepRequest{
				Action:  "script",
				Run:     fmt.Sprintf(`echo "step %d $S"; exit %d`, i, i),
				Dir:     t.TempDir(),
				Secrets: map[string]string{"S": secret},
				Output:  &out,
			})
			if err != nil || res.ExitCode != i || out.String() != fmt.Sprintf("step %d ***\n", i) {
				t.Errorf("step %d: result %+v, err %v, output %q", i, res, err, out.String())
			}
		})
	}
	wg.Wait()
}

// readPID reads a pid a step wrote to path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the step wrote no pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %s: %v", path, err)
	}
	return pid
}

// expectGone fails unless pid is gone within a second (a zombie waiting
// for PID 1 to reap it counts as gone).
func expectGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EPERM) || zombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("process %d still runs", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// zombie reports whether pid has exited and waits to be reaped.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}
