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
	var idle, busy int
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
	if n := <-took; n != 1 || busy != 1 {
		t.Errorf("the starved puller took %d (reserved %d), want the slot", n, busy)
	}
}
