package storetest

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a new, empty store for one spec and a cleanup func (may
// be nil). The suite closes the store at the end of the spec, then calls
// cleanup, which can drop the spec's database or schema.
type Factory func() (ports.Store, func())

// Describe declares the Store conformance specs for the adapter called
// name, each on a fresh store from factory. Call it at the top level of a
// Ginkgo suite file (var _ = storetest.Describe(...)) or inside a container.
// It returns what ginkgo.Describe returns.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("Store conformance: "+name, func() {
		h := &harness{}

		ginkgo.BeforeEach(func() {
			store, cleanup := factory()
			Expect(store).NotTo(BeNil(), "the factory returned no store")
			h.store = store
			h.ctx = context.Background()
			ginkgo.DeferCleanup(func() {
				Expect(store.Close()).To(Succeed(), "closing the store")
				if cleanup != nil {
					cleanup()
				}
			})
		})

		describeRepositories(h)
		describeRuns(h)
		describeStatusUpdates(h)
		describeTransactions(h)
		describeReleases(h)
		describeResolution(h)
		describeDeployments(h)
		describeApprovals(h)
	})
}

// harness holds the store of the running spec.
type harness struct {
	store ports.Store
	ctx   context.Context
}
