package working

import (
	"fmt"
	"log/slog"

	"github.com/catalyst-forge/forge/domain/fault"
)

// A job's error becomes the reason of its task or run, which every reader
// of the run sees. So it says what failed in the user's terms ("checking
// out commit 1a2b3c4d5e6f of acme/mono failed"); the cause (git's stderr,
// paths on the worker, a database or network error) goes to the worker's
// log only. Errors the user caused and can fix (Validation: a repository
// configuration that does not evaluate, with its file:line) are theirs to
// read and pass through as they are.

// logger is where causes go.
func (w *Worker) logger() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// userError logs cause with the job it belongs to and returns an error of
// the same kind whose message is only what failed, in the user's terms.
func (w *Worker) userError(jobID string, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	w.logger().Error(msg, "job", jobID, "error", cause.Error())
	return fault.New(fault.KindOf(cause), "%s", msg)
}

// short is a commit as people quote it.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
