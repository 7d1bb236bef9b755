package steprunnertest

import (
	"context"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// killLimit is how soon after its timeout or cancellation Execute must
// return.
const killLimit = 2 * time.Second

// describeTermination covers timeouts and cancellation, and the killing of
// everything the step started.
func describeTermination(h *harness) {
	ginkgo.Describe("a step that does not end by itself", func() {
		ginkgo.It("is killed with its whole process group when it runs past its timeout", func() {
			const timeout = 750 * time.Millisecond
			pidFile := filepath.Join(h.dir, "pids")
			o := h.run(context.Background(), h.steps.SpawnChildThatSleeps(time.Minute, pidFile), timeout)

			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.TimedOut).To(BeTrue(), "result %+v, output %q", o.result, o.output)
			Expect(o.result.Cancelled).To(BeFalse())
			Expect(o.result.ExitCode).To(Equal(-1))
			Expect(o.result.Succeeded()).To(BeFalse())
			Expect(o.elapsed).To(BeNumerically(">=", timeout), "Execute returned before the timeout")
			Expect(o.elapsed).To(BeNumerically("<", timeout+killLimit), "Execute returned too long after the timeout")

			step, child, ok := readPIDs(pidFile)
			Expect(ok).To(BeTrue(), "the step wrote no pid file before its timeout; output %q", o.output)
			expectGone(step, "the step's process")
			expectGone(child, "the child the step started")
		})

		ginkgo.It("is killed with its whole process group when ctx is cancelled", func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pidFile := filepath.Join(h.dir, "pids")
			done := h.start(ctx, h.steps.SpawnChildThatSleeps(time.Minute, pidFile), 0)
			step, child := waitForPIDs(pidFile, done)

			cancelled := time.Now()
			cancel()
			o := await(done)
			Expect(time.Since(cancelled)).To(BeNumerically("<", killLimit), "Execute returned too long after ctx ended")

			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Cancelled).To(BeTrue(), "result %+v, output %q", o.result, o.output)
			Expect(o.result.TimedOut).To(BeFalse())
			Expect(o.result.ExitCode).To(Equal(-1))
			Expect(o.result.Succeeded()).To(BeFalse())
			expectGone(step, "the step's process")
			expectGone(child, "the child the step started")
		})

		ginkgo.It("is reported cancelled, not an error, when ctx has already ended", func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			pidFile := filepath.Join(h.dir, "pids")
			o := h.run(ctx, h.steps.SpawnChildThatSleeps(time.Minute, pidFile), 0)

			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Cancelled).To(BeTrue())
			Expect(o.result.ExitCode).To(Equal(-1))
			Expect(o.elapsed).To(BeNumerically("<", killLimit))
			// An executor may start the step and kill it at once; then
			// nothing it started may survive.
			if step, child, ok := readPIDs(pidFile); ok {
				expectGone(step, "the step's process")
				expectGone(child, "the child the step started")
			}
		})
	})
}
