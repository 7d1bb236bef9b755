package jobqueuetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a new, empty job queue for one spec and a cleanup func
// (may be nil). The suite stops the spec's consumers, then calls cleanup,
// which can close connections and drop the spec's streams.
type Factory func() (ports.JobQueue, func())

// Describe declares the JobQueue conformance specs for the adapter called
// name, each on a fresh queue from factory. Call it at the top level of a
// Ginkgo suite file (var _ = jobqueuetest.Describe(...)) or inside a
// container. It returns what ginkgo.Describe returns.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("JobQueue conformance: "+name, func() {
		h := &harness{}

		ginkgo.BeforeEach(func() {
			q, cleanup := factory()
			Expect(q).NotTo(BeNil(), "the factory returned no queue")
			h.queue = q
			h.ctx = context.Background()
			h.gates = nil
			ginkgo.DeferCleanup(func() {
				if cleanup != nil {
					cleanup()
				}
			})
		})

		describeRoundTrip(h)
		describeRouting(h)
		describeConcurrency(h)
		describeDeduplication(h)
		describeRedelivery(h)
		describeEnds(h)
		describeValidation(h)
	})
}

// wait bounds every wait of the suite for something that should happen.
const wait = 10 * time.Second

// harness holds the queue of the running spec and helpers around it.
type harness struct {
	queue ports.JobQueue
	ctx   context.Context
	gates []*gate // opened before the spec's consumers stop
}

var ids atomic.Int64

// newJob returns a job with a unique ID.
func newJob(t job.Type, payload string, timeout time.Duration) job.Job {
	return job.Job{
		ID:      fmt.Sprintf("conformance-%d-%d", time.Now().UnixNano(), ids.Add(1)),
		Type:    t,
		RunID:   "run-conformance",
		Payload: []byte(payload),
		Timeout: timeout,
	}
}

// outcome is what a Dispatch returned.
type outcome struct {
	res job.Result
	err error
}

// dispatch runs Dispatch in the background; its outcome arrives on the
// channel.
func (h *harness) dispatch(ctx context.Context, j job.Job) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		defer ginkgo.GinkgoRecover()
		res, err := h.queue.Dispatch(ctx, j)
		ch <- outcome{res, err}
	}()
	return ch
}

// result waits for a dispatch's outcome and expects it to be a result.
func result(ch <-chan outcome) job.Result {
	ginkgo.GinkgoHelper()
	var o outcome
	Eventually(ch, wait).Should(Receive(&o), "the dispatch did not return")
	Expect(o.err).NotTo(HaveOccurred())
	return o.res
}

// consumer is a Consume running in the background.
type consumer struct {
	cancel context.CancelFunc
	done   chan error
}

// consume starts Consume; the spec's cleanup stops it and expects it to
// return nil.
func (h *harness) consume(types []job.Type, concurrency int, handle ports.JobHandler) *consumer {
	ctx, cancel := context.WithCancel(h.ctx)
	c := &consumer{cancel: cancel, done: make(chan error, 1)}
	go func() {
		defer ginkgo.GinkgoRecover()
		c.done <- h.queue.Consume(ctx, types, concurrency, handle)
	}()
	ginkgo.DeferCleanup(func() {
		h.releaseGates() // a blocked handler would hold Consume forever
		c.stop()
	})
	return c
}

// stop cancels the consumer and expects Consume to return nil. Stopping a
// stopped consumer does nothing.
func (c *consumer) stop() {
	ginkgo.GinkgoHelper()
	c.cancel()
	if c.done == nil {
		return
	}
	var err error
	Eventually(c.done, wait).Should(Receive(&err), "Consume did not return after its context ended")
	Expect(err).NotTo(HaveOccurred(), "Consume returned an error when its context ended")
	c.done = nil
}

// recorder counts a handler's executions and keeps its deliveries.
type recorder struct {
	mu         sync.Mutex
	deliveries []ports.Delivery
}

func (r *recorder) record(d *ports.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, *d)
}

// count is the number of executions so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.deliveries)
}

// types lists the types of the jobs delivered so far.
func (r *recorder) types() []job.Type {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []job.Type
	for _, d := range r.deliveries {
		ts = append(ts, d.Job.Type)
	}
	return ts
}

// echo is a handler that records the delivery and answers "echo:" and the
// payload.
func (r *recorder) echo(_ context.Context, d *ports.Delivery) ([]byte, error) {
	r.record(d)
	return append([]byte("echo:"), d.Job.Payload...), nil
}

// gate blocks handlers until it is opened, and tells when one entered.
type gate struct {
	entered chan *ports.Delivery
	open    chan struct{}
	once    sync.Once
}

func (h *harness) newGate() *gate {
	g := &gate{entered: make(chan *ports.Delivery, 16), open: make(chan struct{})}
	h.gates = append(h.gates, g)
	ginkgo.DeferCleanup(g.release) // never leave a handler blocked
	return g
}

func (h *harness) releaseGates() {
	for _, g := range h.gates {
		g.release()
	}
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// wait is a handler body: it reports the delivery and blocks until the
// gate opens, whatever its context says (a worker that hangs).
func (g *gate) wait(d *ports.Delivery) {
	g.entered <- d
	<-g.open
}

// awaitEntry waits until a handler entered the gate and returns its
// delivery.
func (g *gate) awaitEntry() *ports.Delivery {
	ginkgo.GinkgoHelper()
	var d *ports.Delivery
	Eventually(g.entered, wait).Should(Receive(&d), "no handler started")
	return d
}
