package natsqueue

import (
	"testing"
	"time"
)

// TestAStarvedPullerShortensTheOthersPulls: once a puller waits for a slot
// with none reserved while every slot is taken (another type's idle pull
// holds it), the next pulls wait contendedPullWait on the server instead
// of pullWait, for contentionMemory; the starved puller gets the slot
// when it is given back.
func TestAStarvedPullerShortensTheOthersPulls(t *testing.T) {
	p := newPool(1)
	var idle, busy claim
	if n := p.take(&idle, 1, 1); n != 1 {
		t.Fatalf("the first take = %d, want the one slot", n)
	}
	if got := p.pullWaitFor(time.Now()); got != pullWait {
		t.Fatalf("pull wait before any contention = %s, want %s", got, pullWait)
	}
	took := make(chan int, 1)
	go func() { took <- p.take(&busy, 1, 1) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		starved := p.starved
		p.mu.Unlock()
		if !starved.IsZero() {
			if got := p.pullWaitFor(starved); got != contendedPullWait {
				t.Errorf("pull wait while a puller starves = %s, want %s", got, contendedPullWait)
			}
			if got := p.pullWaitFor(starved.Add(contentionMemory)); got != pullWait {
				t.Errorf("pull wait %s after the last starvation = %s, want %s", contentionMemory, got, pullWait)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second puller never waited for a slot")
		}
		time.Sleep(time.Millisecond)
	}
	p.giveBack(&idle, 1) // the idle pull expired empty
	if n := <-took; n != 1 || busy.reserved != 1 {
		t.Errorf("the starved puller took %d (reserved %d), want the slot", n, busy.reserved)
	}
}

// TestAnIdlePullerYieldsToATypeWithWork: a puller whose last fetch came
// back empty takes one slot, not its share; when it gives it back while a
// puller with work waits, the slot goes to that one, not back to it.
func TestAnIdlePullerYieldsToATypeWithWork(t *testing.T) {
	p := newPool(4)
	idle := claim{idle: true}
	if n := p.take(&idle, 2, 1); n != 1 {
		t.Fatalf("an idle puller took %d slots, want 1", n)
	}
	var busy claim
	if n := p.take(&busy, 4, 1); n != 3 {
		t.Fatalf("the busy puller took %d, want the 3 free", n)
	}
	for range 3 {
		p.delivered(&busy)
	}
	got := make(chan int, 1)
	go func() { got <- p.take(&busy, 4, 1) }() // wants a slot, none free
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.wanting == 1 })

	// The idle pull expires empty; both ask for the slot it gives back.
	idleTook := make(chan int, 1)
	go func() { idleTook <- p.take(&idle, 2, 1) }()
	p.settle(&idle, true)
	p.giveBack(&idle, 1)
	if n := <-got; n != 1 {
		t.Fatalf("the busy puller took %d, want the slot the idle one gave back", n)
	}
	select {
	case n := <-idleTook:
		t.Fatalf("the idle puller took %d slot(s) beside the busy one", n)
	default:
	}
	p.stop()
	<-idleTook
}

// TestAnIdlePullerProbesOncePerInterval: while a puller with work waits,
// an idle puller that took a slot a moment ago waits for idleProbeEvery
// to pass since, even with a slot free, then takes one slot.
func TestAnIdlePullerProbesOncePerInterval(t *testing.T) {
	p := newPool(2)
	p.wanting = 1 // a puller with work waits for a slot
	idle := claim{idle: true, took: time.Now()}
	start := time.Now()
	n := p.take(&idle, 2, 1)
	if waited := time.Since(start); n != 1 || waited < idleProbeEvery*9/10 {
		t.Errorf("the idle puller took %d after %s; want 1 after about %s", n, waited, idleProbeEvery)
	}
	// With nobody waiting, it takes at once.
	p.wanting = 0
	p.giveBack(&idle, 1)
	start = time.Now()
	if n := p.take(&idle, 2, 1); n != 1 || time.Since(start) > idleProbeEvery/2 {
		t.Errorf("with nobody waiting the idle puller took %d after %s", n, time.Since(start))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
