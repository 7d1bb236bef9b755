// Package running is the use case of pipeline runs as the API sees them:
// create a run for a commit (idempotently), read and list runs, cancel
// them, and record the task and step statuses workers report. It is in the
// application layer.
package running
