package ports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// A trace ID ties together the log lines one piece of work leaves in
// several processes: the API's request lines, the dispatcher's, and the
// worker's job lines. It is a W3C Trace Context trace-id (32 lower-case
// hex digits) and travels in a "traceparent" header over HTTP, NATS
// requests and queued jobs (TraceparentHeader), so that tracing systems
// that speak Trace Context can join in.

// TraceparentHeader is the W3C Trace Context header carrying a trace ID.
const TraceparentHeader = "traceparent"

type traceContext struct{}

// WithTraceID returns ctx carrying the trace ID id ("" leaves ctx as it is).
func WithTraceID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, traceContext{}, id)
}

// TraceIDFrom returns the trace ID ctx carries, "" when none.
func TraceIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(traceContext{}).(string)
	return id
}

// NewTraceID returns a random trace ID.
func NewTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RunTraceID is the trace ID of a pipeline run's work: its ID's 32 hex
// digits when the ID is a UUID, so that every process derives the same
// one; "" for an ID that is not.
func RunTraceID(runID string) string {
	id := strings.ToLower(strings.ReplaceAll(runID, "-", ""))
	if !validTraceID(id) {
		return ""
	}
	return id
}

// JobTraceID is the trace a queued job carries: the caller's, or else its
// run's (JobQueue implementations put it on the job).
func JobTraceID(ctx context.Context, runID string) string {
	if trace := TraceIDFrom(ctx); trace != "" {
		return trace
	}
	return RunTraceID(runID)
}

// Traceparent formats a traceparent header value for a trace ID, with a
// random parent span; "" for an invalid ID.
func Traceparent(id string) string {
	if !validTraceID(id) {
		return ""
	}
	var span [8]byte
	_, _ = rand.Read(span[:])
	return "00-" + id + "-" + hex.EncodeToString(span[:]) + "-01"
}

// ParseTraceparent reads the trace ID of a traceparent header value; ok
// is false for a value that is not one.
func ParseTraceparent(v string) (id string, ok bool) {
	parts := strings.Split(strings.TrimSpace(v), "-")
	if len(parts) < 4 || len(parts[0]) != 2 || len(parts[2]) != 16 || len(parts[3]) != 2 || parts[0] == "ff" {
		return "", false
	}
	if _, err := hex.DecodeString(parts[2]); err != nil || !validTraceID(parts[1]) {
		return "", false
	}
	return parts[1], true
}

// validTraceID reports whether id is 32 lower-case hex digits, not all
// zero (W3C's invalid ID).
func validTraceID(id string) bool {
	if len(id) != 32 || id == strings.Repeat("0", 32) {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
