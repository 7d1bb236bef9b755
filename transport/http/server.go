package httptransport

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// Services are the use cases the API exposes, and what only HTTP serves.
type Services struct {
	endpoints.Services
	// Ready reports whether the server can serve (database reachable,
	// schema current); /readyz answers 503 with its error otherwise.
	Ready func(ctx context.Context) error
	// Objects, when set, serves presigned object links under /v1/objects/
	// (the filesystem object store's signed URLs). The signature is the
	// credential, so these requests carry no bearer token.
	Objects http.Handler
	// Metrics, when set, serves GET /metrics (the Prometheus format)
	// without a token; keep it off the public ingress.
	Metrics http.Handler
	// Observe, when set, is told of every request: its route (the
	// pattern that took it, "unmatched" when none did), its status and
	// its duration.
	Observe func(route, code string, took time.Duration)
}

// statusOfOutcome is the HTTP status of each outcome of a successful call.
var statusOfOutcome = map[endpoints.Outcome]int{
	endpoints.OK: http.StatusOK, endpoints.Created: http.StatusCreated,
	endpoints.Accepted: http.StatusAccepted, endpoints.NoContent: http.StatusNoContent,
}

func encodeResponse(_ context.Context, w http.ResponseWriter, v any) error {
	resp := v.(endpoints.Reply)
	status := statusOfOutcome[resp.Outcome]
	if resp.Outcome == endpoints.NoContent {
		w.WriteHeader(status)
		return nil
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(resp.Value)
}

// reportKey puts the run's report key a worker sent with a status into
// the context, where the endpoints read it.
func reportKey(ctx context.Context, r *http.Request) context.Context {
	if key := r.Header.Get(endpoints.ReportKeyHeader); key != "" {
		return ports.WithReportKey(ctx, key)
	}
	return ctx
}

// NewServer returns the API's handler: every /v1 route behind bearer-token
// authentication, plus unauthenticated /healthz and /readyz.
func NewServer(s Services, verifier ports.TokenVerifier, log logrus.FieldLogger) http.Handler {
	if log == nil {
		log = logrus.New()
	}
	api := http.NewServeMux()
	opts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(func(ctx context.Context, err error, w http.ResponseWriter) {
		logError(ctx, log, err)
		encodeError(ctx, err, w)
	}), kithttp.ServerBefore(reportKey)}
	routes(endpoints.New(s.Services), func(pattern string, ep endpoints.Endpoint, dec kithttp.DecodeRequestFunc) {
		api.Handle(pattern, kithttp.NewServer(ep.Serve, dec, encodeResponse, opts...))
	})
	api.Handle("GET /v1/steps/{id}/logs", stepLogs(s.Runs))

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			if err := s.Ready(r.Context()); err != nil {
				logError(r.Context(), log, err)
				encodeError(r.Context(), err, w)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	})
	v1 := authenticate(verifier, routeOrError(api, queryParams))
	root.Handle("/v1/", v1)
	// Without "/v1" itself the mux would answer it with a redirect to "/v1/".
	root.Handle("/v1", v1)
	if s.Objects != nil {
		root.Handle("GET /v1/objects/", s.Objects)
		root.Handle("HEAD /v1/objects/", s.Objects)
	}
	if s.Metrics != nil {
		root.Handle("GET /metrics", s.Metrics)
	}
	observe := s.Observe
	if observe == nil {
		observe = func(string, string, time.Duration) {}
	}
	routeOf := func(r *http.Request) string {
		if _, p := api.Handler(r); p != "" {
			return p
		}
		if _, p := root.Handler(r); p != "" && p != "/v1/" && p != "/v1" {
			return p
		}
		return "unmatched"
	}
	return logRequests(log, func(r *http.Request, status int, took time.Duration) {
		observe(routeOf(r), strconv.Itoa(status), took)
	}, canonicalPaths(routeOrError(root, nil)))
}

// canonicalPaths refuses, with the API's error body, a path that is not
// canonical: one with an empty, "." or ".." segment (%-escaped or not).
// The mux would answer those with a redirect to the cleaned path, which is
// not the API's error format, and serving the cleaned path instead would
// let "/v1/releases/acme/mono/api/.." name the list of releases. No API
// route has such a segment, so the answer is 404 not_found.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bad, ok := nonCanonicalSegment(r.URL.EscapedPath()); ok {
			encodeError(r.Context(), &fault.Error{Kind: fault.NotFound, Details: map[string]any{"path": r.URL.EscapedPath()},
				Message: "path " + strconv.Quote(r.URL.EscapedPath()) + " is not canonical: it has a " + strconv.Quote(bad) +
					" segment; no API resource is named with empty, '.' or '..' segments"}, w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// nonCanonicalSegment returns the first segment of an escaped path that
// makes it not canonical; a path must start with "/", and only its last
// segment may be empty (a trailing slash).
func nonCanonicalSegment(escaped string) (string, bool) {
	if !strings.HasPrefix(escaped, "/") {
		return escaped, true
	}
	segs := strings.Split(escaped[1:], "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		if seg == "." || seg == ".." || (seg == "" && i < len(segs)-1) {
			return seg, true
		}
	}
	return "", false
}

// handleFunc registers an endpoint with its decoder for a route pattern.
type handleFunc func(pattern string, ep endpoints.Endpoint, dec kithttp.DecodeRequestFunc)

func logError(ctx context.Context, log logrus.FieldLogger, err error) {
	entry := log.WithError(err)
	if p := endpoints.PrincipalFrom(ctx); p != nil {
		entry = entry.WithField("subject", p.Subject)
	}
	entry.Warn("request failed")
}

// logRequests logs one line per request (method, path, status,
// duration, the trace ID and what the endpoint annotated: run, project...)
// and tells observe of it. The trace ID is the caller's traceparent's, or
// a new one; the answer names it in X-Forge-Trace-Id. Headers are never
// logged (they carry tokens).
func logRequests(log logrus.FieldLogger, observe func(r *http.Request, status int, took time.Duration), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		trace, ok := ports.ParseTraceparent(r.Header.Get(ports.TraceparentHeader))
		if !ok {
			trace = ports.NewTraceID()
		}
		ctx, fields := endpoints.WithLogFields(ports.WithTraceID(r.Context(), trace))
		w.Header().Set(endpoints.TraceHeader, trace)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		took := time.Since(start)
		line := logrus.Fields{
			"method": r.Method, "path": r.URL.Path, "status": rec.status, "trace_id": trace,
			"duration_ms": float64(took.Microseconds()) / 1000,
		}
		fields.Each(func(k, v string) { line[k] = v })
		log.WithFields(line).Info("request")
		observe(r, rec.status, took)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers flush through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// routeOrError answers requests no route takes with the API's error body:
// 405 with an Allow header when the path exists for other methods, 404
// otherwise (the mux's own answers are plain text). A request a route takes
// must first pass checkURLText and, when params is not nil, checkQuery.
func routeOrError(mux *http.ServeMux, params map[string][]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			err := checkURLText(pattern, r)
			if err == nil && params != nil {
				err = checkQuery(r, params[pattern])
			}
			if err != nil {
				encodeError(r.Context(), err, w)
				return
			}
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusMethodNotAllowed)
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(endpoints.ErrorBody{Error: endpoints.ErrorDetail{Code: "method_not_allowed",
				Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", ")}})
			return
		}
		encodeError(r.Context(), fault.New(fault.NotFound, "no API route %s %s", r.Method, r.URL.Path), w)
	})
}
