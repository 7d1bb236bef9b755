package jobqueuetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeConcurrency(h *harness) {
	ginkgo.Describe("concurrency", func() {
		ginkgo.It("runs as many handlers at once as the concurrency allows", func() {
			// Every handler waits at a barrier until all n are inside: the
			// jobs finish only if they all run at the same time.
			const n = 6
			var inside atomic.Int32
			all := make(chan struct{})
			h.consume([]job.Type{job.TypeCI}, n, func(ctx context.Context, _ *ports.Delivery) ([]byte, error) {
				if inside.Add(1) == n {
					close(all)
				}
				select {
				case <-all:
					return []byte("together"), nil
				case <-time.After(wait):
					return nil, fmt.Errorf("only %d of %d handlers ran at once", inside.Load(), n)
				}
			})
			var pending []<-chan outcome
			for range n {
				pending = append(pending, h.dispatch(h.ctx, newJob(job.TypeCI, "", 30*time.Second)))
			}
			for _, p := range pending {
				res := result(p)
				Expect(res.Error).To(BeEmpty())
				Expect(string(res.Payload)).To(Equal("together"))
			}
		})

		ginkgo.It("runs no more handlers at once than the concurrency", func() {
			const concurrency, jobs = 2, 5
			var mu sync.Mutex
			running, most := 0, 0
			g := h.newGate()
			h.consume([]job.Type{job.TypeCI}, concurrency, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				g.wait(d)
				mu.Lock()
				running--
				mu.Unlock()
				return []byte("ok"), nil
			})
			var pending []<-chan outcome
			for range jobs {
				pending = append(pending, h.dispatch(h.ctx, newJob(job.TypeCI, "", 30*time.Second)))
			}
			g.awaitEntry()
			g.awaitEntry()
			Consistently(g.entered, 300*time.Millisecond).ShouldNot(Receive(), "a third handler started with concurrency 2")
			g.release()
			for _, p := range pending {
				Expect(result(p).Error).To(BeEmpty())
			}
			mu.Lock()
			defer mu.Unlock()
			Expect(most).To(Equal(concurrency))
		})
	})
}
