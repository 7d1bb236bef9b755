package githubstatus

import (
	"context"
	"log/slog"
	"sync"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// Queued sends reports to a StatusReporter from one goroutine, in the order
// they came, so that the caller does not wait for GitHub. When size
// reports are waiting, a new one is dropped and logged. Close sends what
// is waiting (until its context ends) and stops.
type Queued struct {
	next ports.StatusReporter
	log  *slog.Logger
	ch   chan queuedReport
	done chan struct{}
	once sync.Once
	// send is the context reports are sent with; Close cancels it when
	// its own context ends before the queue is empty.
	send       context.Context
	cancelSend context.CancelFunc
	mu         sync.RWMutex
	shut       bool
}

type queuedReport struct {
	run         *pipeline.Run
	point       ports.StatusPoint
	description string
}

var _ ports.StatusReporter = (*Queued)(nil)

// NewQueued starts sending to next; log (slog.Default when nil) gets the
// reports dropped.
func NewQueued(next ports.StatusReporter, size int, log *slog.Logger) *Queued {
	if log == nil {
		log = slog.Default()
	}
	q := &Queued{next: next, log: log, ch: make(chan queuedReport, max(size, 1)), done: make(chan struct{})}
	q.send, q.cancelSend = context.WithCancel(context.Background())
	go func() {
		defer close(q.done)
		for r := range q.ch {
			_ = q.next.Report(q.send, r.run, r.point, r.description)
		}
	}()
	return q
}

// Report queues the report and returns at once.
func (q *Queued) Report(_ context.Context, run *pipeline.Run, point ports.StatusPoint, description string) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.shut {
		return nil
	}
	c := *run // the caller may change its run afterwards
	select {
	case q.ch <- queuedReport{run: &c, point: point, description: description}:
	default:
		q.log.Warn("GitHub status dropped: too many waiting", "run_id", run.ID, "point", string(point))
	}
	return nil
}

// Close stops taking reports and waits until those waiting are sent or ctx
// ends; then the ones left are given up (their sends cancelled).
func (q *Queued) Close(ctx context.Context) {
	q.once.Do(func() {
		q.mu.Lock()
		q.shut = true
		close(q.ch)
		q.mu.Unlock()
	})
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancelSend()
		<-q.done
	}
	q.cancelSend()
}
