package ebevents_test

// The tests run the publisher against an httptest server that speaks
// EventBridge's AWS JSON 1.1 protocol (X-Amz-Target AWSEvents.PutEvents,
// SigV4-signed): the protocol boundary, since AWS cannot be reached from
// here.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/aws/ebevents"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
)

type putEvents struct {
	Entries []struct {
		Source, DetailType, Detail, EventBusName string
		Time                                     float64
	}
}

// busStandIn keeps the entries it was given; answer, when set, replaces
// the success answer.
type busStandIn struct {
	mu      sync.Mutex
	entries []map[string]any
	answer  func(w http.ResponseWriter)
}

func (b *busStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/events/aws4_request") {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"%s %s"}`, r.Header.Get("X-Amz-Target"), r.Header.Get("Authorization"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in putEvents
	if err := json.Unmarshal(body, &in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if b.answer != nil {
		b.answer(w)
		return
	}
	for _, e := range in.Entries {
		b.entries = append(b.entries, map[string]any{"source": e.Source, "detail-type": e.DetailType, "detail": e.Detail, "bus": e.EventBusName, "time": e.Time})
	}
	fmt.Fprint(w, `{"FailedEntryCount":0,"Entries":[{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"}]}`)
}

func newPublisher(t *testing.T, url string) *ebevents.Publisher {
	t.Helper()
	p, err := ebevents.New(context.Background(), ebevents.Config{Bus: "forge-events", Region: "eu-west-1", Endpoint: url,
		AccessKeyID: "AKIDTEST", SecretAccessKey: "x", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEventsGoToTheBusInTheSpecsEnvelope(t *testing.T) {
	bus := &busStandIn{}
	srv := httptest.NewServer(bus)
	defer srv.Close()
	p := newPublisher(t, srv.URL)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	e := event.Event{Type: event.ReleaseCreated, Timestamp: at, Data: map[string]any{"release_id": "r1", "project": "api"}}
	if err := p.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if len(bus.entries) != 1 {
		t.Fatalf("%d entries", len(bus.entries))
	}
	got := bus.entries[0]
	if got["source"] != "catalyst-forge" || got["detail-type"] != "release.created" || got["bus"] != "forge-events" || got["time"] != float64(at.Unix()) {
		t.Errorf("entry = %v", got)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(got["detail"].(string)), &detail); err != nil {
		t.Fatal(err)
	}
	if detail["event_type"] != "release.created" || detail["data"].(map[string]any)["release_id"] != "r1" {
		t.Errorf("detail = %v", detail)
	}
}

func TestRefusalsAreMapped(t *testing.T) {
	bus := &busStandIn{}
	srv := httptest.NewServer(bus)
	defer srv.Close()
	p := newPublisher(t, srv.URL)
	e := event.Event{Type: event.RunCreated, Data: map[string]any{"run_id": "x"}}
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		kind   fault.Kind
		want   string
	}{
		{"a failed entry", func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"ThrottlingException","ErrorMessage":"Rate exceeded"}]}`)
		}, fault.Unavailable, "ThrottlingException Rate exceeded"},
		{"access denied", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"not authorized to perform: events:PutEvents"}`)
		}, fault.PermissionDenied, "the role needs events:PutEvents"},
		{"no such bus", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"Event bus forge-events does not exist."}`)
		}, fault.NotFound, "no such event bus"},
		{"EventBridge failing", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"__type":"InternalException","message":"oops"}`)
		}, fault.Unavailable, "putting event pipeline.run.created"},
	} {
		bus.answer = c.answer
		if err := p.Publish(context.Background(), e); !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s with %q", c.name, err, c.kind, c.want)
		}
	}
	big := event.Event{Type: event.RunCreated, Data: map[string]any{"blob": strings.Repeat("x", 300<<10)}}
	if err := p.Publish(context.Background(), big); !fault.Is(err, fault.Validation) {
		t.Errorf("an event over 256 KB: %v", err)
	}
}
