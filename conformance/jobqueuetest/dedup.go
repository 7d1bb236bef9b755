package jobqueuetest

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeDeduplication(h *harness) {
	ginkgo.Describe("a dispatch retried with the same job ID", func() {
		ginkgo.It("is served by one execution while the job is queued", func() {
			j := newJob(job.TypeDiscovery, "once", 10*time.Second)
			first := h.dispatch(h.ctx, j)
			retry := h.dispatch(h.ctx, j)
			Consistently(first, 200*time.Millisecond).ShouldNot(Receive(), "a dispatch returned with no worker")

			rec := &recorder{}
			h.consume([]job.Type{job.TypeDiscovery}, 2, rec.echo)
			for _, p := range []<-chan outcome{first, retry} {
				res := result(p)
				Expect(res.JobID).To(Equal(j.ID))
				Expect(res.Error).To(BeEmpty())
				Expect(string(res.Payload)).To(Equal("echo:once"))
			}
			Consistently(rec.count, 300*time.Millisecond).Should(Equal(1), "the job ran more than once")
		})

		ginkgo.It("is served by the running execution while the job runs", func() {
			g := h.newGate()
			rec := &recorder{}
			h.consume([]job.Type{job.TypeCI}, 2, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				rec.record(d)
				g.wait(d)
				return []byte("built"), nil
			})
			j := newJob(job.TypeCI, "", 10*time.Second)
			first := h.dispatch(h.ctx, j)
			g.awaitEntry()

			retry := h.dispatch(h.ctx, j)
			Consistently(retry, 300*time.Millisecond).ShouldNot(Receive(), "the retry returned while the job was running")
			Expect(g.entered).NotTo(Receive(), "the retry started a second execution")
			g.release()

			for _, p := range []<-chan outcome{first, retry} {
				res := result(p)
				Expect(res.Error).To(BeEmpty())
				Expect(string(res.Payload)).To(Equal("built"))
				Expect(res.Attempt).To(Equal(1))
			}
			Consistently(rec.count, 300*time.Millisecond).Should(Equal(1), "the job ran more than once")
		})
	})
}
