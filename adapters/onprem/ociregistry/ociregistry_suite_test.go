package ociregistry_test

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/conformance/registrytest"
	"github.com/catalyst-forge/forge/ports"
)

// TestConformance runs the Registry conformance suite against two real
// registries: go-containerregistry's in-process one, and Debian's
// docker-registry (the CNCF Distribution registry) when
// FORGE_TEST_REGISTRY names where it listens (.ci/run starts one).
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ociregistry: Registry conformance")
}

var _ = registrytest.Describe("ociregistry against the in-process registry", func() (ports.Registry, string, func()) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	c, err := ociregistry.New(ociregistry.Options{})
	Expect(err).NotTo(HaveOccurred())
	return c, strings.TrimPrefix(srv.URL, "http://"), srv.Close
})

var _ = registrytest.Describe("ociregistry against Debian's docker-registry", func() (ports.Registry, string, func()) {
	host := os.Getenv("FORGE_TEST_REGISTRY")
	if host == "" {
		Skip("set FORGE_TEST_REGISTRY=HOST:PORT of a docker-registry to run this suite (.ci/run does)")
	}
	c, err := ociregistry.New(ociregistry.Options{})
	Expect(err).NotTo(HaveOccurred())
	return c, host, nil
})
