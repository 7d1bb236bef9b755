package envsecrets_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/envsecrets"
	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "envsecrets: SecretProvider conformance")
}

// The provider reads a map standing for the process environment, so
// specs running in parallel never race on the real one; the real
// environment is read in envsecrets_test.go.
var _ = secretprovidertest.Describe("envsecrets", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	env := &fakeEnv{vars: map[string]string{}}
	return envsecrets.New(envsecrets.Options{Prefixes: []string{"FORGE_SECRET_"}, Lookup: env.lookup}), env, nil
})

type fakeEnv struct {
	mu   sync.Mutex
	vars map[string]string
	n    atomic.Int64
}

func (e *fakeEnv) lookup(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vars[name]
	return v, ok
}

func (e *fakeEnv) Put(value string) map[string]any {
	name := fmt.Sprintf("FORGE_SECRET_T%d", e.n.Add(1))
	e.mu.Lock()
	e.vars[name] = value
	e.mu.Unlock()
	return map[string]any{"name": name}
}

func (e *fakeEnv) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	cfg := e.Put(fields[key])
	cfg["key"] = key
	return cfg, false
}

func (e *fakeEnv) Missing() map[string]any { return map[string]any{"name": "FORGE_SECRET_NEVER_SET"} }

func (e *fakeEnv) Invalid() (map[string]any, string) {
	return map[string]any{"name": "not a name"}, "name"
}
