package natsqueue_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// embedded starts a server on a fresh directory for one test.
func embedded(t *testing.T) (*natsembed.Server, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := natsembed.Start(context.Background(), natsembed.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s, dir
}

// connect opens a connection closed at the end of the test.
func connect(t *testing.T, s *natsembed.Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func newQueue(t *testing.T, nc *nats.Conn, opts ...natsqueue.Option) *natsqueue.Queue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := natsqueue.New(ctx, nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// consume runs Consume until the test ends (or stop is called) and
// expects it to return nil.
func consume(t *testing.T, q *natsqueue.Queue, types []job.Type, concurrency int, h ports.JobHandler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, types, concurrency, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Consume: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Consume did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func dispatch(t *testing.T, q *natsqueue.Queue, j job.Job) job.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := q.Dispatch(ctx, j)
	if err != nil {
		t.Fatalf("Dispatch(%s): %v", j.ID, err)
	}
	return res
}

// streamMsgs is how many messages the stream holds.
func streamMsgs(t *testing.T, nc *nats.Conn, name string) uint64 {
	t.Helper()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// counter counts a handler's executions and their attempts.
type counter struct {
	mu       sync.Mutex
	attempts []int
}

func (c *counter) add(attempt int) {
	c.mu.Lock()
	c.attempts = append(c.attempts, attempt)
	c.mu.Unlock()
}

func (c *counter) seen() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.attempts)
}

// startOn starts an embedded server on dir, for tests that stop it and
// start another on the same dir, and connects to it.
func startOn(t *testing.T, dir string) (*natsembed.Server, *nats.Conn) {
	t.Helper()
	s, err := natsembed.Start(context.Background(), natsembed.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	return s, nc
}

func TestRestartOnTheSameDirectoryKeepsQueuedJobs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	prefix := uniquePrefix()
	s, nc := startOn(t, dir)
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix))
	j := job.Job{ID: "survivor", Type: job.TypeCI, Payload: []byte("keep me"), Timeout: 10 * time.Second}

	// Queue the job with no worker, then let its dispatcher go.
	dctx, cancel := context.WithCancel(ctx)
	dispatched := make(chan error, 1)
	go func() { _, err := q.Dispatch(dctx, j); dispatched <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for streamMsgs(t, nc, prefix+"-pipeline-tasks") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job never reached its stream")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-dispatched; !errors.Is(err, context.Canceled) {
		t.Fatalf("the abandoned dispatch returned %v", err)
	}
	nc.Close()
	s.Shutdown()

	s2, _ := startOn(t, dir)
	t.Cleanup(s2.Shutdown)
	nc2 := connect(t, s2)
	if n := streamMsgs(t, nc2, prefix+"-pipeline-tasks"); n != 1 {
		t.Fatalf("after the restart the stream holds %d jobs, want 1", n)
	}
	q2 := newQueue(t, nc2, natsqueue.WithPrefix(prefix)) // updates, does not wipe
	var runs counter
	consume(t, q2, []job.Type{job.TypeCI}, 2, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return append([]byte("got: "), d.Job.Payload...), nil
	})
	// The dispatcher retries after the restart: the stream still knows
	// the job ID, so the retry waits for the queued job.
	res := dispatch(t, q2, j)
	if string(res.Payload) != "got: keep me" || res.Error != "" || res.Attempt != 1 {
		t.Errorf("result = %+v", res)
	}
	if got := runs.seen(); !slices.Equal(got, []int{1}) {
		t.Errorf("executions (attempts) = %v, want [1]", got)
	}
}

// TestAJobDoneBeforeAShutdownIsNotDeliveredAgain: a worker that stops
// right after a job, on a server stopped right after it (forge dev's
// embedded one), leaves the job acked: after a restart its stream is
// empty, not holding the job for another run.
func TestAJobDoneBeforeAShutdownIsNotDeliveredAgain(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	prefix := uniquePrefix()
	s, nc := startOn(t, dir)
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix))
	cctx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() {
		stopped <- q.Consume(cctx, []job.Type{job.TypeCI}, 2, func(context.Context, *ports.Delivery) ([]byte, error) {
			return []byte("done"), nil
		})
	}()
	if res := dispatch(t, q, job.Job{ID: "once", Type: job.TypeCI, Timeout: 10 * time.Second}); res.Error != "" {
		t.Fatalf("result %+v", res)
	}
	stop()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()

	s2, _ := startOn(t, dir)
	t.Cleanup(s2.Shutdown)
	if n := streamMsgs(t, connect(t, s2), prefix+"-pipeline-tasks"); n != 0 {
		t.Fatalf("after the restart the stream holds %d jobs, want the done job gone", n)
	}
}

func TestLargeResultsGoThroughTheObjectStore(t *testing.T) {
	s, _ := embedded(t)
	objects := newMemObjects()
	prefix := uniquePrefix()
	worker := newQueue(t, connect(t, s), natsqueue.WithPrefix(prefix), natsqueue.WithObjectStore(objects))
	dispatcher := newQueue(t, connect(t, s), natsqueue.WithPrefix(prefix), natsqueue.WithObjectStore(objects))
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	consume(t, worker, []job.Type{job.TypeArtifact}, 1, func(context.Context, *ports.Delivery) ([]byte, error) {
		return big, nil
	})
	j := job.Job{ID: "big-result", Type: job.TypeArtifact, Timeout: 10 * time.Second}
	res := dispatch(t, dispatcher, j)
	if res.Error != "" || !bytes.Equal(res.Payload, big) {
		t.Fatalf("result: error %q, %d bytes, want %d", res.Error, len(res.Payload), len(big))
	}
	info, err := objects.Stat(context.Background(), natsqueue.ResultKey(j.ID))
	if err != nil || info.Size != int64(len(big)) || natsqueue.ResultKey(j.ID) != "jobs/big-result/result" {
		t.Errorf("stored object %q: %+v, %v", natsqueue.ResultKey(j.ID), info, err)
	}
}

func TestLargeResultsWithoutAnObjectStoreFailWithAReason(t *testing.T) {
	s, _ := embedded(t)
	q := newQueue(t, connect(t, s), natsqueue.WithPrefix(uniquePrefix()))
	consume(t, q, []job.Type{job.TypeArtifact}, 1, func(context.Context, *ports.Delivery) ([]byte, error) {
		return make([]byte, 2<<20), nil
	})
	res := dispatch(t, q, job.Job{ID: "too-big", Type: job.TypeArtifact, Timeout: 10 * time.Second})
	if !strings.Contains(res.Error, "no object store") || len(res.Payload) != 0 {
		t.Errorf("result = error %q, %d bytes", res.Error, len(res.Payload))
	}
}

func TestAJobWhoseEveryDeliveryIsLostIsAbandoned(t *testing.T) {
	s, _ := embedded(t)
	nc := connect(t, s)
	prefix := uniquePrefix()
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix))
	var runs counter
	consume(t, q, []job.Type{job.TypeCI}, 3, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		<-ctx.Done() // silent until the lease is lost
		return nil, ctx.Err()
	})
	res := dispatch(t, q, job.Job{ID: "doomed", Type: job.TypeCI, Timeout: 300 * time.Millisecond})
	if res.Error != "job abandoned after 3 deliveries" || res.Attempt != 3 {
		t.Errorf("result = %+v", res)
	}
	if got := runs.seen(); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("attempts = %v, want [1 2 3]", got)
	}
	// The job leaves its stream right after the reply.
	deadline := time.Now().Add(5 * time.Second)
	for streamMsgs(t, nc, prefix+"-pipeline-tasks") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned job is still queued")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The last worker of a job dies (its connection drops mid-job) on the
// third delivery: no worker can reply, so the next worker of the type
// abandons the job when the server's max-deliveries advisory comes (the
// server sends it once a worker asks for jobs again).
func TestAJobWhoseLastWorkerDiedIsAbandonedByTheNextWorker(t *testing.T) {
	s, _ := embedded(t)
	opts := []natsqueue.Option{natsqueue.WithPrefix(uniquePrefix()), natsqueue.WithAckWait(job.TypeCI, 300*time.Millisecond)}
	release := make(chan struct{})
	defer close(release)

	dispatcher := newQueue(t, connect(t, s), opts...)
	results := make(chan job.Result, 1)
	go func() {
		results <- dispatch(t, dispatcher, job.Job{ID: "orphan", Type: job.TypeCI, Timeout: 10 * time.Second})
	}()
	for attempt := 1; attempt <= natsqueue.MaxDeliver; attempt++ {
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		w := newQueue(t, nc, opts...)
		entered := make(chan int, 1)
		go func() {
			_ = w.Consume(context.Background(), []job.Type{job.TypeCI}, 1, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
				entered <- d.Attempt
				<-release
				return nil, nil
			})
		}()
		select {
		case got := <-entered:
			if got != attempt {
				t.Fatalf("delivery %d came as attempt %d", attempt, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d never came", attempt)
		}
		nc.Close() // the worker dies
	}

	next := newQueue(t, connect(t, s), opts...)
	var runs counter
	consume(t, next, []job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return nil, nil
	})
	select {
	case res := <-results:
		if res.Error != "job abandoned after 3 deliveries" || res.Attempt != 3 {
			t.Errorf("result = %+v", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no result for the orphaned job")
	}
	if got := runs.seen(); len(got) != 0 {
		t.Errorf("the next worker ran the orphan: attempts %v", got)
	}
}

func TestARetryAfterTheJobFinishedGetsTheStoredResult(t *testing.T) {
	s, _ := embedded(t)
	q := newQueue(t, connect(t, s), natsqueue.WithPrefix(uniquePrefix()))
	var runs counter
	stop := consume(t, q, []job.Type{job.TypeRelease}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return []byte("released"), nil
	})
	j := job.Job{ID: "once-only", Type: job.TypeRelease, Timeout: 5 * time.Second}
	first := dispatch(t, q, j)
	stop()
	again := dispatch(t, q, j) // no worker left: only the stored result can answer
	if string(again.Payload) != "released" || again.Attempt != first.Attempt || again.Error != "" {
		t.Errorf("retry result = %+v, first = %+v", again, first)
	}
	if got := runs.seen(); len(got) != 1 {
		t.Errorf("executions = %v, want one", got)
	}
}

func TestJobIDsThatAreNotSubjectTokens(t *testing.T) {
	s, _ := embedded(t)
	objects := newMemObjects()
	q := newQueue(t, connect(t, s), natsqueue.WithPrefix(uniquePrefix()), natsqueue.WithObjectStore(objects))
	consume(t, q, []job.Type{job.TypeDiscovery}, 4, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		if d.Job.ID == "big ../result" {
			return make([]byte, 1<<20+1), nil
		}
		return []byte(d.Job.ID), nil
	})
	for _, id := range []string{"run.42/build api", "ünïcode", "a*b>c", "~tilde", "big ../result"} {
		res := dispatch(t, q, job.Job{ID: id, Type: job.TypeDiscovery, Timeout: 5 * time.Second})
		if res.JobID != id || res.Error != "" {
			t.Errorf("job %q: result %+v", id, res)
		}
		if id != "big ../result" && string(res.Payload) != id {
			t.Errorf("job %q: payload %q", id, res.Payload)
		}
		subject, _ := q.Subject(job.TypeDiscovery, id)
		if strings.Count(subject, ".") != strings.Count(q.ResultSubject(""), ".") {
			t.Errorf("job %q: subject %q has extra tokens", id, subject)
		}
	}
	if key := natsqueue.ResultKey("big ../result"); strings.Contains(key, "..") || strings.Contains(key, " ") {
		t.Errorf("result key %q is not a clean object key", key)
	}
}

func TestNewCreatesTheStreamsOfSpec03(t *testing.T) {
	s, _ := embedded(t)
	nc := connect(t, s)
	prefix := uniquePrefix()
	newQueue(t, nc,
		natsqueue.WithPrefix(prefix),
		natsqueue.WithStreamLimits("pipeline-tasks", natsqueue.StreamLimits{MaxAge: 3 * time.Hour, MaxMsgs: 7000}),
	)
	js, _ := jetstream.New(nc)
	want := map[string]struct {
		subjects []string
		maxAge   time.Duration
		maxMsgs  int64
	}{
		"pipeline-discovery": {[]string{prefix + ".pipeline.discovery.*"}, time.Hour, 1000},
		"pipeline-tasks":     {[]string{prefix + ".pipeline.tasks.*"}, 3 * time.Hour, 7000},
		"pipeline-artifacts": {[]string{prefix + ".pipeline.artifacts.*"}, time.Hour, 1000},
		"pipeline-releases":  {[]string{prefix + ".pipeline.releases.*", prefix + ".pipeline.releases.deployment.*"}, time.Hour, 1000},
	}
	for name, w := range want {
		st, err := js.Stream(context.Background(), prefix+"-"+name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		c := st.CachedInfo().Config
		if !slices.Equal(c.Subjects, w.subjects) || c.Retention != jetstream.WorkQueuePolicy || c.MaxAge != w.maxAge ||
			c.MaxMsgs != w.maxMsgs || c.Storage != jetstream.FileStorage || c.Discard != jetstream.DiscardNew {
			t.Errorf("stream %s: %+v", name, c)
		}
	}
	if _, err := js.Stream(context.Background(), prefix+"-pipeline-results"); err != nil {
		t.Errorf("result stream: %v", err)
	}

	// New again with other options updates the streams in place.
	newQueue(t, nc, natsqueue.WithPrefix(prefix), natsqueue.WithStreamLimits("pipeline-tasks", natsqueue.StreamLimits{MaxAge: time.Hour, MaxMsgs: 10}))
	st, _ := js.Stream(context.Background(), prefix+"-pipeline-tasks")
	if c := st.CachedInfo().Config; c.MaxMsgs != 10 {
		t.Errorf("after the update: max msgs %d", c.MaxMsgs)
	}
}

func TestConsumeCreatesDurableConsumersPerType(t *testing.T) {
	s, _ := embedded(t)
	nc := connect(t, s)
	prefix := uniquePrefix()
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix), natsqueue.WithAckWait(job.TypeDeployment, 90*time.Second))
	var runs counter
	consume(t, q, []job.Type{job.TypeRelease, job.TypeDeployment}, 2, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return nil, nil
	})
	dispatch(t, q, job.Job{ID: "d1", Type: job.TypeDeployment, Timeout: 5 * time.Second})
	js, _ := jetstream.New(nc)
	for _, tc := range []struct {
		name, filter string
		ackWait      time.Duration
	}{
		{"release-consumer", prefix + ".pipeline.releases.*", natsqueue.DefaultAckWait},
		{"deployment-consumer", prefix + ".pipeline.releases.deployment.*", 90 * time.Second},
	} {
		c, err := js.Consumer(context.Background(), prefix+"-pipeline-releases", tc.name)
		if err != nil {
			t.Fatalf("consumer %s: %v", tc.name, err)
		}
		cfg := c.CachedInfo().Config
		if cfg.Durable != tc.name || cfg.FilterSubject != tc.filter || cfg.AckPolicy != jetstream.AckExplicitPolicy ||
			cfg.MaxDeliver != 3 || cfg.AckWait != tc.ackWait {
			t.Errorf("consumer %s: %+v", tc.name, cfg)
		}
	}
}

func TestBadOptionsAreValidationErrors(t *testing.T) {
	s, _ := embedded(t)
	nc := connect(t, s)
	for name, opt := range map[string]natsqueue.Option{
		"prefix with a dot":  natsqueue.WithPrefix("a.b"),
		"no replicas":        natsqueue.WithReplicas(0),
		"unknown stream":     natsqueue.WithStreamLimits("pipeline-nope", natsqueue.StreamLimits{MaxAge: time.Hour, MaxMsgs: 1}),
		"unknown type":       natsqueue.WithAckWait("compile", time.Minute),
		"tiny ack wait":      natsqueue.WithAckWait(job.TypeCI, time.Millisecond),
		"unknown storage":    natsqueue.WithStorage(natsqueue.Storage(9)),
		"tiny result window": natsqueue.WithResultTTL(time.Millisecond),
		"no shutdown grace":  natsqueue.WithShutdownGrace(0),
		"results kept shorter than the duplicate window": natsqueue.WithResultTTL(time.Minute),
	} {
		if _, err := natsqueue.New(context.Background(), nc, opt); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: err = %v, want Validation", name, err)
		}
	}
	if _, err := natsqueue.New(context.Background(), nil); !fault.Is(err, fault.Validation) {
		t.Errorf("no connection: err = %v, want Validation", err)
	}
}

func TestAClosedConnectionIsUnavailable(t *testing.T) {
	s, _ := embedded(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, nc, natsqueue.WithPrefix(uniquePrefix()))
	consumed := make(chan error, 1)
	go func() {
		consumed <- q.Consume(context.Background(), []job.Type{job.TypeCI}, 1, func(context.Context, *ports.Delivery) ([]byte, error) { return nil, nil })
	}()
	time.Sleep(100 * time.Millisecond) // let Consume set up its consumer
	nc.Close()

	select {
	case err := <-consumed:
		if !fault.Is(err, fault.Unavailable) {
			t.Errorf("Consume on a closed connection = %v, want Unavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Consume did not notice its connection closed")
	}
	if _, err := q.Dispatch(context.Background(), job.Job{ID: "x", Type: job.TypeCI, Timeout: time.Second}); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Dispatch on a closed connection = %v, want Unavailable", err)
	}
	if _, err := natsqueue.New(context.Background(), nc); !fault.Is(err, fault.Unavailable) {
		t.Errorf("New on a closed connection = %v, want Unavailable", err)
	}
}

// TestShutdownGraceHandsRunningJobsBack: a worker stopping with a job in
// hand waits the grace, cancels the handler with ErrShuttingDown and gives
// the job back without a result; the next worker runs it and the waiting
// dispatcher gets that result.
func TestShutdownGraceHandsRunningJobsBack(t *testing.T) {
	s, _ := embedded(t)
	prefix := uniquePrefix()
	q := newQueue(t, connect(t, s), natsqueue.WithPrefix(prefix), natsqueue.WithShutdownGrace(200*time.Millisecond))
	started := make(chan struct{})
	causes := make(chan error, 1)
	stop := consume(t, q, []job.Type{job.TypeCI}, 1, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
		close(started)
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	})
	results := make(chan job.Result, 1)
	go func() {
		results <- dispatch(t, q, job.Job{ID: "handed-back", Type: job.TypeCI, Timeout: 5 * time.Second})
	}()
	<-started
	begin := time.Now()
	stop()
	if took := time.Since(begin); took < 200*time.Millisecond {
		t.Errorf("Consume returned after %s, before the grace", took)
	}
	if cause := <-causes; !errors.Is(cause, natsqueue.ErrShuttingDown) {
		t.Errorf("handler's cause = %v", cause)
	}
	select {
	case res := <-results:
		t.Fatalf("the dispatcher got a result from the stopped worker: %+v", res)
	case <-time.After(300 * time.Millisecond):
	}
	var runs counter
	consume(t, newQueue(t, connect(t, s), natsqueue.WithPrefix(prefix)), []job.Type{job.TypeCI}, 1, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return []byte("done"), nil
	})
	select {
	case res := <-results:
		if string(res.Payload) != "done" || res.Error != "" || res.Attempt != 2 {
			t.Errorf("result = %+v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handed-back job was not run again")
	}
	if got := runs.seen(); len(got) != 1 || got[0] != 2 {
		t.Errorf("attempts of the next worker = %v, want [2]", got)
	}
}

// TestAJobHandedBackAtShutdownRunsAfterARestart: a worker stops with a
// job in hand, the server stops too, and both start again on the same
// directory; the job runs again (once the AckWait has passed: the server
// does not keep a hand-back across its restart) and a retried dispatch
// gets its result.
func TestAJobHandedBackAtShutdownRunsAfterARestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	prefix := uniquePrefix()
	s, err := natsembed.Start(ctx, natsembed.Config{Dir: dir, NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix), natsqueue.WithShutdownGrace(100*time.Millisecond), natsqueue.WithAckWait(job.TypeCI, time.Second))
	started := make(chan struct{})
	cctx, stopConsume := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- q.Consume(cctx, []job.Type{job.TypeDiscovery, job.TypeCI}, 4, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
	}()
	j := job.Job{ID: "interrupted", Type: job.TypeCI, Timeout: 10 * time.Second}
	dctx, stopDispatch := context.WithCancel(ctx)
	dispatched := make(chan error, 1)
	go func() { _, err := q.Dispatch(dctx, j); dispatched <- err }()
	<-started
	stopConsume()
	if err := <-consumed; err != nil {
		t.Fatal(err)
	}
	stopDispatch()
	<-dispatched
	nc.Close()
	s.Shutdown()

	s2, err := natsembed.Start(ctx, natsembed.Config{Dir: dir, NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Shutdown)
	// The server keeps the delivery as unacknowledged across its restart:
	// the job comes again once its AckWait has passed.
	q2 := newQueue(t, connect(t, s2), natsqueue.WithPrefix(prefix), natsqueue.WithAckWait(job.TypeCI, time.Second))
	var runs counter
	consume(t, q2, []job.Type{job.TypeDiscovery, job.TypeCI}, 4, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		runs.add(d.Attempt)
		return []byte("second time"), nil
	})
	res := dispatch(t, q2, j)
	if string(res.Payload) != "second time" || res.Error != "" {
		t.Errorf("result = %+v", res)
	}
	if got := runs.seen(); len(got) != 1 {
		t.Errorf("executions (attempts) = %v, want one", got)
	}
}

// TestDepthCountsJobsUntilDone: a stream's depth counts a job from its
// dispatch until a worker has done it, and no other stream's.
func TestDepthCountsJobsUntilDone(t *testing.T) {
	s, _ := embedded(t)
	nc := connect(t, s)
	prefix := uniquePrefix()
	q := newQueue(t, nc, natsqueue.WithPrefix(prefix))
	ctx := context.Background()
	depth := func() map[string]uint64 {
		t.Helper()
		d, err := q.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := depth(); len(d) != 4 || d[prefix+"-pipeline-tasks"] != 0 {
		t.Fatalf("depth of new streams = %v; want 0 in each of the 4 job streams", d)
	}
	dispatched := make(chan error, 2)
	for _, id := range []string{"one", "two"} {
		go func() {
			_, err := q.Dispatch(ctx, job.Job{ID: id, Type: job.TypeCI, Timeout: 10 * time.Second})
			dispatched <- err
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); depth()[prefix+"-pipeline-tasks"] != 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("depth = %v; want 2 jobs in pipeline-tasks", depth())
		}
	}
	if d := depth(); d[prefix+"-pipeline-discovery"] != 0 || d[prefix+"-pipeline-releases"] != 0 {
		t.Errorf("depth = %v; the other streams hold nothing", d)
	}
	consume(t, q, []job.Type{job.TypeCI}, 2, func(context.Context, *ports.Delivery) ([]byte, error) { return []byte("done"), nil })
	for range 2 {
		if err := <-dispatched; err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); depth()[prefix+"-pipeline-tasks"] != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("depth after both jobs were done = %v; want 0", depth())
		}
	}
}
