package steprunnertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
)

// describeResults covers how a step that runs to its end is reported.
func describeResults(h *harness) {
	ginkgo.Describe("a step that runs to its end", func() {
		ginkgo.It("reports exit code 0 and success when the step succeeds", func() {
			o := h.run(context.Background(), h.steps.Succeed(), 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.ExitCode).To(Equal(0))
			Expect(o.result.Succeeded()).To(BeTrue())
			Expect(o.result.TimedOut).To(BeFalse())
			Expect(o.result.Cancelled).To(BeFalse())
		})

		ginkgo.DescribeTable("reports the exit code of a failing step, without an error",
			func(code int) {
				o := h.run(context.Background(), h.steps.Fail(code), 0)
				Expect(o.err).NotTo(HaveOccurred(), "a step that ran and failed is not an error")
				Expect(o.result.ExitCode).To(Equal(code))
				Expect(o.result.Succeeded()).To(BeFalse())
				Expect(o.result.TimedOut).To(BeFalse())
				Expect(o.result.Cancelled).To(BeFalse())
			},
			ginkgo.Entry("exit 1", 1),
			ginkgo.Entry("exit 3", 3),
			ginkgo.Entry("exit 42", 42),
		)

		ginkgo.It("is neither timed out nor cancelled when it ends before its timeout", func() {
			o := h.run(context.Background(), h.steps.Succeed(), time.Minute)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue())
			Expect(o.elapsed).To(BeNumerically("<", 30*time.Second))
		})

		ginkgo.It("measures the step's duration", func() {
			const d = 200 * time.Millisecond
			o := h.run(context.Background(), h.steps.Sleep(d), 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %q", o.output)
			Expect(o.result.Duration).To(BeNumerically(">=", d), "the step slept %s", d)
			Expect(o.result.Duration).To(BeNumerically("<=", o.elapsed), "Duration exceeds the time Execute took")
		})

		ginkgo.It("runs the step in Dir", func() {
			// A relative pid file lands in the working directory.
			o := h.run(context.Background(), h.steps.SpawnChildThatSleeps(10*time.Millisecond, "pids"), 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %q", o.output)
			_, _, ok := readPIDs(filepath.Join(h.dir, "pids"))
			Expect(ok).To(BeTrue(), "the step's relative pid file is not in Dir %s", h.dir)
		})
	})
}

// describeValidation covers requests the executor must refuse before it
// starts anything.
func describeValidation(h *harness) {
	ginkgo.Describe("an incomplete request", func() {
		ginkgo.It("is a Validation error without Dir", func() {
			req := h.steps.Succeed()
			req.Output = &bytes.Buffer{}
			_, err := h.executor.Execute(context.Background(), req)
			expectKind(err, fault.Validation)
		})

		ginkgo.It("is a Validation error without Output", func() {
			req := h.steps.Succeed()
			req.Dir = h.dir
			_, err := h.executor.Execute(context.Background(), req)
			expectKind(err, fault.Validation)
		})

		ginkgo.It("is a Validation error with an unknown Action, and runs nothing", func() {
			req := h.steps.SpawnChildThatSleeps(10*time.Millisecond, "pids")
			req.Action = "no-such-action"
			req.Dir, req.Output = h.dir, &bytes.Buffer{}
			_, err := h.executor.Execute(context.Background(), req)
			expectKind(err, fault.Validation)
			_, statErr := os.Stat(filepath.Join(h.dir, "pids"))
			Expect(os.IsNotExist(statErr)).To(BeTrue(), "a refused step ran anyway")
		})
	})
}
