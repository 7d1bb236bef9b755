// Package opsserver serves what a cluster asks of a process that has no
// API of its own (forge-worker, forge-dispatcher): /metrics in the
// Prometheus format, /healthz while the process runs and /readyz while
// its dependencies answer, on an address of its own (--metrics-addr).
package opsserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/domain/fault"
)

// NATSReady says whether a NATS connection is up: Unavailable, with its
// state, while it is not (reconnecting, closed).
func NATSReady(nc *nats.Conn) error {
	if nc.IsConnected() {
		return nil
	}
	return fault.New(fault.Unavailable, "not connected to NATS (%s)", strings.ToLower(nc.Status().String()))
}

// Server is a running ops server.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Start listens on addr and serves metrics, /healthz and /readyz (503
// with the error's message while ready fails) until Close. Errors:
// Unavailable (the address cannot be listened on).
func Start(addr string, metrics http.Handler, ready func(context.Context) error) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "--metrics-addr: listening on %s", addr)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { answer(w, http.StatusOK, "ok", "") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			// The reason, never its cause: a wrapped driver error may name
			// hosts and users, and this answer needs no token.
			reason := "not ready"
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Message != "" {
				reason = fe.Message
			}
			answer(w, http.StatusServiceUnavailable, "unavailable", reason)
			return
		}
		answer(w, http.StatusOK, "ready", "")
	})
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return s, nil
}

func answer(w http.ResponseWriter, status int, state, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]string{"status": state}
	if reason != "" {
		body["reason"] = reason
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, giving requests in flight a second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
