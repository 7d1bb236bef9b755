package logstatus

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

func TestReportLogsOneLine(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.JSONFormatter{})
	run := &pipeline.Run{ID: "r1", Repository: "acme/mono", CommitSHA: "abc", Status: pipeline.StatusRunning}
	if err := New(log).Report(context.Background(), run, ports.StatusPhase, "Running phase 2 of 3"); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	if line["msg"] != "Running phase 2 of 3" || line["point"] != "phase" || line["run_id"] != "r1" || line["run_status"] != "running" {
		t.Errorf("logged %v", line)
	}
}
