package natsqueue

import (
	"sync"
	"time"
)

// pool shares a worker's handler slots among the pullers of its job types.
// A slot is free, reserved by an outstanding fetch of one type, or busy
// with a handler. Each puller keeps at most its share of slots reserved,
// and an idle one (its last fetch came back empty) one slot, which it
// leaves to a type with work that waits for a slot except for one pull
// each idleProbeEvery: so idle types cannot keep a busy one from the
// worker's slots, and still see their own jobs within about a second.
type pool struct {
	mu      sync.Mutex
	cond    sync.Cond
	free    int
	stopped bool
	// starved is when a puller last waited for a slot with none reserved
	// while every slot was taken: another type's idle pull may hold the
	// slot it needs (see pullWaitFor).
	starved time.Time
	// wanting counts the pullers with work waiting in take with nothing
	// reserved: idle pullers yield to them.
	wanting int
}

// idleProbeEvery is how often an idle puller pulls while a type with
// work waits for a slot.
const idleProbeEvery = time.Second

// claim is one puller's standing with its pool, guarded by the pool's
// mutex.
type claim struct {
	reserved int       // slots its outstanding fetches hold
	idle     bool      // its last fetch came back empty
	took     time.Time // when it last took slots
}

func newPool(slots int) *pool {
	p := &pool{free: slots}
	p.cond.L = &p.mu
	return p
}

// take waits until the puller of c may reserve more slots, and reserves
// them: all it may take when it has none reserved, otherwise only once at
// least batch can be taken at a time (so fetches are not sent one slot at
// a time under load). An idle puller takes one slot, and not within
// idleProbeEvery of its last take while a puller with work waits. It
// returns 0 once stopped.
func (p *pool) take(c *claim, share, batch int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	wanting := false
	defer func() {
		if wanting {
			p.wanting--
			p.cond.Broadcast() // idle pullers need not yield to it any more
		}
	}()
	var wake *time.Timer
	defer func() {
		if wake != nil {
			wake.Stop()
		}
	}()
	for {
		if p.stopped {
			return 0
		}
		limit := share
		if c.idle {
			limit = 1
		}
		now := time.Now()
		yield := c.idle && p.wanting > 0 && now.Sub(c.took) < idleProbeEvery
		n := min(p.free, limit-c.reserved)
		if n > 0 && !yield && (c.reserved == 0 || n >= batch) {
			p.free -= n
			c.reserved += n
			c.took = now
			return n
		}
		if c.reserved == 0 && p.free == 0 {
			p.starved = now
		}
		if !c.idle && c.reserved == 0 && !wanting {
			wanting = true
			p.wanting++
		}
		if yield && n > 0 && wake == nil {
			wake = time.AfterFunc(c.took.Add(idleProbeEvery).Sub(now), func() {
				// Under the lock: the waiter is inside Wait by then, so
				// the broadcast cannot come before it waits.
				p.mu.Lock()
				defer p.mu.Unlock()
				p.cond.Broadcast()
			})
		}
		p.cond.Wait()
		if wake != nil && time.Since(c.took) >= idleProbeEvery {
			wake = nil // fired: a later yield sets another
		}
	}
}

// delivered turns one reserved slot of a puller into a busy one.
func (p *pool) delivered(c *claim) {
	p.mu.Lock()
	c.reserved--
	p.mu.Unlock()
	p.cond.Broadcast()
}

// giveBack frees n reserved slots that a fetch did not fill.
func (p *pool) giveBack(c *claim, n int) {
	if n == 0 {
		return
	}
	p.mu.Lock()
	c.reserved -= n
	p.free += n
	p.mu.Unlock()
	p.cond.Broadcast()
}

// settle records whether a puller's finished fetch came back empty.
func (p *pool) settle(c *claim, empty bool) {
	p.mu.Lock()
	c.idle = empty
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
