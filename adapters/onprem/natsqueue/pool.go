package natsqueue

import (
	"sync"
	"time"
)

// pool shares a worker's handler slots among the pullers of its job types.
// A slot is free, reserved by an outstanding fetch of one type, or busy
// with a handler. Each puller keeps at most its share of slots reserved,
// so one type's idle pull cannot starve another's for long.
type pool struct {
	mu      sync.Mutex
	cond    sync.Cond
	free    int
	stopped bool
	// starved is when a puller last waited for a slot with none reserved
	// while every slot was taken: another type's idle pull may hold the
	// slot it needs (see pullWaitFor).
	starved time.Time
}

func newPool(slots int) *pool {
	p := &pool{free: slots}
	p.cond.L = &p.mu
	return p
}

// take waits until the puller with *reserved slots reserved may reserve
// more, and reserves them: all it may take when it has none reserved,
// otherwise only once at least batch can be taken at a time (so fetches
// are not sent one slot at a time under load). It returns 0 once stopped.
func (p *pool) take(reserved *int, share, batch int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.stopped {
			return 0
		}
		n := min(p.free, share-*reserved)
		if n > 0 && (*reserved == 0 || n >= batch) {
			p.free -= n
			*reserved += n
			return n
		}
		if *reserved == 0 && p.free == 0 {
			p.starved = time.Now()
		}
		p.cond.Wait()
	}
}

// delivered turns one reserved slot of a puller into a busy one.
func (p *pool) delivered(reserved *int) {
	p.mu.Lock()
	*reserved--
	p.mu.Unlock()
	p.cond.Broadcast()
}

// giveBack frees n reserved slots that a fetch did not fill.
func (p *pool) giveBack(reserved *int, n int) {
	if n == 0 {
		return
	}
	p.mu.Lock()
	*reserved -= n
	p.free += n
	p.mu.Unlock()
	p.cond.Broadcast()
}

// done frees a busy slot.
func (p *pool) done() {
	p.mu.Lock()
	p.free++
	p.mu.Unlock()
	p.cond.Broadcast()
}

// stop makes every take return 0.
func (p *pool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cond.Broadcast()
}

// isStopped reports whether stop was called.
func (p *pool) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// pullWaitFor is how long the next pull may wait on the server: pullWait,
// or contendedPullWait while a puller has been starved in the last
// contentionMemory. An idle pull holds its slots until it expires, so
// while some type lacks a slot the others pull briefly and give theirs
// back often, and a busy type gets the slots idle types held within
// contendedPullWait instead of pullWait. The server ends each pull at its
// expiry, so no job is ever delivered to a pull given up.
func (p *pool) pullWaitFor(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.starved.IsZero() && now.Sub(p.starved) < contentionMemory {
		return contendedPullWait
	}
	return pullWait
}
