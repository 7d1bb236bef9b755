package steprunnertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// describeOutput covers what the step prints and what it sees.
func describeOutput(h *harness) {
	ginkgo.Describe("output and environment", func() {
		ginkgo.It("captures both standard output and standard error in Output", func() {
			const text = "forge-conformance-printed-text"
			o := h.run(context.Background(), h.steps.Print(text), 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %q", o.output)
			Expect(strings.Count(o.output, text)).To(BeNumerically(">=", 2),
				"the step printed %q to standard output and to standard error; Output holds %q", text, o.output)
		})

		ginkgo.It("gives the step the variables in Env", func() {
			req := h.steps.PrintEnv("FORGE_CONFORMANCE_VAR")
			req.Env = map[string]string{"FORGE_CONFORMANCE_VAR": "value-from-env"}
			o := h.run(context.Background(), req, 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %q", o.output)
			Expect(o.output).To(ContainSubstring("value-from-env"))
		})
	})
}

// secretName and secretValue are the secret most specs pass.
const (
	secretName  = "FORGE_CONFORMANCE_SECRET"
	secretValue = "s3cr3t-value-6f1c2e9a"
)

// describeSecrets covers how secrets reach the step and stay out of logs
// and command lines.
func describeSecrets(h *harness) {
	ginkgo.Describe("secrets", func() {
		ginkgo.It("reach the step through its environment and are masked in Output", func() {
			req := h.steps.PrintEnv(secretName)
			req.Secrets = map[string]string{secretName: secretValue}
			o := h.run(context.Background(), req, 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %q", o.output)
			Expect(o.output).NotTo(ContainSubstring(secretValue))
			// The writer replaces only the value itself, so "***" shows
			// the step saw it.
			Expect(o.output).To(ContainSubstring("***"), "the step printed $%s; Output holds %q", secretName, o.output)
		})

		ginkgo.It("are masked wherever they appear in the output", func() {
			req := h.steps.Print("token=" + secretValue + ";")
			req.Secrets = map[string]string{secretName: secretValue}
			o := h.run(context.Background(), req, 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.output).NotTo(ContainSubstring(secretValue))
			Expect(o.output).To(ContainSubstring("token=***;"))
		})

		ginkgo.It("are masked when the value reaches the executor in several pieces", func() {
			// A value longer than a pipe's capacity (64 KiB on Linux)
			// cannot be read in one piece, and each piece alone is not
			// the secret. It stays under the 128 KiB an environment
			// entry may hold.
			value := longSecret(96 << 10)
			req := h.steps.PrintEnv(secretName)
			req.Secrets = map[string]string{secretName: value}
			o := h.run(context.Background(), req, 0)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Succeeded()).To(BeTrue(), "output: %.200q", o.output)
			Expect(strings.Contains(o.output, value)).To(BeFalse(), "the value is in Output")
			for _, piece := range []string{value[:64], value[len(value)/2 : len(value)/2+64], value[len(value)-64:]} {
				Expect(strings.Contains(o.output, piece)).To(BeFalse(), "a piece of the value is in Output: %q", piece)
			}
			Expect(o.output).To(ContainSubstring("***"))
		})

		ginkgo.It("stay out of the command lines of the step and its children", func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pidFile := filepath.Join(h.dir, "pids")
			req := h.steps.SpawnChildThatSleeps(time.Minute, pidFile)
			req.Secrets = map[string]string{secretName: secretValue}
			done := h.start(ctx, req, 0)
			step, child := waitForPIDs(pidFile, done)

			Expect(procFile(step, "cmdline")).NotTo(ContainSubstring(secretValue), "in the step's command line")
			Expect(procFile(child, "cmdline")).NotTo(ContainSubstring(secretValue), "in the child's command line")
			Expect(strings.Split(procFile(step, "environ"), "\x00")).To(ContainElement(secretName+"="+secretValue),
				"the secret is not in the step's environment")

			cancel() // no need to wait a minute
			o := await(done)
			Expect(o.err).NotTo(HaveOccurred())
			Expect(o.result.Cancelled).To(BeTrue())
		})
	})
}

// longSecret returns n bytes of hex that do not repeat.
func longSecret(n int) string {
	var b strings.Builder
	sum := sha256.Sum256([]byte("forge conformance"))
	for b.Len() < n {
		b.WriteString(hex.EncodeToString(sum[:]))
		sum = sha256.Sum256(sum[:])
	}
	return b.String()[:n]
}
