package natsqueue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// Results up to this size travel in the message (spec 03: under 1 MB);
// larger ones go to the ObjectStore.
const maxInlineResult = 1 << 20

// headerRoom is what a result message keeps free for its headers.
const headerRoom = 4 << 10

// abandoned is the error of a job whose every delivery was lost.
var abandoned = fmt.Sprintf("job abandoned after %d deliveries", MaxDeliver)

// outcome is what a worker replies for one delivery.
type outcome struct {
	attempt int
	payload []byte
	err     string // the handler's error; payload is ignored when set
}

// inlineLimit is the largest payload sent in the message itself.
func (q *Queue) inlineLimit() int {
	limit := maxInlineResult
	if mp := int(q.nc.MaxPayload()) - headerRoom; mp > 0 && mp < limit {
		limit = mp
	}
	return limit
}

// ResultKey is the ObjectStore key of a job's large result.
func ResultKey(jobID string) string { return "jobs/" + token(jobID) + "/result" }

// reply sends a job's result to replyTo (the dispatcher's inbox), then
// publishes it through JetStream to the job's result subject, where it is
// stored unless a result is stored already: the first result wins.
func (q *Queue) reply(ctx context.Context, jobToken, replyTo string, o outcome) error {
	msg := nats.NewMsg(q.resPfx + jobToken)
	msg.Header.Set(HeaderAttempt, strconv.Itoa(o.attempt))
	switch {
	case o.err != "":
		msg.Header.Set(HeaderStatus, "error")
		msg.Data = []byte(o.err)
	case len(o.payload) > q.inlineLimit():
		if q.cfg.objects == nil {
			msg.Header.Set(HeaderStatus, "error")
			msg.Data = fmt.Appendf(nil, "the result of %d bytes is too large for a message (over %d bytes) and the queue has no object store (natsqueue.WithObjectStore)", len(o.payload), q.inlineLimit())
			break
		}
		key := "jobs/" + jobToken + "/result"
		if _, err := q.cfg.objects.Put(ctx, key, bytes.NewReader(o.payload), ports.PutOptions{ContentType: "application/octet-stream"}); err != nil {
			return fmt.Errorf("storing the result at %s: %w", key, err)
		}
		msg.Header.Set(HeaderResultKey, key)
	default:
		msg.Data = o.payload
	}
	if replyTo != "" && replyTo != msg.Subject {
		// The dispatcher's inbox first: it is waiting.
		cp := nats.NewMsg(replyTo)
		cp.Header, cp.Data = msg.Header, msg.Data
		_ = q.nc.PublishMsg(cp) // best effort: the stored result is the record
	}
	return q.store(ctx, msg)
}

// publishAttempt bounds one attempt to store a result: an answer lost in
// a reconnection is not waited for longer.
const publishAttempt = 5 * time.Second

// transient says err is worth another attempt: no answer in time, or no
// server to answer (a reconnection, a JetStream leader election).
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// store keeps a result in the results stream, trying again until ctx ends
// when an attempt gets no answer: storing is idempotent (the first result
// of a job wins), so a retry cannot store a second one.
func (q *Queue) store(ctx context.Context, msg *nats.Msg) error {
	for {
		actx, cancel := context.WithTimeout(ctx, publishAttempt)
		_, err := q.js.PublishMsg(actx, msg, jetstream.WithExpectLastSequencePerSubject(0))
		cancel()
		var apiErr *jetstream.APIError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
			return nil // a result is stored already; the first one wins
		case ctx.Err() != nil || !transient(err):
			return fmt.Errorf("publishing the result: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("publishing the result: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// decode turns a result message into a Result, reading a large payload
// back from the ObjectStore.
func (q *Queue) decode(ctx context.Context, jobID string, h nats.Header, data []byte) (job.Result, error) {
	res := job.Result{JobID: jobID}
	res.Attempt, _ = strconv.Atoi(h.Get(HeaderAttempt))
	if h.Get(HeaderStatus) == "error" {
		res.Error = string(data)
		return res, nil
	}
	key := h.Get(HeaderResultKey)
	if key == "" {
		res.Payload = data
		return res, nil
	}
	if q.cfg.objects == nil {
		return job.Result{}, fault.New(fault.Internal, "the result of job %s is in the object store at %s, and this queue has no object store (natsqueue.WithObjectStore)", jobID, key)
	}
	r, _, err := q.cfg.objects.Get(ctx, key, 0)
	if err != nil {
		return job.Result{}, fault.Wrap(fault.Unavailable, err, "reading the result of job %s from %s", jobID, key)
	}
	defer r.Close()
	if res.Payload, err = io.ReadAll(r); err != nil {
		return job.Result{}, fault.Wrap(fault.Unavailable, err, "reading the result of job %s from %s", jobID, key)
	}
	return res, nil
}
