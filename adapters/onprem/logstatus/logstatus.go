// Package logstatus is the StatusReporter of the local profile: it writes
// each status point of a run as one structured log line (GitHub commit
// statuses come with the GitHub integration). It is in the adapters layer.
package logstatus

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// Reporter logs status points.
type Reporter struct {
	Log logrus.FieldLogger
}

var _ ports.StatusReporter = (*Reporter)(nil)

// New returns a reporter that logs to log.
func New(log logrus.FieldLogger) *Reporter { return &Reporter{Log: log} }

// Report logs the point with the run's repository, commit, status and
// trace ID (ports.RunTraceID). It never fails.
func (r *Reporter) Report(_ context.Context, run *pipeline.Run, point ports.StatusPoint, description string) error {
	r.Log.WithFields(logrus.Fields{
		"run_id": run.ID, "repository": run.Repository, "commit_sha": run.CommitSHA,
		"run_status": string(run.Status), "point": string(point), "trace_id": ports.RunTraceID(run.ID),
	}).Info(description)
	return nil
}
