package ports_test

import (
	"context"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/ports"
)

func TestTraceIDs(t *testing.T) {
	id := ports.RunTraceID("0B1E8F3A-2C4D-4E5F-8A9B-0C1D2E3F4A5B")
	if id != "0b1e8f3a2c4d4e5f8a9b0c1d2e3f4a5b" {
		t.Fatalf("RunTraceID = %q", id)
	}
	for _, bad := range []string{"", "run-1", strings.Repeat("0", 32), strings.Repeat("g", 32)} {
		if got := ports.RunTraceID(bad); got != "" {
			t.Errorf("RunTraceID(%q) = %q, want none", bad, got)
		}
	}
	tp := ports.Traceparent(id)
	if got, ok := ports.ParseTraceparent(tp); !ok || got != id || !strings.HasPrefix(tp, "00-"+id+"-") || len(tp) != 55 {
		t.Errorf("Traceparent %q reads back as %q, %v", tp, got, ok)
	}
	for _, bad := range []string{"", "00-" + id, "00-" + id + "-xyz-01", "ff-" + id + "-0123456789abcdef-01", "00-" + strings.ToUpper(id) + "-0123456789abcdef-01"} {
		if got, ok := ports.ParseTraceparent(bad); ok {
			t.Errorf("ParseTraceparent(%q) = %q; want it refused", bad, got)
		}
	}
	if a, b := ports.NewTraceID(), ports.NewTraceID(); a == b || len(a) != 32 {
		t.Errorf("NewTraceID gave %q and %q", a, b)
	}
	ctx := ports.WithTraceID(context.Background(), id)
	if ports.TraceIDFrom(ctx) != id || ports.TraceIDFrom(context.Background()) != "" {
		t.Error("the context does not carry the trace ID")
	}
}
