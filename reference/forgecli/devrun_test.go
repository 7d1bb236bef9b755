package forgecli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevRun runs the example monorepo through 'forge dev run': text
// progress and exit 0 when green, the run as JSON, exit 1 when a step fails.
func TestDevRun(t *testing.T) {
	root := copyExample(t)
	r := forge(t, "dev", "run", root)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"✓ build/hello-api/compile", "Running phase group 2 of 2", " success in "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}

	r = forge(t, "dev", "run", root, "--output", "json")
	r.wantCode(t, ExitOK)
	var run struct {
		Status string `json:"status"`
		Phases []struct {
			Name  string `json:"name"`
			Tasks []struct {
				Steps []struct {
					ExitCode *int   `json:"exit_code"`
					LogsKey  string `json:"logs_s3_key"`
				} `json:"steps"`
			} `json:"tasks"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || run.Status != "success" || len(run.Phases) != 3 {
		t.Fatalf("json = %v, %+v\n%s", err, run, r.stdout)
	}
	if s := run.Phases[0].Tasks[0].Steps[0]; s.ExitCode == nil || *s.ExitCode != 0 || s.LogsKey == "" {
		t.Errorf("first step = %+v", s)
	}

	cue := filepath.Join(root, "services/hello-web/.forge/project.cue")
	b, _ := os.ReadFile(cue)
	if err := os.WriteFile(cue, []byte(strings.Replace(string(b), `run:    "sh build.sh"`, `run:    "echo no-build; exit 2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = forge(t, "dev", "run", root)
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stdout, "reason: step site of hello-web failed in phase build") || !strings.Contains(r.stdout, "no-build") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
