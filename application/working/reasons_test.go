package working_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// failingTaskReports refuses every task report with a database error.
type failingTaskReports struct{ *reporter }

func (failingTaskReports) ReportTask(context.Context, string, pipeline.Status, string) error {
	return fault.Wrap(fault.Unavailable, errors.New(`pq: connection to "db.internal:5432" refused`), "updating task task1")
}

// TestJobErrorsSayWhatFailedInTheUsersTerms fails a job's checkout with
// git's output naming paths on the worker, its discovery with an error of
// the worker's own, and its status report with a database error: the
// job's error, which becomes the reason every reader of the run sees,
// says what failed, and the cause goes to the worker's log.
func TestJobErrorsSayWhatFailedInTheUsersTerms(t *testing.T) {
	gitErr := errors.New("git fetch: fatal: '/var/lib/forge/cache/acme/mono.git' does not appear to be a git repository\nfatal: Could not read from remote repository.")
	discoveryJob := func() *ports.Delivery {
		payload, _ := json.Marshal(orchestrating.DiscoveryJob{RunID: "run1", Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40), Branch: "main"})
		return &ports.Delivery{Job: job.Job{ID: "run1.discovery", Type: job.TypeDiscovery, Payload: payload, Timeout: time.Minute}, Attempt: 1}
	}
	for _, c := range []struct {
		name    string
		setup   func(e *env)
		job     func() *ports.Delivery
		want    string
		leakage []string
	}{
		{"checkout", func(e *env) {
			e.src.fail = fault.Wrap(fault.Unavailable, gitErr, "fetching %s", strings.Repeat("c", 40))
		},
			func() *ports.Delivery { return taskJob(script("unit", "unit", 0)) },
			"checking out commit cccccccccccc of acme/mono failed", []string{"/var/lib", "fatal"}},
		{"discovery", func(e *env) {
			e.w.Discover = func(context.Context, string, discovery.GitContext) (*discovering.Result, error) {
				return nil, fault.Wrap(fault.Internal, errors.New("fork/exec /usr/local/bin/forge-worker: resource temporarily unavailable"), "starting the discovery child")
			}
		}, discoveryJob, "discovering the projects of commit cccccccccccc failed", []string{"/usr/local", "fork/exec"}},
		{"status report", func(e *env) { e.w.Reporter = failingTaskReports{e.reports} },
			func() *ports.Delivery { return taskJob(script("unit", "unit", 0)) },
			"the start of the task could not be recorded", []string{"db.internal", "pq:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(map[string]string{"services/api/main.go": "package main\n"})
			var log bytes.Buffer
			e.w.Log = slog.New(slog.NewTextHandler(&log, nil))
			c.setup(e)
			_, err := e.w.Handle(context.Background(), c.job())
			if err == nil || err.Error() != c.want {
				t.Fatalf("job error = %v, want %q", err, c.want)
			}
			for _, leak := range c.leakage {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the job's error shows %q: %v", leak, err)
				}
				if !strings.Contains(log.String(), leak) {
					t.Errorf("the worker's log lacks the cause (%q):\n%s", leak, log.String())
				}
			}
		})
	}
	// The user's own mistake (a configuration that does not evaluate) is
	// theirs to read, as it is.
	e := newEnv(nil)
	e.w.Discover = func(context.Context, string, discovery.GitContext) (*discovering.Result, error) {
		return nil, fault.New(fault.Validation, "invalid repository configuration: .forge/repo.cue:1:1: tagging: field is required")
	}
	if _, err := e.w.Handle(context.Background(), discoveryJob()); err == nil || !strings.Contains(err.Error(), ".forge/repo.cue:1:1") {
		t.Errorf("a configuration error = %v", err)
	}
}
