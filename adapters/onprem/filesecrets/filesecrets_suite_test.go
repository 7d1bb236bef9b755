package filesecrets_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/filesecrets"
	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "filesecrets: SecretProvider conformance")
}

// Real files in a temporary root.
var _ = secretprovidertest.Describe("filesecrets", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	root, err := os.MkdirTemp("", "filesecrets-")
	Expect(err).NotTo(HaveOccurred())
	return filesecrets.New(filesecrets.Options{Roots: []string{root}}), &files{root: root}, func() { _ = os.RemoveAll(root) }
})

type files struct {
	root string
	n    atomic.Int64
}

func (f *files) write(b []byte) string {
	path := filepath.Join(f.root, fmt.Sprintf("secret-%d", f.n.Add(1)))
	Expect(os.WriteFile(path, b, 0o600)).To(Succeed())
	return path
}

func (f *files) Put(value string) map[string]any {
	return map[string]any{"path": f.write([]byte(value + "\n"))}
}

func (f *files) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	b, err := json.Marshal(fields)
	Expect(err).NotTo(HaveOccurred())
	return map[string]any{"path": f.write(b), "key": key}, true
}

func (f *files) Missing() map[string]any {
	return map[string]any{"path": filepath.Join(f.root, "never-written")}
}

func (f *files) Invalid() (map[string]any, string) {
	return map[string]any{"path": "relative/secret"}, "path"
}
