package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/job"
)

// JobQueue hands jobs from the orchestrator (the dispatcher side) to
// workers and carries their results back (request-reply over a durable
// work queue, spec 03). Safe for concurrent use.
type JobQueue interface {
	// Dispatch queues j and waits for its result until j.Timeout (per
	// attempt, across redeliveries) or ctx ends. Dispatching a job ID that
	// is already queued does not queue it twice: the retry waits for the
	// same job. The handler's context carries ctx's trace ID, or else the
	// run's (TraceIDFrom, RunTraceID). A result whose handler failed is
	// returned with Error set, not as an error. Errors: Validation
	// (unknown type, empty ID), Unavailable (the broker cannot be reached;
	// a timeout is Unavailable too, with a message that says so).
	Dispatch(ctx context.Context, j job.Job) (job.Result, error)
	// Consume pulls jobs of the given types and runs handle for each, as
	// many at once as concurrency, until ctx ends; then it stops pulling,
	// lets running handlers finish, and returns nil. A job whose handler
	// returns is replied to and acknowledged; a worker that dies mid-job
	// loses it to another after the job's Timeout, up to 3 deliveries.
	// Errors: Validation, Unavailable.
	Consume(ctx context.Context, types []job.Type, concurrency int, handle JobHandler) error
}

// JobHandler runs one job. Its returned payload (or error, as text)
// becomes the job's Result. It must call d.Progress at least once per
// Timeout while it works, so a long job is not redelivered while alive.
type JobHandler func(ctx context.Context, d *Delivery) ([]byte, error)

// Delivery is one delivery of a job to a worker.
type Delivery struct {
	Job job.Job
	// Attempt counts deliveries, from 1.
	Attempt int
	// Progress tells the queue the job is still being worked on.
	Progress func() error
}
