package jobqueuetest

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeRouting(h *harness) {
	ginkgo.Describe("routing by job type", func() {
		ginkgo.It("delivers each type to a consumer of that type", func() {
			h.consume(job.Types, len(job.Types), func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				return []byte(d.Job.Type), nil
			})
			pending := map[job.Type]<-chan outcome{}
			for _, t := range job.Types {
				pending[t] = h.dispatch(h.ctx, newJob(t, "", 10*time.Second))
			}
			for _, t := range job.Types {
				res := result(pending[t])
				Expect(res.Error).To(BeEmpty())
				Expect(string(res.Payload)).To(Equal(string(t)), "the %s job went to the wrong handler", t)
			}
		})

		ginkgo.It("keeps jobs of types nobody pulls queued until a consumer of their type starts", func() {
			// Release and deployment jobs share a stream in spec 03;
			// a release worker must still not take deployment jobs.
			first := &recorder{}
			h.consume([]job.Type{job.TypeCI, job.TypeRelease}, 2, first.echo)
			discovery := h.dispatch(h.ctx, newJob(job.TypeDiscovery, "d", 10*time.Second))
			deployment := h.dispatch(h.ctx, newJob(job.TypeDeployment, "p", 10*time.Second))
			ci := h.dispatch(h.ctx, newJob(job.TypeCI, "c", 10*time.Second))

			Expect(string(result(ci).Payload)).To(Equal("echo:c"))
			Consistently(discovery, 300*time.Millisecond).ShouldNot(Receive(), "a discovery job finished with no discovery worker")
			Expect(deployment).NotTo(Receive(), "a deployment job finished with no deployment worker")

			second := &recorder{}
			h.consume([]job.Type{job.TypeDiscovery, job.TypeDeployment}, 2, second.echo)
			res := result(discovery)
			Expect(string(res.Payload)).To(Equal("echo:d"))
			Expect(res.Attempt).To(Equal(1))
			res = result(deployment)
			Expect(string(res.Payload)).To(Equal("echo:p"))
			Expect(res.Attempt).To(Equal(1))

			Expect(first.types()).To(ConsistOf(job.TypeCI))
			Expect(second.types()).To(ConsistOf(job.TypeDiscovery, job.TypeDeployment))
		})
	})
}
