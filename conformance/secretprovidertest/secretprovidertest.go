package secretprovidertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Secrets puts secrets where the provider under test reads them. Values
// the suite stores are printable text without leading or trailing space.
type Secrets interface {
	// Put stores value as a new secret and returns the reference fields
	// (without provider and env) that resolve it.
	Put(value string) map[string]any
	// PutFields stores a secret made of named fields (a JSON object, as
	// AWS Secrets Manager, Vault and Kubernetes Secrets hold them) and
	// returns the reference fields that select key from it. A provider
	// with no notion of keys returns ok false and the fields a user would
	// write to select a key, which it must refuse.
	PutFields(fields map[string]string, key string) (cfg map[string]any, ok bool)
	// Missing returns reference fields naming a secret that does not exist.
	Missing() map[string]any
	// Invalid returns reference fields the provider refuses, and the name
	// of the field the error must name.
	Invalid() (cfg map[string]any, field string)
}

// Factory returns a provider, the Secrets that feed it, and a cleanup
// func (may be nil), called when the spec ends.
type Factory func() (ports.SecretProvider, Secrets, func())

// canary is a value that must never appear in an error.
const canary = "canary-7d1f0c9e-value"

// Describe declares the SecretProvider conformance specs for the adapter
// called name, each on a fresh provider from factory.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("SecretProvider conformance: "+name, func() {
		var (
			p   ports.SecretProvider
			s   Secrets
			ctx context.Context
		)
		ginkgo.BeforeEach(func() {
			var cleanup func()
			p, s, cleanup = factory()
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
			ctx = context.Background()
		})
		noValue := func(err error, values ...string) {
			for _, v := range append(values, canary) {
				Expect(err.Error()).NotTo(ContainSubstring(v), "an error shows a secret value")
			}
		}

		ginkgo.It("names itself and its fields", func() {
			Expect(p.Name()).NotTo(BeEmpty())
			Expect(strings.TrimSpace(p.Schema())).NotTo(BeEmpty())
		})

		ginkgo.It("resolves a secret to exactly its value, as often as asked", func() {
			for _, v := range []string{"s3cr3t", "with spaces and = signs", "ünïcødé ✓", strings.Repeat("x", 4096)} {
				cfg := s.Put(v)
				for range 2 {
					got, err := p.Resolve(ctx, cfg)
					Expect(err).NotTo(HaveOccurred())
					Expect(got).To(Equal(v))
				}
			}
		})

		ginkgo.It("keeps secrets apart", func() {
			a, b := s.Put("value-a"), s.Put("value-b")
			Expect(p.Resolve(ctx, a)).To(Equal("value-a"))
			Expect(p.Resolve(ctx, b)).To(Equal("value-b"))
		})

		ginkgo.It("answers NotFound for a secret that does not exist, without any value", func() {
			s.Put(canary)
			_, err := p.Resolve(ctx, s.Missing())
			Expect(err).To(HaveOccurred())
			Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "error: %v", err)
			noValue(err)
		})

		ginkgo.It("selects one field of a secret with several, and answers NotFound for a missing key", func() {
			cfg, ok := s.PutFields(map[string]string{"user": "robot", "password": canary}, "password")
			if !ok {
				_, err := p.Resolve(ctx, cfg)
				Expect(fault.KindOf(err)).To(Equal(fault.Validation), "a provider without keys refuses a key; error: %v", err)
				noValue(err, "robot")
				return
			}
			Expect(p.Resolve(ctx, cfg)).To(Equal(canary))
			missing, _ := s.PutFields(map[string]string{"user": "robot", "password": canary}, "token")
			_, err := p.Resolve(ctx, missing)
			Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "error: %v", err)
			Expect(err.Error()).To(ContainSubstring("token"), "the error names the missing key")
			noValue(err, "robot")
		})

		ginkgo.It("refuses fields it cannot use with a Validation error naming the field", func() {
			cfg, field := s.Invalid()
			_, err := p.Resolve(ctx, cfg)
			Expect(fault.KindOf(err)).To(Equal(fault.Validation), "error: %v", err)
			Expect(err.Error()).To(ContainSubstring(field))
			noValue(err)
		})

		ginkgo.It("stops when its context is cancelled, returning no value", func() {
			cfg := s.Put(canary)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			got, err := p.Resolve(cctx, cfg)
			Expect(got).To(BeEmpty())
			Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "error: %v", err)
			noValue(err)
		})

		ginkgo.It("is safe for concurrent use", func() {
			cfgs := make([]map[string]any, 8)
			for i := range cfgs {
				cfgs[i] = s.Put(fmt.Sprintf("value-%d", i))
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i := range 64 {
				wg.Go(func() {
					defer ginkgo.GinkgoRecover()
					want := fmt.Sprintf("value-%d", i%8)
					got, err := p.Resolve(ctx, cfgs[i%8])
					if err == nil && got != want {
						err = fmt.Errorf("resolution %d: got another secret's value", i)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
		})
	})
}
