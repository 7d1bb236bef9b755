package natstransport

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	kitnats "github.com/go-kit/kit/transport/nats"
	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// DefaultConcurrency is how many requests a Server handles at once when
// Options.Concurrency is 0.
const DefaultConcurrency = 64

// Options tune a Server.
type Options struct {
	// Concurrency bounds the requests handled at once (default
	// DefaultConcurrency); more wait in the subscription's buffer.
	Concurrency int
	// MaxTimeout bounds the time a caller may ask for (default 1 minute);
	// a request without Forge-Timeout-Ms gets it.
	MaxTimeout time.Duration
	// Prefix replaces SubjectPrefix, for several API installations (or
	// tests) on one NATS server; the clients must use the same.
	Prefix string
	// Observe, when set, is told of every request: its endpoint's name,
	// its code (the outcome, or the error's code) and its duration.
	Observe func(route, code string, took time.Duration)
}

// Server serves an endpoint set over NATS until Close.
type Server struct {
	subs []*nats.Subscription
	wg   sync.WaitGroup
	sem  chan struct{}
	log  logrus.FieldLogger

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close: waiting requests are dropped
}

// call is one request in flight: what its log line reports.
type call struct {
	start  time.Time
	code   string
	fields *endpoints.LogFields
}

type callKey struct{}

// authErrorKey holds, in a request's context, why its token was refused:
// the decoder answers with it before reading the body, as HTTP does.
type authErrorKey struct{}

// timeoutKey holds the time the caller waits.
type timeoutKey struct{}

// Serve subscribes every endpoint of set on nc, in the queue group
// QueueGroup, verifying each caller's token with verifier.
func Serve(nc *nats.Conn, set endpoints.Set, verifier ports.TokenVerifier, log logrus.FieldLogger, o Options) (*Server, error) {
	if log == nil {
		log = logrus.New()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxTimeout <= 0 {
		o.MaxTimeout = time.Minute
	}
	if o.Prefix == "" {
		o.Prefix = SubjectPrefix
	}
	s := &Server{sem: make(chan struct{}, o.Concurrency), log: log, done: make(chan struct{})}
	for _, ep := range set.All() {
		sub := kitnats.NewSubscriber(withTimeout(ep.Serve), decoder(ep), encodeReply,
			kitnats.SubscriberBefore(before(verifier, o.MaxTimeout)),
			kitnats.SubscriberErrorEncoder(func(ctx context.Context, err error, reply string, nc *nats.Conn) {
				logError(ctx, log, ep.Name, err)
				encodeError(ctx, err, reply, nc)
			}),
			kitnats.SubscriberFinalizer(func(ctx context.Context, msg *nats.Msg) {
				c, _ := ctx.Value(callKey{}).(*call)
				if c == nil {
					return
				}
				took := time.Since(c.start)
				line := logrus.Fields{"subject": msg.Subject, "code": c.code, "trace_id": ports.TraceIDFrom(ctx),
					"duration_ms": float64(took.Microseconds()) / 1000}
				c.fields.Each(func(k, v string) { line[k] = v })
				log.WithFields(line).Info("request")
				if o.Observe != nil {
					o.Observe(ep.Name, c.code, took)
				}
			}))
		serve := sub.ServeMsg(nc)
		ns, err := nc.QueueSubscribe(o.Prefix+ep.Name, QueueGroup, func(msg *nats.Msg) { s.handle(nc, msg, serve) })
		if err != nil {
			s.Close(context.Background())
			return nil, fault.Wrap(fault.Unavailable, err, "subscribing to %s", o.Prefix+ep.Name)
		}
		s.subs = append(s.subs, ns)
	}
	if err := nc.Flush(); err != nil {
		s.Close(context.Background())
		return nil, fault.Wrap(fault.Unavailable, err, "subscribing the API's endpoints on NATS")
	}
	return s, nil
}

// handle serves one message in a goroutine of its own, at most
// Concurrency at once. A request that waited for a slot has its timeout
// shortened by the wait (and is answered unavailable when none is left),
// so the server never works on a call its caller has given up; a request
// still waiting when Close begins is dropped; a handler that panics is
// answered internal_error, and the server lives on.
func (s *Server) handle(nc *nats.Conn, msg *nats.Msg, serve func(*nats.Msg)) {
	arrived := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		s.wg.Done()
		return
	}
	go func() {
		defer func() { <-s.sem; s.wg.Done() }()
		defer func() {
			if r := recover(); r != nil {
				s.log.WithField("subject", msg.Subject).Errorf("a NATS request's handler panicked: %v", r)
				encodeError(context.Background(), fault.New(fault.Internal, "the handler of %s panicked", msg.Subject), msg.Reply, nc)
			}
		}()
		if waited := time.Since(arrived); waited > 10*time.Millisecond {
			if ms, err := strconv.ParseInt(msg.Header.Get(TimeoutHeader), 10, 64); err == nil {
				left := ms - waited.Milliseconds()
				if left <= 0 {
					encodeError(context.Background(), fault.New(fault.Unavailable, "the server was busy: the request waited longer than its caller would"), msg.Reply, nc)
					return
				}
				msg.Header.Set(TimeoutHeader, strconv.FormatInt(left, 10))
			}
		}
		serve(msg)
	}()
}

// Close stops taking requests, drops those waiting for a slot, and waits
// for those in flight until ctx ends.
func (s *Server) Close(ctx context.Context) {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	drained := make(chan struct{})
	go func() { s.wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
	}
}

// before reads what the headers say into the context: the call's start
// and trace ID (the caller's traceparent's, or a new one) for its log
// line, the caller (or why its token was refused), the run's report key
// and the caller's timeout.
func before(verifier ports.TokenVerifier, maxTimeout time.Duration) kitnats.RequestFunc {
	return func(ctx context.Context, msg *nats.Msg) context.Context {
		trace, ok := ports.ParseTraceparent(msg.Header.Get(ports.TraceparentHeader))
		if !ok {
			trace = ports.NewTraceID()
		}
		ctx, fields := endpoints.WithLogFields(ports.WithTraceID(ctx, trace))
		ctx = context.WithValue(ctx, callKey{}, &call{start: time.Now(), fields: fields})
		timeout := maxTimeout
		if ms, err := strconv.ParseInt(msg.Header.Get(TimeoutHeader), 10, 64); err == nil && ms > 0 && time.Duration(ms)*time.Millisecond < timeout {
			timeout = time.Duration(ms) * time.Millisecond
		}
		ctx = context.WithValue(ctx, timeoutKey{}, timeout)
		if key := msg.Header.Get(endpoints.ReportKeyHeader); key != "" {
			ctx = ports.WithReportKey(ctx, key)
		}
		p, err := endpoints.Authenticate(ctx, verifier, msg.Header.Get(endpoints.AuthorizationHeader))
		if err != nil {
			return context.WithValue(ctx, authErrorKey{}, err)
		}
		return endpoints.WithPrincipal(ctx, p)
	}
}

// withTimeout bounds an endpoint by the time its caller waits.
func withTimeout(next func(context.Context, any) (any, error)) func(context.Context, any) (any, error) {
	return func(ctx context.Context, req any) (any, error) {
		if d, ok := ctx.Value(timeoutKey{}).(time.Duration); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return next(ctx, req)
	}
}

// decoder reads an endpoint's request from a message: after the token
// check, one JSON object (an empty message is {}), strictly.
func decoder(ep endpoints.Endpoint) kitnats.DecodeRequestFunc {
	return func(ctx context.Context, msg *nats.Msg) (any, error) {
		if err, ok := ctx.Value(authErrorKey{}).(error); ok {
			return nil, err
		}
		req := ep.Request()
		data := msg.Data
		if len(data) == 0 {
			data = []byte("{}")
		}
		if err := endpoints.DecodeJSON(data, req); err != nil {
			return nil, err
		}
		return req, nil
	}
}

// encodeReply answers with the outcome and the value.
func encodeReply(ctx context.Context, reply string, nc *nats.Conn, response any) error {
	r := response.(endpoints.Reply)
	msg := nats.NewMsg(reply)
	msg.Header.Set(OutcomeHeader, r.Outcome.String())
	msg.Header.Set(endpoints.TraceHeader, ports.TraceIDFrom(ctx))
	if r.Outcome != endpoints.NoContent {
		data, err := json.Marshal(r.Value)
		if err != nil {
			return fault.Wrap(fault.Internal, err, "encoding the answer")
		}
		if int64(len(data)) > nc.MaxPayload() {
			return fault.New(fault.Validation, "the answer is %d bytes, more than the NATS server's max_payload (%d): ask for a smaller page (limit)",
				len(data), nc.MaxPayload())
		}
		msg.Data = data
	}
	setCode(ctx, r.Outcome.String())
	return nc.PublishMsg(msg)
}

// encodeError answers with the error's code and body.
func encodeError(ctx context.Context, err error, reply string, nc *nats.Conn) {
	fe, body := endpoints.ErrorOf(err, fallbackMessage)
	msg := nats.NewMsg(reply)
	msg.Header.Set(ErrorHeader, body.Error.Code)
	msg.Header.Set(endpoints.TraceHeader, ports.TraceIDFrom(ctx))
	if body.Error.Code == string(fault.RateLimited) {
		msg.Header.Set(RetryAfterHeader, strconv.Itoa(endpoints.RetryAfterSeconds(fe)))
	}
	msg.Data, _ = json.Marshal(body)
	setCode(ctx, body.Error.Code)
	_ = nc.PublishMsg(msg)
}

func setCode(ctx context.Context, code string) {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		c.code = code
	}
}

func logError(ctx context.Context, log logrus.FieldLogger, name string, err error) {
	entry := log.WithError(err).WithField("endpoint", name)
	if p := endpoints.PrincipalFrom(ctx); p != nil {
		entry = entry.WithField("subject", p.Subject)
	}
	entry.Warn("request failed over NATS")
}
