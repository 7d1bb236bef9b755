package natsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

const (
	// pullWait is how long one pull request waits for jobs on the server;
	// contendedPullWait, while types contend for slots (pool.pullWaitFor),
	// for contentionMemory after the last time one lacked a slot.
	pullWait          = 2 * time.Second
	contendedPullWait = 200 * time.Millisecond
	contentionMemory  = 5 * time.Second
	// replyTimeout bounds storing and publishing one result.
	replyTimeout = time.Minute
	// maxBackoff bounds the pause after failed pulls.
	maxBackoff = 5 * time.Second
)

// ConsumerName is the durable consumer of jobs of type t.
func ConsumerName(t job.Type) string { return string(t) + "-consumer" }

// Consume pulls jobs of the given types from their durable consumers
// and runs handle for each, at most concurrency at once, until ctx ends;
// then it stops pulling, lets running handlers finish (their results are
// still sent) or, past the shutdown grace (WithShutdownGrace), cancels
// them and hands their jobs back, and returns nil. Handlers get a context
// that ctx's end does not cancel; it is cancelled when the job's lease is
// lost or the grace has passed. Errors:
// Validation (no or unknown types, concurrency under 1, no handler),
// Conflict (the server refused a consumer's configuration), Unavailable
// (the connection closed, or a stream is gone).
func (q *Queue) Consume(ctx context.Context, types []job.Type, concurrency int, handle ports.JobHandler) error {
	if len(types) == 0 {
		return fault.New(fault.Validation, "consume needs at least one job type")
	}
	if concurrency < 1 {
		return fault.New(fault.Validation, "concurrency %d: want at least 1", concurrency)
	}
	if handle == nil {
		return fault.New(fault.Validation, "consume needs a handler")
	}
	var routes []route
	for _, t := range types {
		r, err := q.route(t)
		if err != nil {
			return err
		}
		if !containsRoute(routes, t) {
			routes = append(routes, r)
		}
	}
	if ctx.Err() != nil {
		return nil
	}

	c := &consumption{q: q, ctx: ctx, handle: handle, failed: make(chan struct{})}
	c.fetchCtx, c.cancelFetch = context.WithCancel(context.WithoutCancel(ctx))
	defer c.cancelFetch()
	c.hard, c.stopHard = context.WithCancelCause(context.WithoutCancel(ctx))
	defer c.stopHard(nil)
	var pullers []*puller
	for _, r := range routes {
		p := &puller{route: r, stream: q.streams[r.stream]}
		if err := c.ensureConsumer(ctx, p); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", r.stream, ConsumerName(r.typ))
		sub, err := q.nc.Subscribe(subject, func(m *nats.Msg) { c.onMaxDeliveries(p, m) })
		if err != nil {
			return unavailable(err, "subscribing to %s", subject)
		}
		defer func() { _ = sub.Unsubscribe() }()
		pullers = append(pullers, p)
	}

	c.pool = newPool(concurrency)
	c.fetches = make(chan *fetch, concurrency)
	for range concurrency {
		c.handlers.Add(1)
		go c.handleLoop()
	}
	c.share = (concurrency + len(pullers) - 1) / len(pullers)
	c.batch = max(1, c.share/4)
	for _, p := range pullers {
		c.pullers.Add(1)
		go c.pull(p)
	}
	select {
	case <-ctx.Done():
	case <-c.failed:
	}
	c.pool.stop()
	c.cancelFetch()
	if g := q.cfg.grace; g > 0 {
		t := time.AfterFunc(g, func() { c.stopHard(ErrShuttingDown) })
		defer t.Stop()
	}
	c.pullers.Wait()
	c.open.Wait()
	close(c.fetches)
	c.handlers.Wait()
	if q.nc.IsConnected() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		c.acks.confirm(actx)
		cancel()
	} else {
		c.acks.flush()
	}
	c.closeSide()
	// Acks and hand-backs are sent without waiting; a round trip makes
	// sure the server has them before the caller closes the connection
	// (or stops an embedded server).
	if q.nc.IsConnected() {
		_ = q.nc.FlushTimeout(5 * time.Second)
	}
	if ctx.Err() != nil {
		return nil // stopping may have broken a pull: not a failure
	}
	return c.err
}

func containsRoute(routes []route, t job.Type) bool {
	for _, r := range routes {
		if r.typ == t {
			return true
		}
	}
	return false
}

// consumption is one running Consume.
type consumption struct {
	q      *Queue
	ctx    context.Context
	handle ports.JobHandler
	pool   *pool
	share  int // slots one type may hold reserved
	batch  int // smallest fetch under load

	fetchCtx    context.Context
	cancelFetch context.CancelFunc
	// hard is the parent of handlers' contexts: cancelled when the
	// shutdown grace has passed.
	hard     context.Context
	stopHard context.CancelCauseFunc

	// pullers counts the puller goroutines, handlers the handler
	// goroutines, open the fetches not yet finished.
	pullers, handlers, open sync.WaitGroup
	// fetches holds the fetches that wait for a handler goroutine to
	// read their next job (see handleLoop).
	fetches chan *fetch

	// side is work started by advisories.
	sideMu     sync.Mutex
	sideClosed bool
	side       sync.WaitGroup

	// acks holds the acks of replied jobs for a moment (see ackHolder).
	acks ackHolder

	failOnce sync.Once
	failed   chan struct{}
	err      error
}

// puller fetches the jobs of one type.
type puller struct {
	route  route
	stream jetstream.Stream
	cons   jetstream.Consumer
	claim  claim // guarded by the pool's mutex

	mu       sync.Mutex
	failures int
	retryAt  time.Time
	recreate bool
}

func (c *consumption) ensureConsumer(ctx context.Context, p *puller) error {
	cons, err := p.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       ConsumerName(p.route.typ),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       p.route.ackWait,
		MaxDeliver:    MaxDeliver,
		FilterSubject: p.route.filter(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	})
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fault.Wrap(fault.Conflict, err, "creating consumer %s on %s", ConsumerName(p.route.typ), p.route.stream)
		}
		return unavailable(err, "creating consumer %s on %s", ConsumerName(p.route.typ), p.route.stream)
	}
	p.cons = cons
	return nil
}

// fail stops the consumption with err.
func (c *consumption) fail(err error) {
	c.failOnce.Do(func() {
		c.err = err
		close(c.failed)
	})
}

// pull keeps fetches outstanding for the free slots of one type.
func (c *consumption) pull(p *puller) {
	defer c.pullers.Done()
	for {
		if d, recreate := p.backoff(); d > 0 || recreate {
			select {
			case <-time.After(d):
			case <-c.fetchCtx.Done():
				return
			}
			if recreate {
				if err := c.ensureConsumer(c.fetchCtx, p); err != nil {
					if errors.Is(err, jetstream.ErrStreamNotFound) {
						c.fail(err)
						return
					}
					p.failed(true)
					continue
				}
				p.mu.Lock()
				p.recreate = false
				p.mu.Unlock()
			}
		}
		n := c.pool.take(&p.claim, c.share, c.batch)
		if n == 0 {
			return
		}
		fctx, cancel := context.WithTimeout(c.fetchCtx, c.pool.pullWaitFor(time.Now()))
		batch, err := p.cons.Fetch(n, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			c.pool.giveBack(&p.claim, n)
			c.noteError(p, err)
			continue
		}
		c.open.Add(1)
		c.fetches <- &fetch{p: p, batch: batch, n: n, cancel: cancel}
	}
}

// fetch is one outstanding pull request and its delivery channel. One
// handler goroutine at a time reads from it.
type fetch struct {
	p      *puller
	batch  jetstream.MessageBatch
	n, got int
	cancel context.CancelFunc
}

// finish returns the slots the fetch did not fill and notes its error.
// Its channel is closed.
func (c *consumption) finish(f *fetch) {
	defer c.open.Done()
	f.cancel()
	c.pool.settle(&f.p.claim, f.got == 0)
	c.pool.giveBack(&f.p.claim, f.n-f.got)
	if err := f.batch.Error(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		c.noteError(f.p, err)
		return
	}
	f.p.succeeded()
}

// noteError records a failed pull: the connection is gone for good, or
// the puller backs off (and recreates its consumer when it is gone).
func (c *consumption) noteError(p *puller, err error) {
	if errors.Is(err, nats.ErrConnectionClosed) || c.q.nc.IsClosed() {
		c.fail(unavailable(err, "consuming %s jobs: the NATS connection is closed", p.route.typ))
		return
	}
	gone := errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
	p.failed(gone)
}

func (p *puller) failed(recreate bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures++
	d := min(maxBackoff, 50*time.Millisecond<<min(p.failures, 7))
	p.retryAt = time.Now().Add(d)
	p.recreate = p.recreate || recreate
}

func (p *puller) succeeded() {
	p.mu.Lock()
	p.failures = 0
	p.mu.Unlock()
}

// backoff returns how long to wait before the next pull, and whether the
// consumer must be created again first.
func (p *puller) backoff() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Until(p.retryAt), p.recreate
}

// handleLoop is one of the concurrency handler goroutines of a Consume.
// Each takes a fetch that waits for a reader, waits for its next job,
// passes the fetch on to another goroutine (there is always one free: a
// fetch only waits while it holds free slots), and runs the job itself,
// so a job goes to its handler without another hand-off. The goroutines
// live as long as Consume, so their stacks, grown once, serve every job.
func (c *consumption) handleLoop() {
	defer c.handlers.Done()
	for f := range c.fetches {
		m, ok := <-f.batch.Messages()
		if !ok {
			c.finish(f)
			continue
		}
		f.got++
		c.pool.delivered(&f.p.claim)
		// m is stored: acking the held jobs cannot empty its stream.
		c.acks.flush()
		if f.got < f.n {
			c.fetches <- f
		} else {
			// The fetch is full: its channel closes right away.
			for range f.batch.Messages() {
			}
			c.finish(f)
		}
		if c.pool.isStopped() {
			// Consume is stopping: hand the job straight back.
			_ = m.Nak()
		} else {
			c.run(f.p, m)
		}
		c.pool.done()
	}
}

// run handles one delivery: decode, lease, handler, reply, ack.
func (c *consumption) run(p *puller, m jetstream.Msg) {
	attempt := 1
	if md, err := m.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	tok := lastToken(m.Subject())
	var j job.Job
	if err := json.Unmarshal(m.Data(), &j); err != nil || j.Type != p.route.typ || token(j.ID) != tok {
		c.reject(m, tok, attempt, p.route.typ, err)
		return
	}

	hctx, cancel := context.WithCancel(c.hard)
	defer cancel()
	if trace, ok := ports.ParseTraceparent(m.Headers().Get(ports.TraceparentHeader)); ok {
		hctx = ports.WithTraceID(hctx, trace)
	}
	l := startLease(m, c.q.timeout(j), p.route.ackWait, func() {
		cancel()
		c.handBack(m, tok, attempt)
	})
	d := &ports.Delivery{Job: j, Attempt: attempt, Progress: func() error {
		if c.q.nc.IsClosed() {
			return fault.New(fault.Unavailable, "job %s: the NATS connection is closed", j.ID)
		}
		return l.progress(j.ID)
	}}
	payload, err := safeHandle(hctx, d, c.handle)
	if !l.finish() {
		return // the job went back to the queue; this outcome is dropped
	}
	if c.hard.Err() != nil {
		// Stopped by the shutdown: another worker runs it again, unless
		// this was its last delivery.
		c.handBack(m, tok, attempt)
		return
	}
	o := outcome{attempt: attempt, payload: payload}
	if err != nil {
		o.payload, o.err = nil, err.Error()
		if o.err == "" {
			o.err = "the handler failed"
		}
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(c.ctx), replyTimeout)
	defer rcancel()
	// Reply first, then ack: a crash in between repeats the job, it does
	// not lose its result.
	if err := c.q.reply(rctx, tok, m.Headers().Get(HeaderReplyTo), o); err != nil {
		_ = m.Nak()
		return
	}
	c.acks.hold(m)
}

// handBack gives a job whose lease was lost back to the queue, or, on its
// last delivery, abandons it with an error result.
func (c *consumption) handBack(m jetstream.Msg, tok string, attempt int) {
	if attempt < MaxDeliver {
		_ = m.Nak()
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), replyTimeout)
	defer cancel()
	if err := c.q.reply(ctx, tok, m.Headers().Get(HeaderReplyTo), outcome{attempt: attempt, err: abandoned}); err != nil {
		return // the max-deliveries advisory gets another chance
	}
	_ = m.Term()
}

// reject ends a message that is not a job of this consumer's type: it can
// never succeed, so it is terminated with an error result.
func (c *consumption) reject(m jetstream.Msg, tok string, attempt int, t job.Type, cause error) {
	why := "its job ID, type or subject do not match"
	if cause != nil {
		why = cause.Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), replyTimeout)
	defer cancel()
	_ = c.q.reply(ctx, tok, m.Headers().Get(HeaderReplyTo), outcome{
		attempt: attempt,
		err:     fmt.Sprintf("natsqueue: the message on %s is not a %s job: %s", m.Subject(), t, why),
	})
	_ = m.Term()
}

// onMaxDeliveries answers the server's advisory that a job was delivered
// MaxDeliver times without an ack (its last worker died): the job is
// abandoned with an error result and removed from its stream. Every
// worker of the type sees the advisory; the first result stored wins.
func (c *consumption) onMaxDeliveries(p *puller, m *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries int    `json:"deliveries"`
	}
	if err := json.Unmarshal(m.Data, &adv); err != nil || adv.StreamSeq == 0 {
		return
	}
	c.goSide(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), replyTimeout)
		defer cancel()
		raw, err := p.stream.GetMsg(ctx, adv.StreamSeq)
		if err != nil {
			return // another worker removed it
		}
		attempt := max(adv.Deliveries, MaxDeliver)
		if err := c.q.reply(ctx, lastToken(raw.Subject), raw.Header.Get(HeaderReplyTo), outcome{attempt: attempt, err: abandoned}); err != nil {
			return
		}
		_ = p.stream.DeleteMsg(ctx, adv.StreamSeq)
	})
}

// goSide runs f in the background unless Consume is returning.
func (c *consumption) goSide(f func()) {
	c.sideMu.Lock()
	defer c.sideMu.Unlock()
	if c.sideClosed {
		return
	}
	c.side.Add(1)
	go func() {
		defer c.side.Done()
		f()
	}()
}

// closeSide waits for background work and refuses more.
func (c *consumption) closeSide() {
	c.sideMu.Lock()
	c.sideClosed = true
	c.sideMu.Unlock()
	c.side.Wait()
}

// safeHandle runs the handler, turning a panic into an error.
func safeHandle(ctx context.Context, d *ports.Delivery, handle ports.JobHandler) (payload []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			payload, err = nil, fmt.Errorf("the handler panicked: %v", r)
		}
	}()
	return handle(ctx, d)
}
