package fsblob_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/conformance/objectstoretest"
	"github.com/catalyst-forge/forge/ports"
)

func TestFSBlobConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "fsblob")
}

// Each spec gets a store in a fresh directory, and an httptest server that
// serves the store's signed links where the API would: at /v1/objects/.
var _ = objectstoretest.Describe("fsblob", func() (ports.ObjectStore, func()) {
	dir, err := os.MkdirTemp("", "fsblob-conformance-")
	Expect(err).NotTo(HaveOccurred())
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	s, err := fsblob.New(dir, fsblob.WithSigning(nil, srv.URL))
	Expect(err).NotTo(HaveOccurred())
	mux.Handle(fsblob.SignedPath, s.SignedHandler())
	return s, func() {
		srv.Close()
		Expect(s.Close()).To(Succeed())
		Expect(os.RemoveAll(dir)).To(Succeed())
	}
})
