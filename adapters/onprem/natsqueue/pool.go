package natsqueue

import "sync"

// pool shares a worker's handler slots among the pullers of its job types.
// A slot is free, reserved by an outstanding fetch of one type, or busy
// with a handler. Each puller keeps at most its share of slots reserved,
// so one type's idle pull cannot starve another's for long.
type pool struct {
	mu      sync.Mutex
	cond    sync.Cond
	free    int
	stopped bool
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
