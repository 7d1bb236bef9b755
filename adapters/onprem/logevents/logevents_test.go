package logevents

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/event"
)

func TestPublishLogsOneLine(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.JSONFormatter{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	err := New(log).Publish(context.Background(), event.Event{Type: event.ReleaseCreated, Timestamp: at, Data: map[string]any{"release_number": 42}})
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["event_type"] != "release.created" || line["data.release_number"] != 42.0 || line["msg"] != "event" {
		t.Errorf("logged %v", line)
	}
}
