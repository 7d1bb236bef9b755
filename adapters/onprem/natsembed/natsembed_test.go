package natsembed_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/domain/fault"
)

func start(t *testing.T, cfg natsembed.Config) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// roundTrip checks a connection carries a request and its reply.
func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.Subscribe("ping", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	m, err := nc.Request("ping", nil, 5*time.Second)
	if err != nil || string(m.Data) != "pong" {
		t.Fatalf("request = %v, %v", m, err)
	}
}

func TestStartListensOnAFreeLoopbackPort(t *testing.T) {
	s := start(t, natsembed.Config{Dir: t.TempDir()})
	u, err := url.Parse(s.URL())
	if err != nil || u.Scheme != "nats" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "4222" {
		t.Fatalf("URL = %q (%v): want nats://127.0.0.1:<free port>", s.URL(), err)
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	roundTrip(t, nc)
	if nc.ConnectedUrl() != s.URL() {
		t.Errorf("connected to %q, want the listener %q", nc.ConnectedUrl(), s.URL())
	}
	// Other processes reach it by its URL too.
	other, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
}

func TestWithoutAListenerOnlyInProcessConnectionsReachIt(t *testing.T) {
	s := start(t, natsembed.Config{Dir: t.TempDir(), NoListener: true})
	if s.URL() != "" {
		t.Errorf("URL = %q, want none", s.URL())
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	roundTrip(t, nc)
	js, _ := jetstream.New(nc)
	if _, err := js.AccountInfo(context.Background()); err != nil {
		t.Errorf("JetStream over an in-process connection: %v", err)
	}
}

func TestARestartOnTheSameDirectoryKeepsStreamsAndMessages(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := natsembed.Start(ctx, natsembed.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "kept", Subjects: []string{"kept.*"}, Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := js.Publish(ctx, "kept."+strconv.Itoa(i), []byte("job")); err != nil {
			t.Fatal(err)
		}
	}
	// A consumer that took one job, and a pull still waiting on the server
	// when it shuts down (JetStream is stopped first).
	cons, err := js.CreateOrUpdateConsumer(ctx, "kept", jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cons.Fetch(5, jetstream.FetchMaxWait(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()
	s.Shutdown() // a second call does nothing

	s2 := start(t, natsembed.Config{Dir: dir, NoListener: true})
	nc2, err := s2.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "kept")
	if err != nil {
		t.Fatalf("the stream did not survive the restart: %v", err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 2 {
		t.Fatalf("after the restart: %+v, %v; want the 2 jobs not acked", info, err)
	}
	if c, err := st.Consumer(ctx, "worker"); err != nil {
		t.Fatalf("the consumer did not survive the restart: %v", err)
	} else if info, err := c.Info(ctx); err != nil || info.AckFloor.Stream != 1 {
		t.Fatalf("the consumer after the restart: %+v, %v; want its ack of the first job", info, err)
	}
}

func TestShutdownStopsTheServer(t *testing.T) {
	s, err := natsembed.Start(context.Background(), natsembed.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.URL()
	s.Shutdown()
	if _, err := nats.Connect(addr, nats.Timeout(time.Second)); err == nil {
		t.Error("connected after Shutdown")
	}
	if _, err := s.Connect(nats.Timeout(time.Second)); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Connect after Shutdown = %v, want Unavailable", err)
	}
}

func TestATakenPortIsUnavailable(t *testing.T) {
	first := start(t, natsembed.Config{Dir: t.TempDir()})
	u, _ := url.Parse(first.URL())
	port, _ := strconv.Atoi(u.Port())
	_, err := natsembed.Start(context.Background(), natsembed.Config{Dir: t.TempDir(), Port: port})
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("second server on port %d: %v, want Unavailable", port, err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) && !strings.Contains(err.Error(), "ready") {
		t.Errorf("error %q says nothing about the port", err)
	}
}

func TestBadConfigsAreValidationErrors(t *testing.T) {
	for name, cfg := range map[string]natsembed.Config{
		"no directory": {},
		"bad port":     {Dir: t.TempDir(), Port: 70000},
	} {
		if _, err := natsembed.Start(context.Background(), cfg); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: %v, want Validation", name, err)
		}
	}
}
