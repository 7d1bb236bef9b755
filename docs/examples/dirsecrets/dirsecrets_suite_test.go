package dirsecrets_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/docs/examples/dirsecrets"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "dirsecrets: SecretProvider conformance")
}

// Each spec gets a fresh directory; files are the secrets.
var _ = secretprovidertest.Describe("dirsecrets", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	dir, err := os.MkdirTemp("", "dirsecrets")
	Expect(err).NotTo(HaveOccurred())
	return &dirsecrets.Provider{Dir: dir}, &files{dir: dir}, func() { os.RemoveAll(dir) }
})

// files puts secrets where the provider reads them.
type files struct {
	dir string
	n   atomic.Int64
}

func (f *files) write(v any) string {
	name := fmt.Sprintf("secret-%d", f.n.Add(1))
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(f.dir, name+".json"), data, 0o600)).To(Succeed())
	return name
}

func (f *files) Put(value string) map[string]any { return map[string]any{"name": f.write(value)} }

func (f *files) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	return map[string]any{"name": f.write(fields), "key": key}, true
}

func (f *files) Missing() map[string]any { return map[string]any{"name": "never-written"} }

func (f *files) Invalid() (map[string]any, string) {
	return map[string]any{"name": "../etc/passwd"}, "name"
}
