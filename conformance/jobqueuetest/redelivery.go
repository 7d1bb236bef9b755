package jobqueuetest

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeRedelivery(h *harness) {
	ginkgo.Describe("redelivery", func() {
		ginkgo.It("gives the job of a worker that stopped replying to another worker as attempt 2, after the job's Timeout", func() {
			// The first worker hangs in its handler and its Consume is
			// told to stop: it will never reply, as if it had died.
			g := h.newGate()
			hung := h.consume([]job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				g.wait(d)
				return []byte("from the hung worker"), nil
			})
			j := newJob(job.TypeCI, "", time.Second)
			pending := h.dispatch(h.ctx, j)
			Expect(g.awaitEntry().Attempt).To(Equal(1))
			hung.cancel()

			rec := &recorder{}
			h.consume([]job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				rec.record(d)
				return fmt.Appendf(nil, "attempt %d", d.Attempt), nil
			})
			res := result(pending)
			Expect(res.Error).To(BeEmpty())
			Expect(string(res.Payload)).To(Equal("attempt 2"))
			Expect(res.Attempt).To(Equal(2))
			Expect(rec.count()).To(Equal(1))

			g.release()
			hung.stop()
		})

		ginkgo.It("does not take a job from a handler that reports progress more often than its Timeout", func() {
			rec := &recorder{}
			h.consume([]job.Type{job.TypeArtifact}, 2, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
				rec.record(d)
				// Work for twice the Timeout, reporting progress every
				// fifth of it.
				tick := time.NewTicker(d.Job.Timeout / 5)
				defer tick.Stop()
				for range 10 {
					select {
					case <-tick.C:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
					if err := d.Progress(); err != nil {
						return nil, err
					}
				}
				return []byte("long job done"), nil
			})
			res := result(h.dispatch(h.ctx, newJob(job.TypeArtifact, "", time.Second)))
			Expect(res.Error).To(BeEmpty())
			Expect(string(res.Payload)).To(Equal("long job done"))
			Expect(res.Attempt).To(Equal(1))
			Expect(rec.count()).To(Equal(1), "the job was delivered again while its handler reported progress")
		})
	})
}
