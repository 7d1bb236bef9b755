// Package storetest is the conformance suite of the Store port
// (ports.Store). It is in the conformance layer: it imports only ports/,
// domain/, Ginkgo and Gomega, and owns the executable form of the Store
// contract — what every adapter of the port must do, whatever its database.
//
// An adapter's test package runs it from a Ginkgo suite file:
//
//	func TestPgstore(t *testing.T) {
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "pgstore")
//	}
//
//	var _ = storetest.Describe("pgstore", func() (ports.Store, func()) {
//		s := openFreshDatabase()
//		return s, func() { dropDatabase() }
//	})
//
// Every spec gets a new, empty store from the factory, so specs never see
// each other's data. The suite relies only on the documented contract of
// ports.Store: times are compared to the millisecond (databases round
// them), lists are read in their documented order only, and entities that
// other entities refer to (repositories, runs, releases, approvals) are
// created first so that adapters with foreign keys pass too.
package storetest
