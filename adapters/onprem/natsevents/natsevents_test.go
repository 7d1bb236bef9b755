package natsevents

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestPublishOnRealNATS publishes to the NATS server named by
// FORGE_TEST_NATS_URL and reads the event back from a subscription.
func TestPublishOnRealNATS(t *testing.T) {
	url := os.Getenv("FORGE_TEST_NATS_URL")
	if url == "" {
		t.Skip("set FORGE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run against a NATS server")
	}
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	defer nc.Close()
	prefix := fmt.Sprintf("test.%d.forge.events.", time.Now().UnixNano())
	sub, err := nc.SubscribeSync(prefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	p := New(nc, prefix)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	in := event.Event{Type: event.DeploymentCreated, Timestamp: at, Data: map[string]any{"environment": "dev"}}
	if err := p.Publish(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no event arrived: %v", err)
	}
	if msg.Subject != prefix+"deployment.created" || msg.Header.Get("Content-Type") != "application/json" {
		t.Errorf("subject %q, headers %v", msg.Subject, msg.Header)
	}
	var out event.Event
	if err := json.Unmarshal(msg.Data, &out); err != nil || out.Type != in.Type || !out.Timestamp.Equal(at) || out.Data["environment"] != "dev" {
		t.Errorf("event = %+v, %v", out, err)
	}
	nc.Close()
	if err := p.Publish(context.Background(), in); !fault.Is(err, fault.Unavailable) {
		t.Errorf("publishing on a closed connection = %v, want unavailable", err)
	}
}

func TestSubject(t *testing.T) {
	if got := New(nil, "").Subject(event.RunCreated); got != "forge.events.pipeline.run.created" {
		t.Errorf("subject = %q", got)
	}
}
