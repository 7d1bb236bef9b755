package natsqueue

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/domain/fault"
)

// A lease is a worker's hold on one delivered job. It sends the server
// keep-alives (in-progress acks) often enough to beat the AckWait, for as
// long as the handler has shown progress within the job's Timeout; when
// the handler stays silent that long, the lease is lost and onLost runs
// (it hands the job back).
type lease struct {
	msg       jetstream.Msg
	timeout   time.Duration
	keepEvery time.Duration
	onLost    func()

	mu    sync.Mutex
	state leaseState
	last  time.Time // last progress (or the delivery)
	sent  time.Time // last keep-alive (or the delivery)
	timer *time.Timer
	// lostDone is closed when onLost has returned.
	lostDone chan struct{}
}

type leaseState int

const (
	leaseHeld leaseState = iota
	leaseFinished
	leaseLost
)

// minKeepAlive bounds how often keep-alives go out.
const minKeepAlive = 50 * time.Millisecond

func startLease(msg jetstream.Msg, timeout, ackWait time.Duration, onLost func()) *lease {
	now := time.Now()
	l := &lease{
		msg: msg, timeout: timeout, keepEvery: max(ackWait/3, minKeepAlive), onLost: onLost,
		last: now, sent: now, lostDone: make(chan struct{}),
	}
	l.mu.Lock()
	l.timer = time.AfterFunc(l.next(now), l.tick)
	l.mu.Unlock()
	return l
}

// next is the time until the lease must next be looked at. Callers hold mu.
func (l *lease) next(now time.Time) time.Duration {
	at := l.last.Add(l.timeout)
	if keep := l.sent.Add(l.keepEvery); keep.Before(at) {
		at = keep
	}
	return max(at.Sub(now), time.Millisecond)
}

func (l *lease) tick() {
	l.mu.Lock()
	if l.state != leaseHeld {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	if now.Sub(l.last) >= l.timeout {
		l.state = leaseLost
		l.mu.Unlock()
		defer close(l.lostDone)
		l.onLost()
		return
	}
	if now.Sub(l.sent) >= l.keepEvery {
		_ = l.msg.InProgress() // a lost keep-alive only risks a redelivery
		l.sent = now
	}
	l.timer.Reset(l.next(now))
	l.mu.Unlock()
}

// progress extends the lease by the job's Timeout from now. Errors:
// Conflict once the lease is lost (the job went back to the queue).
func (l *lease) progress(jobID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == leaseLost {
		return fault.New(fault.Conflict, "job %s was handed back: no progress within its timeout of %s", jobID, l.timeout)
	}
	l.last = time.Now()
	return nil
}

// finish ends the lease when the handler returns. It reports whether the
// lease was still held; when it was lost, it first waits for onLost.
func (l *lease) finish() bool {
	l.mu.Lock()
	if l.state == leaseLost {
		l.mu.Unlock()
		<-l.lostDone
		return false
	}
	l.state = leaseFinished
	l.timer.Stop()
	l.mu.Unlock()
	return true
}
