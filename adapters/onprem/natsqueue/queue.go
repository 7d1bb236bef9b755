package natsqueue

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// MaxDeliver is how many times a job is delivered before it is abandoned.
const MaxDeliver = 3

// The headers of jobs and results.
const (
	// HeaderReplyTo names the subject the dispatcher waits on.
	HeaderReplyTo = "Forge-Reply-To"
	// HeaderAttempt carries the delivery a result comes from.
	HeaderAttempt = "Forge-Attempt"
	// HeaderStatus is "error" when the body is a handler's error.
	HeaderStatus = "Forge-Status"
	// HeaderResultKey names the ObjectStore key of a large result.
	HeaderResultKey = "Forge-Result-Key"
)

// resultsStream is the base name of the stream that keeps results.
const (
	resultsStream  = "pipeline-results"
	resultsSubject = "pipeline.results"
)

// Queue is a JobQueue on NATS JetStream. It is safe for concurrent use; it
// does not own its connection, which the caller closes after the last
// Dispatch and Consume have returned.
type Queue struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cfg     *config
	routes  map[job.Type]route
	streams map[string]jetstream.Stream // by full name
	results jetstream.Stream
	resPfx  string // "<prefix>.pipeline.results."
	replies replyMux
}

var _ ports.JobQueue = (*Queue)(nil)

// route is where jobs of one type go.
type route struct {
	typ     job.Type
	stream  string // full stream name
	subject string // subject prefix, ending in "."
	ackWait time.Duration
}

// filter is the consumer filter subject of the route.
func (r route) filter() string { return r.subject + "*" }

// New returns a queue on nc, after creating the job and result streams
// or updating them to the options' configuration. ctx bounds the set-up.
// Errors: Validation (bad options), Unavailable (no connection, or no
// JetStream on the server), Conflict (the server refused a stream's
// configuration, for example because another stream owns its subjects).
func New(ctx context.Context, nc *nats.Conn, opts ...Option) (*Queue, error) {
	if nc == nil {
		return nil, fault.New(fault.Validation, "natsqueue: no NATS connection")
	}
	cfg := newConfig(opts)
	if cfg.resultTTL < cfg.dupWindow {
		cfg.errs = append(cfg.errs, fmt.Errorf("the result TTL (%s) is shorter than the duplicate window (%s): a retry could find neither the job nor its result", cfg.resultTTL, cfg.dupWindow))
	}
	if len(cfg.errs) > 0 {
		return nil, fault.Wrap(fault.Validation, errors.Join(cfg.errs...), "natsqueue: options")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "natsqueue: JetStream")
	}
	q := &Queue{
		nc: nc, js: js, cfg: cfg,
		routes:  map[job.Type]route{},
		streams: map[string]jetstream.Stream{},
		resPfx:  withSep(cfg.prefix, ".") + resultsSubject + ".",
	}
	var bases []string                // job streams, in the order of job.Types
	subjects := map[string][]string{} // base stream name -> filters
	primary := map[string]job.Type{}
	for _, t := range job.Types {
		base, subj, err := t.Stream()
		if err != nil {
			return nil, fault.Wrap(fault.Internal, err, "natsqueue: routing %s", t)
		}
		subj = withSep(cfg.prefix, ".") + subj + "."
		if p, ok := primary[base]; ok && p != t {
			// A second type on a stream gets a subject level of its own.
			subj += string(t) + "."
		} else {
			primary[base] = t
			bases = append(bases, base)
		}
		r := route{typ: t, stream: withSep(cfg.prefix, "-") + base, subject: subj, ackWait: cfg.ackWait[t]}
		q.routes[t] = r
		subjects[base] = append(subjects[base], r.filter())
	}
	for _, base := range bases {
		l, filters := cfg.limits[base], subjects[base]
		dup := cfg.dupWindow
		if dup > l.MaxAge {
			dup = l.MaxAge
		}
		s, err := q.ensureStream(ctx, jetstream.StreamConfig{
			Name:       withSep(cfg.prefix, "-") + base,
			Subjects:   filters,
			Retention:  jetstream.WorkQueuePolicy,
			MaxAge:     l.MaxAge,
			MaxMsgs:    l.MaxMsgs,
			Discard:    jetstream.DiscardNew,
			Storage:    cfg.storage,
			Replicas:   cfg.replicas,
			Duplicates: dup,
		})
		if err != nil {
			return nil, err
		}
		q.streams[s.CachedInfo().Config.Name] = s
	}
	// Results carry no message IDs; the window only has to fit the TTL.
	dup := min(2*time.Minute, cfg.resultTTL)
	q.results, err = q.ensureStream(ctx, jetstream.StreamConfig{
		Name:       withSep(cfg.prefix, "-") + resultsStream,
		Subjects:   []string{q.resPfx + "*"},
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     cfg.resultTTL,
		Discard:    jetstream.DiscardOld,
		Storage:    cfg.storage,
		Replicas:   cfg.replicas,
		Duplicates: dup,
	})
	if err != nil {
		return nil, err
	}
	q.streams[q.results.CachedInfo().Config.Name] = q.results
	return q, nil
}

// withSep returns prefix followed by sep, or "" without a prefix.
func withSep(prefix, sep string) string {
	if prefix == "" {
		return ""
	}
	return prefix + sep
}

func (q *Queue) ensureStream(ctx context.Context, sc jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := q.js.CreateOrUpdateStream(ctx, sc)
	if err == nil {
		return s, nil
	}
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return nil, fault.Wrap(fault.Unavailable, err, "natsqueue: the NATS server has no JetStream")
	case errors.As(err, &apiErr):
		return nil, fault.Wrap(fault.Conflict, err, "natsqueue: creating stream %s", sc.Name)
	}
	return nil, fault.Wrap(fault.Unavailable, err, "natsqueue: creating stream %s", sc.Name)
}

// StreamNames lists the streams the queue uses (its four job streams and
// its result stream), with the prefix; tests delete them afterwards.
func (q *Queue) StreamNames() []string {
	return append(q.jobStreams(), withSep(q.cfg.prefix, "-")+resultsStream)
}

// jobStreams lists each job stream once, with the prefix.
func (q *Queue) jobStreams() []string {
	names := make([]string, 0, len(q.streams))
	for _, t := range job.Types {
		if r := q.routes[t]; !contains(names, r.stream) {
			names = append(names, r.stream)
		}
	}
	return names
}

// Depth returns, for each job stream, the jobs it holds: queued, or
// delivered and not yet done (the job streams are work queues, which drop
// a job once it is acknowledged). Errors: Unavailable.
func (q *Queue) Depth(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, name := range q.jobStreams() {
		info, err := q.streams[name].Info(ctx)
		if err != nil {
			return nil, fault.Wrap(fault.Unavailable, err, "natsqueue: reading stream %s", name)
		}
		out[name] = info.State.Msgs
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Subject returns the subject a job is published to.
func (q *Queue) Subject(t job.Type, jobID string) (string, error) {
	r, err := q.route(t)
	if err != nil {
		return "", err
	}
	return r.subject + token(jobID), nil
}

// ResultSubject returns the subject a job's result is published to.
func (q *Queue) ResultSubject(jobID string) string { return q.resPfx + token(jobID) }

func (q *Queue) route(t job.Type) (route, error) {
	r, ok := q.routes[t]
	if !ok {
		return route{}, fault.New(fault.Validation, "unknown job type %q", t)
	}
	return r, nil
}

// timeout is the Timeout of j, or its type's AckWait when it has none.
func (q *Queue) timeout(j job.Job) time.Duration {
	if j.Timeout > 0 {
		return j.Timeout
	}
	return q.cfg.ackWait[j.Type]
}

// token turns a job ID into one subject token: itself when it is made of
// safe characters, otherwise "~" and its base64url encoding.
func token(id string) string {
	for i := 0; i < len(id); i++ {
		if !safeByte(id[i]) {
			return "~" + base64.RawURLEncoding.EncodeToString([]byte(id))
		}
	}
	return id
}

func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-_:@+=", c) >= 0
}

// lastToken returns the last token of a subject: a job's ID token.
func lastToken(subject string) string {
	return subject[strings.LastIndexByte(subject, '.')+1:]
}

// unavailable wraps a NATS error as Unavailable, keeping a context's
// error visible to errors.Is.
func unavailable(err error, format string, args ...any) error {
	return fault.Wrap(fault.Unavailable, err, format, args...)
}
