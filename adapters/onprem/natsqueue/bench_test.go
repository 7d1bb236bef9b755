package natsqueue_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// benchConcurrency is the worker's concurrency in the job benchmarks:
// above the 16 dispatchers, so a pull request is always waiting for the
// next job.
const benchConcurrency = 64

// BenchmarkRoundTrip measures one job's trip from Dispatch to result
// against the peer the design is measured by: a bare core NATS
// request-reply on the same server, with a responder that answers at
// once. Sub-benchmarks run on the embedded server (file storage, over its
// loopback listener) and, when FORGE_TEST_NATS_URL is set, on that
// server too. Each reports p50 and p99 latency and operations a second.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := natsembed.Start(context.Background(), natsembed.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown()
	b.Run("embedded", func(b *testing.B) { benchServer(b, s.Connect) })
	// The local profile's own set-up: no listener, in-process connections.
	inproc, err := natsembed.Start(context.Background(), natsembed.Config{Dir: b.TempDir(), NoListener: true})
	if err != nil {
		b.Fatal(err)
	}
	defer inproc.Shutdown()
	b.Run("embedded-in-process", func(b *testing.B) { benchServer(b, inproc.Connect) })
	if url := os.Getenv(natsURLEnv); url != "" {
		b.Run("nats-server", func(b *testing.B) {
			benchServer(b, func(opts ...nats.Option) (*nats.Conn, error) { return nats.Connect(url, opts...) })
		})
	}
}

func benchServer(b *testing.B, connect func(...nats.Option) (*nats.Conn, error)) {
	nc, err := connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	drop, err := anchorStream(nc)
	if err != nil {
		b.Fatal(err)
	}
	defer drop()
	b.Run("bare-request-reply", func(b *testing.B) {
		requester, responder := benchConns(b, connect)
		subject := "bench." + uniquePrefix()
		if _, err := responder.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
			b.Fatal(err)
		}
		if err := responder.Flush(); err != nil {
			b.Fatal(err)
		}
		payload := []byte(`{"id":"bench","type":"ci","payload":"aGVsbG8=","timeout":10000000000}`)
		measure(b, 1, "requests/s", func(int) error {
			_, err := requester.Request(subject, payload, 10*time.Second)
			return err
		})
	})
	b.Run("jetstream-floor", func(b *testing.B) { benchFloor(b, connect) })
	b.Run("job-round-trip", func(b *testing.B) { benchJobs(b, connect, 1) })
	b.Run("job-round-trip-16", func(b *testing.B) { benchJobs(b, connect, 16) })
}

// benchFloor measures the floor of the design with the client library
// alone: publish to a file-backed work-queue stream (waiting for its
// acknowledgement), a pull consumer that takes the message and replies to
// the inbox named in its header, then acks it. No JSON, no stored result,
// no lease: what any JetStream job queue pays.
func benchFloor(b *testing.B, connect func(...nats.Option) (*nats.Conn, error)) {
	dispatcherConn, workerConn := benchConns(b, connect)
	ctx := context.Background()
	name := uniquePrefix() + "-floor"
	djs, _ := jetstream.New(dispatcherConn)
	wjs, _ := jetstream.New(workerConn)
	stream, err := djs.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"},
		Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = djs.DeleteStream(ctx, name) })
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "floor", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		b.Fatal(err)
	}
	cons, err := wjs.Consumer(ctx, name, "floor")
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = workerConn.Publish(m.Headers().Get("Reply-To"), []byte("ok"))
		_ = m.Ack()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)
	inbox := nats.NewInbox()
	replies, err := dispatcherConn.SubscribeSync(inbox)
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	measure(b, 1, "jobs/s", func(int) error {
		msg := nats.NewMsg(fmt.Sprintf("%s.%d", name, seq.Add(1)))
		msg.Data = []byte("hello")
		msg.Header.Set("Reply-To", inbox)
		if _, err := djs.PublishMsg(ctx, msg); err != nil {
			return err
		}
		_, err := replies.NextMsg(10 * time.Second)
		return err
	})
}

// benchJobs runs b.N jobs from dispatchers concurrent dispatchers through
// a worker with a no-op handler; the dispatchers and the worker have a
// connection each, as they would in separate processes.
func benchJobs(b *testing.B, connect func(...nats.Option) (*nats.Conn, error), dispatchers int) {
	dispatcherConn, workerConn := benchConns(b, connect)
	ctx := context.Background()
	prefix := uniquePrefix()
	dq, err := natsqueue.New(ctx, dispatcherConn, natsqueue.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := deleteStreams(workerConn, dq.StreamNames()); err != nil {
			b.Error(err)
		}
	})
	wq, err := natsqueue.New(ctx, workerConn, natsqueue.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- wq.Consume(cctx, []job.Type{job.TypeCI}, benchConcurrency, func(context.Context, *ports.Delivery) ([]byte, error) {
			return []byte("ok"), nil
		})
	}()
	defer func() {
		stop()
		if err := <-consumed; err != nil {
			b.Error(err)
		}
	}()
	run := uniquePrefix()
	var seq atomic.Int64
	dispatch := func(int) error {
		j := job.Job{ID: fmt.Sprintf("%s-%d", run, seq.Add(1)), Type: job.TypeCI, Payload: []byte("hello"), Timeout: 10 * time.Second}
		res, err := dq.Dispatch(ctx, j)
		if err == nil && res.Error != "" {
			err = fmt.Errorf("job %s: %s", j.ID, res.Error)
		}
		return err
	}
	// One job first, so the consumer exists before the clock starts.
	if err := dispatch(0); err != nil {
		b.Fatal(err)
	}
	measure(b, dispatchers, "jobs/s", dispatch)
}

// benchConns opens two connections, closed when b ends.
func benchConns(b *testing.B, connect func(...nats.Option) (*nats.Conn, error)) (*nats.Conn, *nats.Conn) {
	var conns [2]*nats.Conn
	for i := range conns {
		nc, err := connect()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		conns[i] = nc
	}
	return conns[0], conns[1]
}

// measure runs op b.N times from workers goroutines and reports the p50
// and p99 latency of one op and the ops a second, as unit.
func measure(b *testing.B, workers int, unit string, op func(worker int) error) {
	lat := make([][]time.Duration, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				if err := op(w); err != nil {
					errs <- err
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), unit)
}
