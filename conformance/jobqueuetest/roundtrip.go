package jobqueuetest

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

func describeRoundTrip(h *harness) {
	ginkgo.Describe("a round trip", func() {
		ginkgo.It("hands the job to a handler as attempt 1 and its payload back to the dispatcher", func() {
			rec := &recorder{}
			h.consume([]job.Type{job.TypeCI}, 1, rec.echo)
			j := newJob(job.TypeCI, "hello", 10*time.Second)

			res := result(h.dispatch(h.ctx, j))
			Expect(res.JobID).To(Equal(j.ID))
			Expect(res.Error).To(BeEmpty())
			Expect(string(res.Payload)).To(Equal("echo:hello"))
			Expect(res.Attempt).To(Equal(1))

			Expect(rec.count()).To(Equal(1))
			d := rec.deliveries[0]
			Expect(d.Attempt).To(Equal(1))
			Expect(d.Job.ID).To(Equal(j.ID))
			Expect(d.Job.Type).To(Equal(job.TypeCI))
			Expect(d.Job.RunID).To(Equal(j.RunID))
			Expect(string(d.Job.Payload)).To(Equal("hello"))
			Expect(d.Job.Timeout).To(Equal(j.Timeout))
			Expect(d.Progress).NotTo(BeNil(), "a delivery needs a Progress func")
		})

		ginkgo.It("carries the dispatcher's trace ID, or else the run's, to the handler's context", func() {
			traces := make(chan string, 2)
			h.consume([]job.Type{job.TypeCI}, 2, func(ctx context.Context, _ *ports.Delivery) ([]byte, error) {
				traces <- ports.TraceIDFrom(ctx)
				return nil, nil
			})
			caller := ports.NewTraceID()
			j := newJob(job.TypeCI, "traced", 10*time.Second)
			result(h.dispatch(ports.WithTraceID(h.ctx, caller), j))
			Expect(<-traces).To(Equal(caller))

			j = newJob(job.TypeCI, "of its run", 10*time.Second)
			j.RunID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
			result(h.dispatch(h.ctx, j))
			Expect(<-traces).To(Equal("6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b"))
		})

		ginkgo.It("lets a handler report progress", func() {
			h.consume([]job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				if err := d.Progress(); err != nil {
					return nil, err
				}
				return []byte("ok"), nil
			})
			res := result(h.dispatch(h.ctx, newJob(job.TypeCI, "", 10*time.Second)))
			Expect(res.Error).To(BeEmpty(), "Progress failed")
			Expect(string(res.Payload)).To(Equal("ok"))
		})

		ginkgo.It("returns a handler's error as the result's Error, not as an error", func() {
			h.consume([]job.Type{job.TypeArtifact}, 1, func(context.Context, *ports.Delivery) ([]byte, error) {
				return []byte("ignored"), errors.New("build failed: exit status 2")
			})
			j := newJob(job.TypeArtifact, "", 10*time.Second)

			res := result(h.dispatch(h.ctx, j))
			Expect(res.JobID).To(Equal(j.ID))
			Expect(res.Error).To(ContainSubstring("build failed: exit status 2"))
			Expect(res.Payload).To(BeEmpty())
			Expect(res.Attempt).To(Equal(1))
		})

		ginkgo.It("carries results over 1 MB", func() {
			big := pattern(3<<20 + 17)
			h.consume([]job.Type{job.TypeRelease}, 1, func(context.Context, *ports.Delivery) ([]byte, error) {
				return big, nil
			})
			res := result(h.dispatch(h.ctx, newJob(job.TypeRelease, "", 10*time.Second)))
			Expect(res.Error).To(BeEmpty())
			Expect(len(res.Payload)).To(Equal(len(big)))
			Expect(bytes.Equal(res.Payload, big)).To(BeTrue(), "the payload came back changed")
		})

		ginkgo.It("carries a result of just over 1 MB, and one of just under", func() {
			h.consume([]job.Type{job.TypeCI}, 2, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
				if string(d.Job.Payload) == "over" {
					return pattern(1<<20 + 1), nil
				}
				return pattern(1<<20 - 64<<10), nil
			})
			over := h.dispatch(h.ctx, newJob(job.TypeCI, "over", 10*time.Second))
			under := h.dispatch(h.ctx, newJob(job.TypeCI, "under", 10*time.Second))
			res := result(over)
			Expect(res.Error).To(BeEmpty())
			Expect(bytes.Equal(res.Payload, pattern(1<<20+1))).To(BeTrue(), "the result over 1 MB came back changed (%d bytes)", len(res.Payload))
			res = result(under)
			Expect(res.Error).To(BeEmpty())
			Expect(bytes.Equal(res.Payload, pattern(1<<20-64<<10))).To(BeTrue(), "the result under 1 MB came back changed (%d bytes)", len(res.Payload))
		})
	})
}

// pattern returns n bytes that are not all alike, the same for the same n.
func pattern(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
