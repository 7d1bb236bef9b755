package memregistry_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/conformance/registrytest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "memregistry: Registry conformance")
}

var _ = registrytest.Describe("memregistry", func() (ports.Registry, string, func()) {
	return memregistry.New(), "registry.test", nil
})
