// Package githubtest is a stand-in for GitHub's REST API, for tests: an
// httptest server that answers, for the repository acme/mono, commit
// statuses, the comments of pull request 7 (one a page, with Link
// headers) and, given an App's public key, App installation tokens, as
// GitHub documents them, and records every request. Failures can be
// injected.
package githubtest

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Request is one request the server received.
type Request struct {
	Method, Path, Auth, Version string
	Body                        map[string]any
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	requests []Request
	comments map[int64]string // comment ID -> body, on PR 7
	nextID   int64
	fail     []Failure
	app      *rsa.PublicKey
	mints    int
}

// Failure is an answer to inject: a status and headers.
type Failure struct {
	Status  int
	Headers map[string]string
	// AfterDoing makes the server do what was asked before answering the
	// failure: an answer lost on the way back.
	AfterDoing bool
}

// Pass is a Failure that lets its request through, to aim the next ones.
var Pass = Failure{}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	f := &Server{t: t, comments: map[int64]string{}, nextID: 100}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Fail answers the next requests with these failures, in order.
func (f *Server) Fail(fs ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, fs...)
}

// TrustApp makes the server mint installation tokens (for App 4242,
// installation 99) to JWTs signed by key's private half.
func (f *Server) TrustApp(key *rsa.PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app = key
}

// Mints counts the installation tokens minted.
func (f *Server) Mints() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mints
}

// AddComment puts a comment on pull request 7 and returns its ID.
func (f *Server) AddComment(id int64, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.comments[id] = body
}

// Comments returns the comments of pull request 7 by ID.
func (f *Server) Comments() map[int64]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]string{}
	for k, v := range f.comments {
		out[k] = v
	}
	return out
}

// Requests returns the requests received so far.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Statuses returns the bodies of the commit statuses set, in order.
func (f *Server) Statuses() []map[string]any {
	var out []map[string]any
	for _, r := range f.Requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/repos/acme/mono/statuses/") {
			out = append(out, r.Body)
		}
	}
	return out
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			f.t.Errorf("%s %s: a body that is not JSON: %s", r.Method, r.URL.Path, b)
		}
	}
	f.requests = append(f.requests, Request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-GitHub-Api-Version"), body})
	if len(f.fail) > 0 {
		fl := f.fail[0]
		f.fail = f.fail[1:]
		if fl.Status == 0 {
			f.do(w, r, body)
			return
		}
		if fl.AfterDoing {
			f.do(httptest.NewRecorder(), r, body)
		}
		for k, v := range fl.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(fl.Status)
		fmt.Fprintf(w, `{"message":"injected %d"}`, fl.Status)
		return
	}
	f.do(w, r, body)
}

// do answers a request as GitHub would. Callers hold f.mu.
func (f *Server) do(w http.ResponseWriter, r *http.Request, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/installations/"):
		f.mintToken(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/repos/acme/mono/statuses/"):
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(body)
	case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/mono/issues/7/comments":
		// Pages of one comment, so the reporter has to follow Link.
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		ids := make([]int64, 0, len(f.comments))
		for id := range f.comments {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		var out []map[string]any
		if page < len(ids) {
			out = append(out, map[string]any{"id": ids[page], "body": f.comments[ids[page]]})
		}
		if page+1 < len(ids) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/repos/acme/mono/issues/7/comments?page=%d>; rel="next"`, r.Host, page+1))
		}
		if out == nil {
			out = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/mono/issues/7/comments":
		f.nextID++
		f.comments[f.nextID] = body["body"].(string)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": f.nextID})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/acme/mono/issues/comments/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/repos/acme/mono/issues/comments/"), 10, 64)
		if _, ok := f.comments[id]; !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		f.comments[id] = body["body"].(string)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

// mintToken checks the App's JWT and answers an installation token.
func (f *Server) mintToken(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	var claims jwt.Claims
	if err == nil {
		err = tok.Claims(f.app, &claims)
	}
	if err != nil || claims.Issuer != "4242" || claims.Expiry == nil || claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > 10*time.Minute {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"bad JWT: %v"}`, err)
		return
	}
	if r.URL.Path != "/app/installations/99/access_tokens" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.mints++
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"token": fmt.Sprintf("ghs_installation_%d", f.mints),
		"expires_at": time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC).Format(time.RFC3339)})
}
