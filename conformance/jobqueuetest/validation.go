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

func describeValidation(h *harness) {
	ginkgo.Describe("validation", func() {
		noop := ports.JobHandler(func(context.Context, *ports.Delivery) ([]byte, error) { return nil, nil })

		ginkgo.It("refuses to dispatch a job of an unknown type", func() {
			_, err := h.queue.Dispatch(h.ctx, newJob(job.Type("compile"), "", time.Second))
			Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "want Validation, got %v", err)
		})

		ginkgo.It("refuses to dispatch a job without an ID", func() {
			j := newJob(job.TypeCI, "", time.Second)
			j.ID = ""
			_, err := h.queue.Dispatch(h.ctx, j)
			Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "want Validation, got %v", err)
		})

		ginkgo.It("refuses to consume an unknown type, or no type at all", func() {
			ctx, cancel := context.WithTimeout(h.ctx, wait)
			defer cancel()
			err := h.queue.Consume(ctx, []job.Type{job.TypeCI, "compile"}, 1, noop)
			Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "want Validation, got %v", err)
			err = h.queue.Consume(ctx, nil, 1, noop)
			Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "want Validation, got %v", err)
		})
	})
}
