package jobqueuetest

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeEnds(h *harness) {
	ginkgo.Describe("Consume", func() {
		ginkgo.It("returns nil when its context ends, after letting a running handler finish and reply", func() {
			g := h.newGate()
			c := h.consume([]job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				g.wait(d)
				return []byte("finished"), nil
			})
			pending := h.dispatch(h.ctx, newJob(job.TypeCI, "", 10*time.Second))
			g.awaitEntry()

			c.cancel()
			Consistently(c.done, 300*time.Millisecond).ShouldNot(Receive(), "Consume returned while its handler ran")
			g.release()
			c.stop()
			res := result(pending)
			Expect(res.Error).To(BeEmpty())
			Expect(string(res.Payload)).To(Equal("finished"))
		})

		ginkgo.It("takes no more jobs once its context has ended", func() {
			rec := &recorder{}
			c := h.consume([]job.Type{job.TypeCI}, 1, rec.echo)
			Expect(string(result(h.dispatch(h.ctx, newJob(job.TypeCI, "1", 10*time.Second))).Payload)).To(Equal("echo:1"))
			c.stop()

			var o outcome
			Eventually(h.dispatch(h.ctx, newJob(job.TypeCI, "2", 300*time.Millisecond)), wait).Should(Receive(&o))
			Expect(fault.Is(o.err, fault.Unavailable)).To(BeTrue(), "want Unavailable, got %v", o.err)
			Expect(rec.count()).To(Equal(1))
		})
	})

	ginkgo.Describe("Dispatch", func() {
		ginkgo.It("gives up with Unavailable, saying it timed out, when no worker takes the job", func() {
			var o outcome
			Eventually(h.dispatch(h.ctx, newJob(job.TypeDiscovery, "", 300*time.Millisecond)), wait).Should(Receive(&o))
			Expect(o.err).To(HaveOccurred())
			Expect(fault.Is(o.err, fault.Unavailable)).To(BeTrue(), "want Unavailable, got %v", o.err)
			Expect(o.err.Error()).To(MatchRegexp(`(?i)time[sd]? ?out`))
		})

		ginkgo.It("returns when its context ends", func() {
			ctx, cancel := context.WithCancel(h.ctx)
			pending := h.dispatch(ctx, newJob(job.TypeDiscovery, "", time.Hour))
			Consistently(pending, 100*time.Millisecond).ShouldNot(Receive())
			cancel()
			var o outcome
			Eventually(pending, wait).Should(Receive(&o), "Dispatch did not return when its context ended")
			Expect(o.err).To(MatchError(context.Canceled))
		})

		ginkgo.It("returns at once when its context has already ended", func() {
			ctx, cancel := context.WithCancel(h.ctx)
			cancel()
			var o outcome
			Eventually(h.dispatch(ctx, newJob(job.TypeCI, "", 10*time.Second)), wait).Should(Receive(&o))
			Expect(o.err).To(MatchError(context.Canceled))
		})
	})
}
