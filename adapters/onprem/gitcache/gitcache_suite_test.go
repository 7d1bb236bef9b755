package gitcache_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/conformance/sourcecachetest"
	"github.com/catalyst-forge/forge/ports"
)

func TestGitcacheConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gitcache")
}

// A new cache, with the default options, on the spec's directory.
var _ = sourcecachetest.Describe("gitcache", func(workdir string) (ports.SourceCache, func()) {
	c, err := gitcache.New(workdir)
	Expect(err).NotTo(HaveOccurred())
	return c, nil
})
