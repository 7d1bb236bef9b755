package natsqueue

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ackDelay is how long a worker may hold the ack of a job it has replied
// to while no other job arrives.
const ackDelay = 20 * time.Millisecond

// ackHolder delays the acks of replied jobs until the worker's next
// delivery, or ackDelay at most. An ack removes the job from its
// work-queue stream; the ack of a stream's last job empties it, and a
// file-backed stream that empties replaces its block file (a file create
// and delete on the server for every job when jobs come one at a time).
// Acked after the next job has been stored, the stream never empties
// while jobs keep coming. The price: a worker that dies within ackDelay
// of a reply leaves that job to be delivered again after the AckWait,
// and its handler runs twice (handlers are idempotent; the first stored
// result still wins).
type ackHolder struct {
	mu    sync.Mutex
	held  []jetstream.Msg
	timer *time.Timer
}

// hold queues the ack of m.
func (a *ackHolder) hold(m jetstream.Msg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held = append(a.held, m)
	if a.timer == nil {
		a.timer = time.AfterFunc(ackDelay, a.flush)
	}
}

// flush sends the held acks.
func (a *ackHolder) flush() {
	for _, m := range a.take() {
		_ = m.Ack()
	}
}

// confirm sends the held acks and waits until the server has processed
// each (or ctx ends): what Consume does last, since a server stopped right
// after (an embedded one) drops acks it has received but not processed,
// and their jobs would be delivered again.
func (a *ackHolder) confirm(ctx context.Context) {
	for _, m := range a.take() {
		_ = m.DoubleAck(ctx)
	}
}

// take removes and returns the held acks.
func (a *ackHolder) take() []jetstream.Msg {
	a.mu.Lock()
	defer a.mu.Unlock()
	held := a.held
	a.held = nil
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	return held
}
