package memstore_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/conformance/storetest"
	"github.com/catalyst-forge/forge/ports"
)

func TestMemstore(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "memstore")
}

var _ = storetest.Describe("memstore", func() (ports.Store, func()) { return memstore.New(), nil })
