// Package jobqueuetest is the conformance suite of the JobQueue port
// (ports.JobQueue). It is in the conformance layer: it imports only
// ports/, domain/, Ginkgo and Gomega, and owns the executable form of the
// JobQueue contract, what every adapter of the port must do whatever its
// broker: round trips, handler errors as results, routing by job type,
// concurrency, deduplication of a retried dispatch, redelivery of a job
// whose worker went silent, progress that keeps a long job, results over
// 1 MB, and the ends of Consume and Dispatch.
//
// An adapter's test package runs it from a Ginkgo suite file:
//
//	func TestNatsqueue(t *testing.T) {
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "natsqueue")
//	}
//
//	var _ = jobqueuetest.Describe("natsqueue/embedded", func() (ports.JobQueue, func()) {
//		q := newQueueWithFreshStreams()
//		return q, func() { deleteStreams() }
//	})
//
// Every spec gets a new, empty queue from the factory and dispatches and
// consumes through it, so a factory must return a queue whose dispatches
// reach its own consumers, and specs never see each other's jobs. The
// suite asserts no durations: parallelism is shown with a barrier that
// every handler must reach, and timeouts are short (about a second) so the
// suite runs in seconds; it waits at most 10 s for anything that should
// happen.
package jobqueuetest
