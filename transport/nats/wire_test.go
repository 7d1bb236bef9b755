package natstransport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/go-kit/kit/endpoint"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
	natstransport "github.com/catalyst-forge/forge/transport/nats"
)

// TestRefusalsAreTheSameOverBothTransports sends the same bad requests as
// raw HTTP requests and raw NATS messages to the same services: the error
// code (HTTP: the body's code, NATS: the Forge-Error header and the body's
// code) and the whole error body must be equal.
func TestRefusalsAreTheSameOverBothTransports(t *testing.T) {
	s, _, _, issuer := services(t)
	srv := httptest.NewServer(httptransport.NewServer(httptransport.Services{Services: s}, issuer.Verifier(), quietLog()))
	t.Cleanup(srv.Close)
	url := embedded(t)
	serverConn, clientConn := connect(t, url), connect(t, url)
	ns, err := natstransport.Serve(serverConn, endpoints.New(s), issuer.Verifier(), quietLog(), natstransport.Options{})
	must(t, err)
	t.Cleanup(func() { ns.Close(context.Background()) })
	token := tokens(t, issuer)

	cases := []struct {
		name, method, path, subject, auth, body string
		code                                    fault.Kind
	}{
		{"no token", "GET", "/v1/repositories", "repositories.list", "", "", fault.Unauthenticated},
		{"not a bearer token", "GET", "/v1/repositories", "repositories.list", "Basic YWxpY2U6c2VjcmV0", "", fault.Unauthenticated},
		{"a token that does not verify", "GET", "/v1/repositories", "repositories.list", "Bearer not-a-jwt", "", fault.Unauthenticated},
		{"not JSON", "POST", "/v1/runs", "runs.create", ci, `{"repository":`, fault.Validation},
		{"unknown field", "POST", "/v1/runs", "runs.create", ci, `{"repository":"acme/mono","force":true}`, fault.Validation},
		{"a field of the wrong type", "POST", "/v1/deployments", "deployments.create", alice, `{"release_id":7,"environment":"dev"}`, fault.Validation},
		{"a key given twice", "POST", "/v1/approvals", "approvals.create", bob, `{"release_id":"a","release_id":"b","environment":"dev","justification":"x"}`, fault.Validation},
		{"a NUL in a string", "POST", "/v1/repositories", "repositories.register", carol, `{"repository":"acme/mo\u0000no"}`, fault.Validation},
		{"trailing data", "POST", "/v1/repositories", "repositories.register", carol, `{"repository":"acme/mono"} {}`, fault.Validation},
		{"a role that may not", "POST", "/v1/repositories", "repositories.register", alice, `{"repository":"acme/mono"}`, fault.PermissionDenied},
		{"no such run", "GET", "/v1/runs/00000000-0000-4000-8000-000000000000", `runs.get`, alice, `{"id":"00000000-0000-4000-8000-000000000000"}`, fault.NotFound},
		{"a bad repository name", "GET", "/v1/releases/acme/mono!/api/1", "releases.get", alice, `{"repository":"acme/mono!","project":"api","id":"1"}`, fault.Validation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auth := c.auth
			if _, ok := roles[auth]; ok {
				auth = "Bearer " + token(auth)
			}
			var rd io.Reader
			if c.body != "" {
				rd = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, srv.URL+c.path, rd)
			must(t, err)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			defer resp.Body.Close()
			var overHTTP endpoints.ErrorBody
			must(t, json.NewDecoder(resp.Body).Decode(&overHTTP))

			msg := nats.NewMsg(natstransport.SubjectPrefix + c.subject)
			msg.Data = []byte(c.body)
			if auth != "" {
				msg.Header.Set("Authorization", auth)
			}
			answer, err := clientConn.RequestMsg(msg, 5*time.Second)
			must(t, err)
			var overNATS endpoints.ErrorBody
			must(t, json.Unmarshal(answer.Data, &overNATS))

			if overHTTP.Error.Code != string(c.code) || answer.Header.Get(natstransport.ErrorHeader) != string(c.code) {
				t.Errorf("codes: HTTP %d %q, NATS header %q; want %s", resp.StatusCode, overHTTP.Error.Code, answer.Header.Get(natstransport.ErrorHeader), c.code)
			}
			if !reflect.DeepEqual(overHTTP, overNATS) {
				t.Errorf("bodies differ:\n HTTP %+v\n NATS %+v", overHTTP, overNATS)
			}
		})
	}
}

// TestNATSLimitsAndFailures: a request over the size limit is refused by
// the client before it is sent, and by the server when another client
// sends it; a subject no API serves is unavailable with what to check.
func TestNATSLimitsAndFailures(t *testing.T) {
	w, prefix := overNATS(t, embedded(t))
	big := endpoints.CreateRunRequest{Repository: "acme/mono", Branch: strings.Repeat("b", endpoints.MaxBodyBytes)}
	_, _, err := w.as(ci).CreateRun(ctx, big)
	wantError(t, err, fault.Validation, "the body is larger than 1048576 bytes")

	// The embedded server's max_payload is 1 MiB: just over the limit
	// still reaches the server, which refuses it by the same rule.
	bigServer, err := natsembed.Start(context.Background(), natsembed.Config{Dir: t.TempDir(), MaxPayload: 2 << 20})
	must(t, err)
	t.Cleanup(bigServer.Shutdown)
	nc := connect(t, bigServer.URL())
	s, _, _, issuer := services(t)
	ns, err := natstransport.Serve(nc, endpoints.New(s), issuer.Verifier(), quietLog(), natstransport.Options{Prefix: prefix})
	must(t, err)
	t.Cleanup(func() { ns.Close(context.Background()) })
	msg := nats.NewMsg(prefix + "runs.create")
	msg.Header.Set("Authorization", "Bearer "+tokens(t, issuer)(ci))
	msg.Data = bytes.Repeat([]byte(" "), endpoints.MaxBodyBytes+1)
	answer, err := nc.RequestMsg(msg, 5*time.Second)
	must(t, err)
	if answer.Header.Get(natstransport.ErrorHeader) != string(fault.Validation) || !strings.Contains(string(answer.Data), "larger than") {
		t.Errorf("an oversized request got %v %s", answer.Header, answer.Data)
	}

	c := w.as(alice).(*natstransport.Client)
	c.Prefix = "nobody.serves.this."
	_, err = c.Environments(ctx)
	wantError(t, err, fault.Unavailable, "no forge-api answers on NATS subject nobody.serves.this.environments.list (is it running with --serve-nats?)")
}

// TestCloseDrainsAndPanicsAreAnswered: Close waits for the handler in
// flight, drops the requests still waiting for a slot (none runs after
// Close returns), and a handler that panics is answered internal_error
// while the server goes on serving.
func TestCloseDrainsAndPanicsAreAnswered(t *testing.T) {
	s, _, _, issuer := services(t)
	url := embedded(t)
	serverConn, clientConn := connect(t, url), connect(t, url)
	release := make(chan struct{})
	var mu sync.Mutex
	running, after := 0, 0
	closed := false
	slow := func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			if r, ok := req.(*endpoints.IDRequest); ok && r.ID == "panic" {
				panic("a bug")
			}
			mu.Lock()
			running++
			if closed {
				after++
			}
			mu.Unlock()
			<-release
			return next(ctx, req)
		}
	}
	ns, err := natstransport.Serve(serverConn, endpoints.New(s).With(slow), issuer.Verifier(), quietLog(), natstransport.Options{Concurrency: 1})
	must(t, err)
	c := &natstransport.Client{Conn: clientConn, Token: tokens(t, issuer)(ci)}

	_, err = c.RunStatus(ctx, "panic")
	wantError(t, err, fault.Internal, "internal error")

	for range 3 {
		go func() { _, _ = c.RunStatus(ctx, "00000000-0000-4000-8000-000000000000") }()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := running
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached its handler")
		}
	}
	time.Sleep(50 * time.Millisecond) // the other two wait for the slot
	done := make(chan struct{})
	go func() { ns.Close(context.Background()); close(done) }()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	closed = true
	mu.Unlock()
	close(release)
	<-done
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if running != 1 || after != 0 {
		t.Errorf("%d handlers ran, %d of them after Close began; want the one in flight only", running, after)
	}
}

// TestRequestLogCarriesTheTrace: each request's log line names the
// caller's trace (from its traceparent header), or a new trace ID when
// the caller sent none, as the HTTP transport's does.
func TestRequestLogCarriesTheTrace(t *testing.T) {
	s, _, _, issuer := services(t)
	url := embedded(t)
	nc := connect(t, url)
	log, hook := logtest.NewNullLogger()
	ns, err := natstransport.Serve(nc, endpoints.New(s), issuer.Verifier(), log, natstransport.Options{})
	must(t, err)
	t.Cleanup(func() { ns.Close(context.Background()) })
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, sent := range []string{trace, ""} {
		hook.Reset()
		msg := nats.NewMsg(natstransport.SubjectPrefix + "environments.list")
		msg.Header.Set("Authorization", "Bearer "+tokens(t, issuer)(alice))
		if sent != "" {
			msg.Header.Set(ports.TraceparentHeader, ports.Traceparent(sent))
		}
		msg.Data = []byte("{}")
		if _, err := nc.RequestMsg(msg, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		var got any
		for deadline := time.Now().Add(5 * time.Second); got == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			for _, e := range hook.AllEntries() {
				if e.Message == "request" {
					got = e.Data["trace_id"]
				}
			}
		}
		id, _ := got.(string)
		if sent != "" && id != sent || sent == "" && (len(id) != 32 || id == trace) {
			t.Errorf("sent trace %q: the request's log line names trace %v", sent, got)
		}
	}
}
