package orchestrating_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// TestReasonsHoldNoDecodingErrors answers a discovery job and then a task
// job with output that cannot be read: the run's and the task's reasons
// say what failed in the user's terms, and the decoding error goes to the
// orchestrator's log.
func TestReasonsHoldNoDecodingErrors(t *testing.T) {
	for _, c := range []struct {
		name          string
		discovery, ci []byte
		wantReason    string
	}{
		{"discovery", []byte("{not json"), nil, "discovery answered with an output that could not be read"},
		{"task", nil, []byte("{not json"), "build of api failed: its worker's answer could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			var log bytes.Buffer
			f.orch.Log = slog.New(slog.NewTextHandler(&log, nil))
			if c.discovery == nil {
				c.discovery, _ = json.Marshal(output())
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = f.queue.Consume(ctx, []job.Type{job.TypeDiscovery, job.TypeCI}, 4, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
					if d.Job.Type == job.TypeDiscovery {
						return c.discovery, nil
					}
					return c.ci, nil
				})
			}()
			t.Cleanup(func() { cancel(); <-done })
			if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
				t.Fatal(err)
			}
			run, _ := f.store.GetRun(context.Background(), f.run.ID)
			reasons := []string{run.Reason}
			for _, ph := range run.Phases {
				for _, tk := range ph.Tasks {
					reasons = append(reasons, tk.Error)
				}
			}
			if run.Status != pipeline.StatusFailed || !contains(reasons, c.wantReason) {
				t.Fatalf("run %s, reasons %q; want %q", run.Status, reasons, c.wantReason)
			}
			for _, r := range reasons {
				if strings.Contains(r, "invalid character") || strings.Contains(r, "json") {
					t.Errorf("a reason shows the decoding error: %q", r)
				}
			}
			if !strings.Contains(log.String(), "invalid character") {
				t.Errorf("the cause is not in the log:\n%s", log.String())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
