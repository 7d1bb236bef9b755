// Package memqueue is the in-memory JobQueue: jobs wait in per-type FIFO
// queues inside the process, with the same delivery rules as the NATS
// adapter (deduplication by job ID, leases that progress extends, up to
// three deliveries). Application tests use it; it is in the adapters layer
// (adapters/memory) and keeps nothing across restarts.
package memqueue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// MaxDeliver is how many times a job is delivered before it is abandoned.
const MaxDeliver = 3

// Queue is an in-memory job queue. The zero value is not usable; call New.
type Queue struct {
	mu      sync.Mutex
	pending map[job.Type][]*entry
	byID    map[string]*entry
	wake    chan struct{} // closed and replaced whenever work arrives
	reaper  sync.Once
	stop    chan struct{}
	closed  sync.Once
}

type entry struct {
	job      job.Job
	trace    string // the trace ID its handler's context carries (ports.TraceIDFrom)
	attempts int
	lease    int       // attempt holding the job; 0 while queued
	expires  time.Time // end of the current lease
	started  chan struct{}
	done     chan struct{}
	result   job.Result
}

var _ ports.JobQueue = (*Queue)(nil)

// New returns an empty queue.
func New() *Queue {
	return &Queue{pending: map[job.Type][]*entry{}, byID: map[string]*entry{}, wake: make(chan struct{}), stop: make(chan struct{})}
}

// Close stops the queue's lease keeper. Jobs still queued are dropped.
func (q *Queue) Close() {
	q.closed.Do(func() { close(q.stop) })
}

func validate(j job.Job) error {
	if j.ID == "" {
		return fault.New(fault.Validation, "a job needs an ID")
	}
	if _, _, err := j.Type.Stream(); err != nil {
		return fault.New(fault.Validation, "%v", err)
	}
	if j.Timeout <= 0 {
		return fault.New(fault.Validation, "job %s needs a positive timeout", j.ID)
	}
	return nil
}

// notify wakes every consumer waiting for work. Callers hold q.mu.
func (q *Queue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Dispatch queues j (unless a job with its ID is queued or running) and
// waits for its result.
func (q *Queue) Dispatch(ctx context.Context, j job.Job) (job.Result, error) {
	if err := validate(j); err != nil {
		return job.Result{}, err
	}
	q.reaper.Do(func() { go q.reap() })
	q.mu.Lock()
	e, ok := q.byID[j.ID]
	if !ok {
		e = &entry{job: j, trace: ports.JobTraceID(ctx, j.RunID), started: make(chan struct{}), done: make(chan struct{})}
		q.byID[j.ID] = e
		q.pending[j.Type] = append(q.pending[j.Type], e)
		q.notify()
	}
	q.mu.Unlock()

	wait := time.NewTimer(j.Timeout)
	defer wait.Stop()
	select {
	case <-e.started: // a worker has it: wait for its end
	case <-e.done:
	case <-wait.C:
		return job.Result{}, fault.New(fault.Unavailable, "timed out after %s: no worker took job %s (%s)", j.Timeout, j.ID, j.Type)
	case <-ctx.Done():
		return job.Result{}, fault.Wrap(fault.Unavailable, ctx.Err(), "waiting for job %s", j.ID)
	}
	select {
	case <-e.done:
		return e.result, nil
	case <-ctx.Done():
		return job.Result{}, fault.Wrap(fault.Unavailable, ctx.Err(), "waiting for job %s", j.ID)
	}
}

// Consume runs handle for jobs of types, concurrency at a time, until ctx
// ends; running handlers finish before it returns.
func (q *Queue) Consume(ctx context.Context, types []job.Type, concurrency int, handle ports.JobHandler) error {
	if len(types) == 0 {
		return fault.New(fault.Validation, "consume needs at least one job type")
	}
	for _, t := range types {
		if _, _, err := t.Stream(); err != nil {
			return fault.New(fault.Validation, "%v", err)
		}
	}
	if concurrency <= 0 {
		concurrency = 1
	}
	q.reaper.Do(func() { go q.reap() })
	slots := make(chan struct{}, concurrency)
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		e, attempt, ok := q.take(ctx, types)
		if !ok {
			<-slots
			return nil
		}
		running.Add(1)
		go func() {
			defer running.Done()
			defer func() { <-slots }()
			q.run(e, attempt, handle)
		}()
	}
}

// take waits for the next queued job of one of types and leases it.
func (q *Queue) take(ctx context.Context, types []job.Type) (*entry, int, bool) {
	for {
		q.mu.Lock()
		for _, t := range types {
			if list := q.pending[t]; len(list) > 0 {
				e := list[0]
				q.pending[t] = list[1:]
				e.attempts++
				e.lease = e.attempts
				e.expires = time.Now().Add(e.job.Timeout)
				if e.attempts == 1 {
					close(e.started)
				}
				q.mu.Unlock()
				return e, e.attempts, true
			}
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, 0, false
		}
	}
}

// run executes one delivery and records its result if it still holds the lease.
func (q *Queue) run(e *entry, attempt int, handle ports.JobHandler) {
	hctx, cancel := context.WithTimeout(context.Background(), e.job.Timeout*MaxDeliver)
	defer cancel()
	d := &ports.Delivery{Job: e.job, Attempt: attempt, Progress: func() error {
		q.mu.Lock()
		defer q.mu.Unlock()
		if e.lease != attempt {
			return fault.New(fault.Conflict, "job %s was given to another worker", e.job.ID)
		}
		e.expires = time.Now().Add(e.job.Timeout)
		return nil
	}}
	payload, err := safeHandle(ports.WithTraceID(hctx, e.trace), d, handle)
	res := job.Result{JobID: e.job.ID, Payload: payload, Attempt: attempt}
	if err != nil {
		res.Payload, res.Error = nil, err.Error()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.lease != attempt {
		return // the lease expired and the job went to another worker
	}
	q.finish(e, res)
}

func safeHandle(ctx context.Context, d *ports.Delivery, handle ports.JobHandler) (payload []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("handler panicked")
		}
	}()
	return handle(ctx, d)
}

// finish records a result and forgets the job. Callers hold q.mu.
func (q *Queue) finish(e *entry, res job.Result) {
	e.result = res
	e.lease = -1
	delete(q.byID, e.job.ID)
	close(e.done)
}

// reap requeues jobs whose lease expired, and abandons those delivered
// MaxDeliver times.
func (q *Queue) reap() {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var now time.Time
		select {
		case now = <-tick.C:
		case <-q.stop:
			return
		}
		q.mu.Lock()
		for _, e := range q.byID {
			if e.lease <= 0 || now.Before(e.expires) {
				continue
			}
			if e.attempts >= MaxDeliver {
				q.finish(e, job.Result{JobID: e.job.ID, Attempt: e.attempts, Error: "job abandoned after 3 deliveries"})
				continue
			}
			e.lease = 0
			q.pending[e.job.Type] = append(q.pending[e.job.Type], e)
			q.notify()
		}
		q.mu.Unlock()
	}
}
