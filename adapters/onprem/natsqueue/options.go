package natsqueue

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// Storage is where a stream keeps its messages.
type Storage int

// The storage kinds of JetStream.
const (
	// FileStorage keeps messages on disk: queued jobs survive a restart.
	FileStorage Storage = iota
	// MemoryStorage keeps messages in memory only.
	MemoryStorage
)

// Option configures a Queue.
type Option func(*config)

// StreamLimits bounds one job stream (spec 03's max_age and max_msgs). A
// stream that holds MaxMsgs jobs refuses new ones (Dispatch fails with
// Unavailable) rather than dropping queued jobs.
type StreamLimits struct {
	MaxAge  time.Duration
	MaxMsgs int64
}

// DefaultStreamLimits are spec 03's limits, by stream name.
var DefaultStreamLimits = map[string]StreamLimits{
	"pipeline-discovery": {MaxAge: time.Hour, MaxMsgs: 1000},
	"pipeline-tasks":     {MaxAge: 2 * time.Hour, MaxMsgs: 5000},
	"pipeline-artifacts": {MaxAge: time.Hour, MaxMsgs: 1000},
	"pipeline-releases":  {MaxAge: time.Hour, MaxMsgs: 1000},
}

// DefaultAckWait is every type's AckWait unless WithAckWait says
// otherwise. Keep-alives hold a running job for as long as its handler
// shows progress, so the AckWait only bounds how long a worker that died
// keeps its jobs, and a job's Timeout, not the AckWait, bounds a silent
// handler.
const DefaultAckWait = time.Minute

// Defaults of the duplicate window and the result TTL.
const (
	DefaultDuplicateWindow = 10 * time.Minute
	DefaultResultTTL       = 15 * time.Minute
)

// WithPrefix puts the queue's streams and subjects under prefix: stream
// names become <prefix>-pipeline-tasks and subjects
// <prefix>.pipeline.tasks.*. Tests use a unique prefix on a shared server.
// The prefix holds letters, digits, "-" and "_".
func WithPrefix(prefix string) Option {
	return func(c *config) {
		if !prefixPattern.MatchString(prefix) {
			c.errs = append(c.errs, fmt.Errorf("prefix %q: use letters, digits, - and _", prefix))
			return
		}
		c.prefix = prefix
	}
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// WithStorage sets where the streams keep messages (FileStorage by
// default, as spec 03 says).
func WithStorage(s Storage) Option {
	return func(c *config) {
		switch s {
		case FileStorage:
			c.storage = jetstream.FileStorage
		case MemoryStorage:
			c.storage = jetstream.MemoryStorage
		default:
			c.errs = append(c.errs, fmt.Errorf("unknown storage %d", s))
		}
	}
}

// WithReplicas sets how many servers of a cluster keep each stream (1 by
// default, which a single server needs; spec 03's cluster uses 3).
func WithReplicas(n int) Option {
	return func(c *config) {
		if n < 1 || n > 5 {
			c.errs = append(c.errs, fmt.Errorf("replicas %d: want 1 to 5", n))
			return
		}
		c.replicas = n
	}
}

// WithStreamLimits sets the limits of one job stream, named without the
// prefix ("pipeline-tasks").
func WithStreamLimits(stream string, l StreamLimits) Option {
	return func(c *config) {
		if _, ok := DefaultStreamLimits[stream]; !ok {
			c.errs = append(c.errs, fmt.Errorf("stream %q is not a job stream", stream))
			return
		}
		if l.MaxAge <= 0 || l.MaxMsgs <= 0 {
			c.errs = append(c.errs, fmt.Errorf("stream %s: max age and max messages must be positive", stream))
			return
		}
		c.limits[stream] = l
	}
}

// WithAckWait sets the AckWait of the durable consumer of type t: how
// long the server waits before it redelivers a job whose worker went
// silent. It is also the Timeout of a job of that type that has none.
func WithAckWait(t job.Type, d time.Duration) Option {
	return func(c *config) {
		if _, _, err := t.Stream(); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		if d < 100*time.Millisecond {
			c.errs = append(c.errs, fmt.Errorf("ack wait of %s: %s is too short", t, d))
			return
		}
		c.ackWait[t] = d
	}
}

// WithShutdownGrace bounds how long Consume waits, once its context has
// ended, for the handlers still running: after d their contexts are
// cancelled (the cause is ErrShuttingDown) and their jobs go back to the
// queue, without a result, for another worker to run again. Without it
// Consume waits for every handler to finish.
func WithShutdownGrace(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("shutdown grace %s: want a positive duration", d))
			return
		}
		c.grace = d
	}
}

// ErrShuttingDown is the cause of a handler's cancelled context when its
// worker stopped before the handler finished (see WithShutdownGrace).
var ErrShuttingDown = errors.New("the worker is shutting down; the job goes back to the queue")

// WithObjectStore gives the queue a place for results too large for one
// message (jobs/<job id>/result). Workers write there and dispatchers read
// from there, so both sides need the same store.
func WithObjectStore(s ports.ObjectStore) Option {
	return func(c *config) { c.objects = s }
}

// WithDuplicateWindow sets how long a job stream remembers a job ID: a
// dispatch of the same ID within it does not queue the job again.
func WithDuplicateWindow(d time.Duration) Option {
	return func(c *config) {
		if d < time.Second {
			c.errs = append(c.errs, fmt.Errorf("duplicate window of %s is too short", d))
			return
		}
		c.dupWindow = d
	}
}

// WithResultTTL sets how long a job's result stays readable for a retried
// dispatch. It should be at least the duplicate window.
func WithResultTTL(d time.Duration) Option {
	return func(c *config) {
		if d < time.Second {
			c.errs = append(c.errs, fmt.Errorf("result TTL of %s is too short", d))
			return
		}
		c.resultTTL = d
	}
}

// config is what the options set.
type config struct {
	prefix    string
	storage   jetstream.StorageType
	replicas  int
	limits    map[string]StreamLimits
	ackWait   map[job.Type]time.Duration
	objects   ports.ObjectStore
	dupWindow time.Duration
	resultTTL time.Duration
	grace     time.Duration // 0: handlers finish however long they take
	errs      []error
}

func newConfig(opts []Option) *config {
	c := &config{
		storage:   jetstream.FileStorage,
		replicas:  1,
		limits:    map[string]StreamLimits{},
		ackWait:   map[job.Type]time.Duration{},
		dupWindow: DefaultDuplicateWindow,
		resultTTL: DefaultResultTTL,
	}
	for name, l := range DefaultStreamLimits {
		c.limits[name] = l
	}
	for _, t := range job.Types {
		c.ackWait[t] = DefaultAckWait
	}
	for _, o := range opts {
		o(c)
	}
	return c
}
