package objectstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a new, empty object store for one spec and a cleanup
// func (may be nil) that the suite calls when the spec ends. When the
// store's signed links point at a handler of the adapter itself, the
// factory serves that handler until cleanup.
type Factory func() (ports.ObjectStore, func())

// Option adjusts the suite to a known limitation of the store under test.
// Every limitation makes specs skip with its reason; none makes a spec
// pass that would otherwise fail.
type Option func(*options)

type options struct {
	nestingConflict string
}

// NestedKeysMayConflict declares that the store may refuse, with a
// Conflict error, to hold an object at a key and objects below that key at
// the same time ("a/b" and "a/b/c"), as S3-compatible servers that keep
// objects as files do. The specs of nested keys still run; when the store
// does refuse, they are skipped with reason and the store's error instead
// of failing. Without this option a Conflict fails them.
func NestedKeysMayConflict(reason string) Option {
	return func(o *options) { o.nestingConflict = reason }
}

// Describe declares the ObjectStore conformance specs for the adapter
// called name, each on a fresh store from factory. Call it at the top level
// of a Ginkgo suite file (var _ = objectstoretest.Describe(...)) or inside
// a container. It returns what ginkgo.Describe returns.
func Describe(name string, factory Factory, opts ...Option) bool {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return ginkgo.Describe("ObjectStore conformance: "+name, func() {
		h := &harness{opts: o}

		ginkgo.BeforeEach(func() {
			store, cleanup := factory()
			Expect(store).NotTo(BeNil(), "the factory returned no store")
			h.store = store
			h.ctx = context.Background()
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
		})

		describeReadWrite(h)
		describeKeys(h)
		describeList(h)
		describeNested(h)
		describeConcurrency(h)
		describePresign(h)
	})
}

// harness holds the store of the running spec.
type harness struct {
	store ports.ObjectStore
	ctx   context.Context
	opts  options
}

// put stores content under key through a reader that hides its length, and
// fails the spec on an error.
func (h *harness) put(key string, content []byte, contentType string) ports.ObjectInfo {
	ginkgo.GinkgoHelper()
	info, err := h.store.Put(h.ctx, key, opaque(content), ports.PutOptions{ContentType: contentType})
	Expect(err).NotTo(HaveOccurred(), "Put %q", key)
	return info
}

// get reads the object at key from offset, and fails the spec on an error.
func (h *harness) get(key string, offset int64) ([]byte, ports.ObjectInfo) {
	ginkgo.GinkgoHelper()
	rc, info, err := h.store.Get(h.ctx, key, offset)
	Expect(err).NotTo(HaveOccurred(), "Get %q at %d", key, offset)
	Expect(rc).NotTo(BeNil(), "Get %q returned no reader", key)
	defer func() { Expect(rc.Close()).To(Succeed(), "closing the reader of %q", key) }()
	body, err := io.ReadAll(rc)
	Expect(err).NotTo(HaveOccurred(), "reading %q", key)
	return body, info
}

// keys lists every object under prefix, page by page, and returns the keys.
func (h *harness) keys(prefix string) []string {
	ginkgo.GinkgoHelper()
	var all []string
	after := ""
	for range 100 {
		objs, more, err := h.store.List(h.ctx, prefix, after, 0)
		Expect(err).NotTo(HaveOccurred(), "List %q after %q", prefix, after)
		for _, o := range objs {
			all = append(all, o.Key)
		}
		if !more {
			return all
		}
		Expect(objs).NotTo(BeEmpty(), "List %q after %q returned nothing but more", prefix, after)
		after = objs[len(objs)-1].Key
	}
	ginkgo.Fail("List did not finish in 100 pages")
	return nil
}

// putNested stores key for the nested-key specs, skipping the spec when
// the store refuses with Conflict and NestedKeysMayConflict allows it.
func (h *harness) putNested(key string, content []byte) {
	ginkgo.GinkgoHelper()
	_, err := h.store.Put(h.ctx, key, opaque(content), ports.PutOptions{})
	if h.opts.nestingConflict != "" && fault.Is(err, fault.Conflict) {
		ginkgo.Skip(fmt.Sprintf("the store cannot hold nested keys (%s): %v", h.opts.nestingConflict, err))
	}
	Expect(err).NotTo(HaveOccurred(), "Put %q", key)
}

// opaque returns a reader of content that is nothing but an io.Reader, so
// adapters cannot learn the length or seek.
func opaque(content []byte) io.Reader {
	return struct{ io.Reader }{bytes.NewReader(content)}
}

// randomBytes returns n deterministic pseudo-random bytes for seed.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// digest is the SHA-256 of b, to compare large contents without printing them.
func digest(b []byte) [32]byte { return sha256.Sum256(b) }

// haveKind matches a non-nil error whose fault kind is k.
func haveKind(k fault.Kind) types.GomegaMatcher {
	return SatisfyAll(HaveOccurred(), WithTransform(fault.KindOf, Equal(k)))
}

// beRecent matches a time near now: stores stamp objects with their own
// clock, some only to the second.
func beRecent() types.GomegaMatcher {
	return BeTemporally("~", time.Now(), 2*time.Minute)
}

// equalBytes compares contents by length and digest, so that a failure
// does not print megabytes.
func equalBytes(want []byte) types.GomegaMatcher {
	return WithTransform(func(got []byte) [2]any { return [2]any{len(got), digest(got)} },
		Equal([2]any{len(want), digest(want)}))
}

// failAfter returns a reader that yields the first n bytes of content and
// then fails, as a network upload that breaks midway.
func failAfter(content []byte, n int) io.Reader {
	return io.MultiReader(bytes.NewReader(content[:n]), errReader{})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, errors.New("objectstoretest: the reader broke midway")
}

// contextCancelled returns a context that is already cancelled.
func contextCancelled(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	cancel()
	return ctx, cancel
}
