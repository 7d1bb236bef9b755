package pipeline_test

import (
	"testing"

	"github.com/catalyst-forge/forge/domain/pipeline"
)

func TestReportKey(t *testing.T) {
	secret := []byte("platform secret")
	k := pipeline.ReportKey(secret, "run-1")
	if len(k) != 64 || k != pipeline.ReportKey(secret, "run-1") {
		t.Fatalf("ReportKey = %q", k)
	}
	for _, c := range []struct {
		secret []byte
		run    string
		key    string
		want   bool
	}{
		{secret, "run-1", k, true},
		{secret, "run-2", k, false},
		{[]byte("other"), "run-1", k, false},
		{secret, "run-1", "", false},
		{secret, "run-1", k[:63], false},
	} {
		if got := pipeline.ValidReportKey(c.secret, c.run, c.key); got != c.want {
			t.Errorf("ValidReportKey(%q, %q, %.8s) = %v", c.secret, c.run, c.key, got)
		}
	}
}
