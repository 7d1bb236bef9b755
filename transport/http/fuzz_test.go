package httptransport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// fuzzTarget is the API handler a fuzz test posts to, with a service
// account's token. It starts over with a fresh store every resetEvery
// inputs, so that the store's growth (memstore copies its whole state in
// every transaction) does not slow fuzzing down as it runs.
type fuzzTarget struct {
	issuer  *oidcauth.DevIssuer
	token   string
	handler http.Handler
	inputs  int
}

const resetEvery = 500

func newFuzzTarget(f *testing.F) *fuzzTarget {
	issuer, err := oidcauth.LoadOrCreateDevKey(filepath.Join(f.TempDir(), "dev-key.pem"))
	if err != nil {
		f.Fatal(err)
	}
	token, err := issuer.Token("fuzz-bot", []identity.Role{identity.RoleServiceAccount}, 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzTarget{issuer: issuer, token: token}
}

// next returns the handler for the next input: acme/mono is registered,
// with limits high enough that fuzzing rarely meets them.
func (ft *fuzzTarget) next(t *testing.T) http.Handler {
	if ft.handler == nil || ft.inputs%resetEvery == 0 {
		h, mem, clk := buildHandler(ft.issuer, options{}, io.Discard)
		_, _, err := mem.CreateRepository(context.Background(), &repository.Repository{Name: "acme/mono", CreatedAt: clk.Now(),
			Limits: repository.Limits{RunsPerMinute: 1 << 30, MaxConcurrentRuns: 1 << 30}})
		if err != nil {
			t.Fatal(err)
		}
		ft.handler = h
	}
	ft.inputs++
	return ft.handler
}

// postToHandler sends body straight to the handler, without a network,
// and checks the answer: 200 or 201 with a JSON object, or a 4xx with the
// spec's error body. Anything else (a 5xx, a panic) fails.
func postToHandler(t *testing.T, h http.Handler, token, path string, body []byte) *httptest.ResponseRecorder {
	return sendToHandler(t, h, token, http.MethodPost, path, body)
}

// sendToHandler sends a request straight to the handler and checks the
// answer as postToHandler says (a 200 to a GET may be any JSON object).
func sendToHandler(t *testing.T, h http.Handler, token, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s %q: status %d with Content-Type %q", method, path, body, rec.Code, ct)
	}
	switch {
	case rec.Code == http.StatusCreated || rec.Code == http.StatusOK:
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || (method == http.MethodPost && (v["id"] == "" || v["id"] == nil)) {
			t.Fatalf("%s %s %q: %d with body %s", method, path, body, rec.Code, rec.Body)
		}
	case rec.Code >= 400 && rec.Code < 500:
		var eb struct {
			Error *endpoints.ErrorDetail `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s %q: %d without the spec's error body: %s", method, path, body, rec.Code, rec.Body)
		}
		if eb.Error.Code == string(fault.Internal) || eb.Error.Code == string(fault.Unauthenticated) {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
	default:
		t.Fatalf("%s %s %q: status %d: %s", method, path, body, rec.Code, rec.Body)
	}
	return rec
}

func FuzzCreateRunBody(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, seed := range []string{
		`{"repository":"acme/mono","branch":"main","commit_sha":"` + sha("1") + `"}`,
		`{"repository":"acme/mono","branch":"feature/x","commit_sha":"` + sha("2") + `","triggered_by":"dave","trigger_type":"manual"}`,
		`{"repository":"acme/mono","commit_sha":"` + sha("3") + sha("3")[:24] + `","trigger_type":"pull_request"}`,
		`{"repository":"acme/other","commit_sha":"` + sha("4") + `"}`,
		`{"repository":"acme/mono","commit_sha":"` + sha("5") + `","trigger_type":"cron"}`,
		`{"repository":"acme/mono","commit_sha":"` + sha("5") + `","branch":"a b~"}`,
		`{"repository":"acme/mono","commit_sha":5}`,
		`{"repository":"acme/mono","colour":"red"}`,
		`{"repository":"acme/mono"} trailing`,
		`{}{}`,
		`{"repository":`,
		`{"repository" "x"}`,
		``,
		`null`,
		`[]`,
		`"string"`,
		`1e999`,
		`{"branch":"\u0000\ud800"}`,
		`{"repository":"acme/mono","commit_sha":"` + sha("6") + `","branch":"` + strings.Repeat("b", 300) + `"}`,
		"\xff\xfe{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		postToHandler(t, ft.next(t), ft.token, "/v1/runs", body)
	})
}

func FuzzCreateReleaseBody(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, seed := range []string{
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("1") + `"}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("2") + `","oci_digest":"sha256:00",` +
			`"artifacts":[{"name":"api","type":"container","tracking_oci_uri":"t/api","primary_published_uri":"p/api"}],` +
			`"trigger":{"type":"tag","tag":"api/v1.2.3"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("3") + `","trigger":{"type":"branch_push","branch":"main"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("4") + `","trigger":{"type":"tag","tag":"3"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("5") + `","trigger":{"type":"tag","tag":"main-3"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("6") + `","pipeline_run_id":"nope"}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("7") + `","trigger":{"type":"tag"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("7") + `","trigger":{"type":"cron"}}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("8") + `","artifacts":[{"name":"a","type":"binary","tracking_oci_uri":"x"},{"name":"a","type":"binary","tracking_oci_uri":"x"}]}`,
		`{"repository":"acme/mono","project":"api","commit_sha":"` + sha("8") + `","artifacts":[null]}`,
		`{"repository":"acme/mono","project":"API","commit_sha":"` + sha("9") + `"}`,
		`{"artifacts":{"name":"x"}}`,
		`{"trigger":"tag"}`,
		`{"trigger":{"type":"tag","ref":"v1"}}`,
		`{"repository":"acme/mono"} {}`,
		`{"repository":"acme/mono",`,
		``,
		`null`,
		`[{}]`,
		`{"commit_sha":1.5}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		postToHandler(t, ft.next(t), ft.token, "/v1/releases", body)
	})
}

// textFields are the string fields FuzzTextInBodies writes its value into:
// a route, a valid body and the field.
var textFields = []struct{ path, body, field string }{
	{"/v1/runs", `{"repository":"acme/mono","commit_sha":"` + sha("1") + `","branch":@}`, "branch"},
	{"/v1/runs", `{"repository":"acme/mono","commit_sha":"` + sha("2") + `","triggered_by":@}`, "triggered_by"},
	{"/v1/runs", `{"repository":@,"commit_sha":"` + sha("3") + `"}`, "repository"},
	{"/v1/releases", `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("4") + `","trigger":{"type":"tag","tag":@}}`, "trigger.tag"},
	{"/v1/releases", `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("5") + `","trigger":{"type":"branch_push","branch":@}}`, "trigger.branch"},
	{"/v1/releases", `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("6") + `","oci_digest":@}`, "oci_digest"},
	{"/v1/releases", `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("7") + `",` +
		`"artifacts":[{"name":"api","type":"container","tracking_oci_uri":@,"primary_published_uri":"p"}]}`, "artifacts[0].tracking_oci_uri"},
	{"/v1/releases", `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("8") + `",` +
		`"artifacts":[{"name":"api","type":"container","tracking_oci_uri":"t","primary_published_uri":@}]}`, "artifacts[0].primary_published_uri"},
	{"/v1/releases", `{"repository":"acme/mono","project":@,"commit_sha":"` + sha("9") + `"}`, "project"},
}

// jsonLiteral writes value as a JSON string with its bytes as they are:
// only quotes, backslashes and control bytes are escaped, so invalid UTF-8
// reaches the server raw and NUL as \u0000.
func jsonLiteral(value []byte) []byte {
	out := []byte{'"'}
	for _, b := range value {
		switch {
		case b == '"' || b == '\\':
			out = append(out, '\\', b)
		case b < 0x20:
			out = append(out, fmt.Sprintf(`\u%04x`, b)...)
		default:
			out = append(out, b)
		}
	}
	return append(out, '"')
}

// isText is the test's own idea of text: valid UTF-8 without NUL.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// FuzzTextInBodies writes arbitrary bytes into string fields of valid
// bodies: bytes that are not text must be 422 naming the field, and no
// input may be a 500.
func FuzzTextInBodies(f *testing.F) {
	ft := newFuzzTarget(f)
	for i := range textFields {
		for _, v := range []string{"main", "a\x00b", "\xff", "v1.2.3\xe2\x82", "caf\xc3\xa9", "\xef\xbf\xbd", `\ud800`, ""} {
			f.Add(uint8(i), []byte(v))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, value []byte) {
		tf := textFields[int(which)%len(textFields)]
		body := bytes.Replace([]byte(tf.body), []byte("@"), jsonLiteral(value), 1)
		rec := postToHandler(t, ft.next(t), ft.token, tf.path, body)
		if !isText(value) {
			wantFieldError(t, rec, tf.field)
		}
	})
}

// FuzzTextInQueries sends arbitrary bytes as a query parameter: bytes that
// are not text must be 422 naming the parameter, and nothing a 500.
func FuzzTextInQueries(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, v := range []string{"main", "a\x00b", "\xff", "feature/\xe2\x82", "caf\xc3\xa9", ""} {
		for _, p := range []string{"repository", "branch", "status", "limit"} {
			f.Add(p, []byte(v))
		}
	}
	f.Fuzz(func(t *testing.T, param string, value []byte) {
		if param == "" {
			return
		}
		path := "/v1/runs?" + url.QueryEscape(param) + "=" + url.QueryEscape(string(value))
		rec := sendToHandler(t, ft.next(t), ft.token, http.MethodGet, path, nil)
		switch {
		case !isText([]byte(param)):
			wantFieldError(t, rec, "query")
		case !isText(value):
			wantFieldError(t, rec, param)
		}
	})
}

// wantFieldError fails unless rec is 422 validation_error naming field.
func wantFieldError(t *testing.T, rec *httptest.ResponseRecorder, field string) {
	t.Helper()
	var eb endpoints.ErrorBody
	if rec.Code != http.StatusUnprocessableEntity || json.Unmarshal(rec.Body.Bytes(), &eb) != nil ||
		eb.Error.Code != string(fault.Validation) || eb.Error.Details["field"] != field {
		t.Fatalf("%d %s; want 422 naming field %q", rec.Code, rec.Body, field)
	}
}

// FuzzTextInPathSegments sends arbitrary bytes as the release identifier
// of GET /v1/releases/{owner}/{name}/{project}/{id}: every answer must be
// JSON and no 500; bytes that are not text are 422 naming {id}, and "."
// and ".." are 404 (never a redirect).
func FuzzTextInPathSegments(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, v := range []string{"1", "main-1", ".", "..", "", "a/b", "a\x00", "\xff", "v1.2.3\xe2\x82", "%", "?x", "#"} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		rec := sendToHandler(t, ft.next(t), ft.token, http.MethodGet, "/v1/releases/acme/mono/api/"+url.PathEscape(string(value)), nil)
		switch v := string(value); {
		case v == "." || v == "..":
			if rec.Code != http.StatusNotFound {
				t.Fatalf("%q: %d %s; want 404", v, rec.Code, rec.Body)
			}
		case !isText(value):
			wantFieldError(t, rec, "id")
		}
	})
}
