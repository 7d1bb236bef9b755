package natsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// Polling of the result store by a retried dispatch (see awaitStored).
const (
	firstPoll = 100 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// Dispatch queues j and waits for its result: for MaxDeliver times the
// job's Timeout (its type's AckWait when it has none), plus one Timeout of
// grace (at most 30 s), or until ctx ends. A retry of a job ID that the
// stream still remembers does not queue the job again; it gets the
// result of the first. Errors: Validation (unknown type, empty ID, a job
// too large for a message), Unavailable (no connection, no stream, a full
// stream, no result in time, or ctx ended: errors.Is sees ctx's error).
func (q *Queue) Dispatch(ctx context.Context, j job.Job) (job.Result, error) {
	r, err := q.route(j.Type)
	if err != nil {
		return job.Result{}, err
	}
	if j.ID == "" {
		return job.Result{}, fault.New(fault.Validation, "a job needs an ID")
	}
	if j.Timeout < 0 {
		return job.Result{}, fault.New(fault.Validation, "job %s: negative timeout %s", j.ID, j.Timeout)
	}
	data, err := json.Marshal(j)
	if err != nil {
		return job.Result{}, fault.Wrap(fault.Validation, err, "encoding job %s", j.ID)
	}
	tok := token(j.ID)
	resultSubject := q.resPfx + tok

	// Wait on an inbox of the queue's reply subscription, made before
	// publishing, so the result cannot come first.
	inbox, results, err := q.replies.register(q.nc)
	if err != nil {
		return job.Result{}, unavailable(err, "dispatching job %s: subscribing to replies", j.ID)
	}
	defer q.replies.unregister(inbox)

	msg := nats.NewMsg(r.subject + tok)
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, tok)
	msg.Header.Set(HeaderReplyTo, inbox)
	msg.Header.Set("Content-Type", "application/json")
	if tp := ports.Traceparent(ports.JobTraceID(ctx, j.RunID)); tp != "" {
		msg.Header.Set(ports.TraceparentHeader, tp)
	}
	ack, err := q.js.PublishMsg(ctx, msg)
	if err != nil {
		return job.Result{}, publishError(err, j, msg.Subject)
	}

	timeout := q.timeout(j)
	grace := timeout
	if grace > 30*time.Second {
		grace = 30 * time.Second
	}
	wait := MaxDeliver*timeout + grace
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()

	var res job.Result
	if ack.Duplicate {
		// The job was queued before, with another reply inbox: its
		// result comes on its result subject, or is stored already.
		sub, serr := q.nc.ChanSubscribe(resultSubject, results)
		if serr != nil {
			return job.Result{}, unavailable(serr, "dispatching job %s: subscribing to %s", j.ID, resultSubject)
		}
		defer func() { _ = sub.Unsubscribe() }()
		res, err = q.awaitStored(wctx, results, j.ID, resultSubject, 0)
	} else {
		// The reply normally comes on the inbox; should it be lost (the
		// connection dropped while it was sent), the stored copy answers.
		res, err = q.awaitStored(wctx, results, j.ID, resultSubject, maxPoll)
	}
	if err == nil {
		return res, nil
	}
	switch {
	case ctx.Err() != nil:
		return job.Result{}, unavailable(ctx.Err(), "waiting for job %s", j.ID)
	case wctx.Err() != nil:
		return job.Result{}, fault.New(fault.Unavailable, "timed out: no result for job %s (%s) within %s (%d deliveries of %s)", j.ID, j.Type, wait, MaxDeliver, timeout)
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return job.Result{}, err
	}
	return job.Result{}, unavailable(err, "waiting for job %s", j.ID)
}

// awaitStored waits for a job's result to come on live or to be stored,
// reading the store after first (at once when zero) and again now and
// then: the stored copy may lag the live message, and the live message
// may be lost.
func (q *Queue) awaitStored(ctx context.Context, live <-chan *nats.Msg, jobID, subject string, first time.Duration) (job.Result, error) {
	wait, poll := first, firstPoll
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case m := <-live:
				t.Stop()
				return q.decode(ctx, jobID, m.Header, m.Data)
			case <-ctx.Done():
				t.Stop()
				return job.Result{}, ctx.Err()
			case <-t.C:
			}
		}
		// Each read is bounded on its own: an answer lost in a
		// reconnection must not hold the wait (and the live result).
		rctx, cancel := context.WithTimeout(ctx, publishAttempt)
		stored, err := q.results.GetLastMsgForSubject(rctx, subject)
		cancel()
		switch {
		case err == nil:
			return q.decode(ctx, jobID, stored.Header, stored.Data)
		case ctx.Err() != nil:
			return job.Result{}, ctx.Err()
		case !errors.Is(err, jetstream.ErrMsgNotFound) && !transient(err):
			return job.Result{}, unavailable(err, "reading the stored result of job %s", jobID)
		}
		wait, poll = poll, min(2*poll, maxPoll)
	}
}

// publishError classifies an error of publishing a job.
func publishError(err error, j job.Job, subject string) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return fault.Wrap(fault.Validation, err, "job %s is too large for a message", j.ID)
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return unavailable(err, "queueing job %s: no stream takes %s", j.ID, subject)
	case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum:
		return fault.Wrap(fault.Validation, err, "job %s is too large for its stream", j.ID)
	}
	return unavailable(err, "queueing job %s on %s", j.ID, subject)
}

// replyMux is a queue's one subscription for replies: every dispatch
// waits on an inbox under it, so a dispatch costs no subscription of its
// own on the server (nats.go's request mux, for replies that come from
// a work queue).
type replyMux struct {
	once    sync.Once
	err     error
	prefix  string
	mu      sync.Mutex
	next    uint64
	waiting map[string]chan *nats.Msg
}

// register returns a new inbox and the channel its replies arrive on.
func (r *replyMux) register(nc *nats.Conn) (string, chan *nats.Msg, error) {
	r.once.Do(func() {
		r.prefix = nc.NewInbox() + "."
		r.waiting = map[string]chan *nats.Msg{}
		_, r.err = nc.Subscribe(r.prefix+"*", r.deliver)
	})
	if r.err != nil {
		return "", nil, r.err
	}
	ch := make(chan *nats.Msg, 4) // one reply is expected, two at most
	r.mu.Lock()
	r.next++
	key := strconv.FormatUint(r.next, 36)
	r.waiting[key] = ch
	r.mu.Unlock()
	return r.prefix + key, ch, nil
}

func (r *replyMux) unregister(inbox string) {
	r.mu.Lock()
	delete(r.waiting, strings.TrimPrefix(inbox, r.prefix))
	r.mu.Unlock()
}

func (r *replyMux) deliver(m *nats.Msg) {
	r.mu.Lock()
	ch := r.waiting[lastToken(m.Subject)]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m:
		default: // a third copy: the dispatcher has what it needs
		}
	}
}
