package natsqueue_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/conformance/jobqueuetest"
	"github.com/catalyst-forge/forge/ports"
)

// natsURLEnv names the NATS server (with JetStream) to test against.
const natsURLEnv = "FORGE_TEST_NATS_URL"

const skipNATS = "set " + natsURLEnv + " to run against a NATS server (e.g. nats://127.0.0.1:4222)"

func TestNatsqueueConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "natsqueue")
}

// suiteServer is the embedded server the "embedded" specs share; each
// spec gets streams of its own under a unique prefix.
var suiteServer *natsembed.Server

var _ = BeforeSuite(func() {
	s, err := natsembed.Start(context.Background(), natsembed.Config{Dir: GinkgoT().TempDir()})
	Expect(err).NotTo(HaveOccurred())
	suiteServer = s
	DeferCleanup(s.Shutdown)
	nc, err := s.Connect()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(nc.Close)
	drop, err := anchorStream(nc)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(drop)

	if url := os.Getenv(natsURLEnv); url != "" {
		nc, err := nats.Connect(url)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(nc.Close)
		drop, err := anchorStream(nc)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(drop)
	}
})

// The embedded server, with file storage, always.
var _ = jobqueuetest.Describe("natsqueue/embedded", func() (ports.JobQueue, func()) {
	Expect(suiteServer).NotTo(BeNil(), "BeforeSuite started no server")

	return freshQueue(suiteServer.Connect)
})

// The machine's NATS server, when FORGE_TEST_NATS_URL names one.
var _ = func() bool {
	url := os.Getenv(natsURLEnv)
	if url == "" {
		return Describe("JobQueue conformance: natsqueue/nats-server", func() {
			It("runs against a NATS server", func() { Skip(skipNATS) }) // set FORGE_TEST_NATS_URL
		})
	}
	return jobqueuetest.Describe("natsqueue/nats-server", func() (ports.JobQueue, func()) {
		return freshQueue(func(opts ...nats.Option) (*nats.Conn, error) { return nats.Connect(url, opts...) })
	})
}()

var prefixes atomic.Int64

// uniquePrefix names one test's streams, unique across runs and processes.
func uniquePrefix() string {
	return fmt.Sprintf("t%d-%d-%d", time.Now().UnixNano()%1e12, os.Getpid(), prefixes.Add(1))
}

// freshQueue returns a queue with streams of its own (file storage, an
// object store for large results) on a new connection, and a cleanup that
// deletes the streams and closes the connection.
func freshQueue(connect func(...nats.Option) (*nats.Conn, error)) (ports.JobQueue, func()) {
	nc, err := connect(nats.Name("natsqueue-conformance"))
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := natsqueue.New(ctx, nc, natsqueue.WithPrefix(uniquePrefix()), natsqueue.WithObjectStore(newMemObjects()))
	Expect(err).NotTo(HaveOccurred())
	return q, func() {
		defer nc.Close()
		Expect(deleteStreams(nc, q.StreamNames())).To(Succeed())
	}
}

// deleteStreams removes the streams a test made.
func deleteStreams(nc *nats.Conn, names []string) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range names {
		if err := js.DeleteStream(ctx, name); err != nil && err != jetstream.ErrStreamNotFound {
			return fmt.Errorf("deleting stream %s: %w", name, err)
		}
	}
	return nil
}

// anchorStream creates a small file-backed stream that lives while the
// tests create and delete theirs, and returns what deletes it. The NATS
// server removes an account's stream directory in the background when its
// last stream is deleted, and a stream created at that moment fails with
// "error creating store for stream" (seen with nats-server 2.15.2 when
// every spec deleted its streams): with the anchor the directory never
// empties.
func anchorStream(nc *nats.Conn) (func(), error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	name := uniquePrefix() + "-anchor"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".none"}, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", name, err)
	}
	return func() { _ = deleteStreams(nc, []string{name}) }, nil
}
