package httptransport_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create and drop the test database

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/ports"
)

// badText is text that is not text, as it appears in a JSON body (raw) and
// in a URL (%-escaped).
var badText = []struct {
	name, json, url string
}{
	{"NUL escape", `"a\u0000b"`, "a%00b"},
	{"invalid byte", "\"a\xffb\"", "a%FFb"},
	{"unpaired surrogate", `"a\ud800b"`, ""},
	{"truncated UTF-8", "\"main\xe2\x82\"", "main%E2%82"},
}

// bodyRoute is a route with a JSON body: a valid body and the paths of
// its string fields.
type bodyRoute struct {
	method, path string
	body         map[string]any
	fields       []string
}

const placeholder = "\x01PLACEHOLDER\x01"

// withRaw returns body as JSON with the string at field (a.b, a[0].b)
// replaced by the raw JSON text raw.
func withRaw(t *testing.T, body map[string]any, field, raw string) []byte {
	t.Helper()
	copied := deepCopy(body).(map[string]any)
	var cur any = copied
	parts := strings.Split(strings.ReplaceAll(field, "[0]", ".0"), ".")
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = placeholder
			} else {
				cur = c[p]
			}
		case []any:
			if last {
				c[0] = placeholder
			} else {
				cur = c[0]
			}
		default:
			t.Fatalf("field %s: %T in the way", field, cur)
		}
	}
	data, err := json.Marshal(copied)
	if err != nil {
		t.Fatal(err)
	}
	quoted, _ := json.Marshal(placeholder)
	if !bytes.Contains(data, quoted) {
		t.Fatalf("field %s is not in the body", field)
	}
	return bytes.Replace(data, quoted, []byte(raw), 1)
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range c {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, x := range c {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// textEnv is a server with acme/mono registered and one release of api.
type textEnv struct {
	*env
	store   ports.Store
	release string
	root    string // a token with every role
}

func newTextEnv(t *testing.T, store ports.Store) *textEnv {
	t.Helper()
	e := newEnv(t, func(o *options) { o.store = store })
	if store == nil {
		store = e.mem
	}
	te := &textEnv{env: e, store: store, root: e.token("root", identity.Roles...)}
	e.registerRepo("acme/mono")
	te.release = e.tagRelease("api", sha("aa"), "api/v1.0.0").ID
	return te
}

func (te *textEnv) bodyRoutes() []bodyRoute {
	taskID, stepID := uuid.NewString(), uuid.NewString()
	return []bodyRoute{
		{"POST", "/v1/runs", map[string]any{"repository": "acme/mono", "branch": "main", "commit_sha": sha("b1"),
			"triggered_by": "dave", "trigger_type": "push"},
			[]string{"repository", "branch", "commit_sha", "triggered_by", "trigger_type"}},
		{"PUT", "/v1/tasks/" + taskID + "/status", map[string]any{"status": "running", "error": "e"}, []string{"status", "error"}},
		{"PUT", "/v1/steps/" + stepID + "/status", map[string]any{"status": "running", "logs_s3_key": "pipeline-runs/x/logs/a.log"},
			[]string{"status", "logs_s3_key"}},
		{"POST", "/v1/releases", map[string]any{"repository": "acme/mono", "project": "api", "commit_sha": sha("b2"), "oci_digest": "sha256:00",
			"artifacts": []any{map[string]any{"name": "api", "type": "container", "tracking_oci_uri": "t/api", "tracking_oci_digest": "sha256:01",
				"primary_published_uri": "p/api"}},
			"trigger": map[string]any{"type": "tag", "tag": "api/v2.0.0", "branch": "main"}},
			[]string{"repository", "project", "commit_sha", "oci_digest", "artifacts[0].name", "artifacts[0].type",
				"artifacts[0].tracking_oci_uri", "artifacts[0].tracking_oci_digest", "artifacts[0].primary_published_uri",
				"trigger.type", "trigger.tag", "trigger.branch"}},
		{"POST", "/v1/deployments", map[string]any{"release_id": te.release, "environment": "dev"}, []string{"release_id", "environment"}},
		{"POST", "/v1/rollbacks", map[string]any{"environment": "dev", "repository": "acme/mono", "project": "api"},
			[]string{"environment", "repository", "project"}},
		{"POST", "/v1/approvals", map[string]any{"release_id": te.release, "environment": "production", "justification": "CHG-1"},
			[]string{"release_id", "environment", "justification"}},
		{"POST", "/v1/repositories", map[string]any{"repository": "acme/other"}, []string{"repository"}},
	}
}

// pathRoutes are the routes with path segments, with valid values.
var pathRoutes = []struct {
	method, pattern string
	values          map[string]string
}{
	{"GET", "/v1/runs/{id}", nil},
	{"DELETE", "/v1/runs/{id}", nil},
	{"PUT", "/v1/tasks/{id}/status", nil},
	{"PUT", "/v1/steps/{id}/status", nil},
	{"GET", "/v1/steps/{id}/logs", nil},
	{"GET", "/v1/releases/{owner}/{name}/{project}/{id}", map[string]string{"owner": "acme", "name": "mono", "project": "api", "id": "1"}},
	{"GET", "/v1/releases/{owner}/{name}/{project}", map[string]string{"owner": "acme", "name": "mono", "project": "api"}},
	{"GET", "/v1/deployments/{environment}/{owner}/{name}/{project}", map[string]string{"environment": "dev", "owner": "acme", "name": "mono", "project": "api"}},
	{"GET", "/v1/approvals/{release}/{environment}", map[string]string{"release": "x", "environment": "production"}},
	{"POST", "/v1/approvals/{id}/revoke", nil},
}

// queryRoutes are the routes that read query parameters.
var queryRoutes = []struct{ path, param string }{
	{"/v1/runs", "repository"}, {"/v1/runs", "branch"}, {"/v1/runs", "commit_sha"}, {"/v1/runs", "status"},
	{"/v1/runs", "limit"}, {"/v1/repositories", "offset"}, {"/v1/releases/acme/mono/api", "limit"},
	{"/v1/steps/x/logs", "offset"}, {"/v1/runs", "unread"},
}

// checkNoText sends every kind of bad text in every string field of every
// body, every path segment and query parameter, and wants 422 naming the
// field each time; then it checks that nothing was stored.
func checkNoText(t *testing.T, te *textEnv) {
	for _, rt := range te.bodyRoutes() {
		for _, field := range rt.fields {
			for _, bad := range badText {
				t.Run(rt.method+" "+rt.path+" "+field+" "+bad.name, func(t *testing.T) {
					body := withRaw(t, rt.body, field, bad.json)
					r := te.send(te.request(rt.method, rt.path, te.root, body))
					r.wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, field)
				})
			}
		}
	}
	for _, rt := range pathRoutes {
		names := wildcards(rt.pattern)
		for _, name := range names {
			for _, bad := range badText {
				if bad.url == "" {
					continue
				}
				t.Run(rt.method+" "+rt.pattern+" "+name+" "+bad.name, func(t *testing.T) {
					path := rt.pattern
					for _, n := range names {
						v := rt.values[n]
						if v == "" {
							v = uuid.NewString()
						}
						if n == name {
							v = bad.url
						}
						path = strings.Replace(path, "{"+n+"}", v, 1)
					}
					var body any
					if rt.method == "PUT" {
						body = `{"status":"running"}`
					}
					r := te.send(te.request(rt.method, path, te.root, body))
					r.wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, name)
				})
			}
		}
	}
	for _, q := range queryRoutes {
		for _, bad := range badText {
			if bad.url == "" {
				continue
			}
			t.Run("GET "+q.path+"?"+q.param+" "+bad.name, func(t *testing.T) {
				r := te.send(te.request("GET", q.path+"?"+q.param+"="+bad.url, te.root, nil))
				r.wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, q.param)
			})
		}
	}

	ctx := context.Background()
	if _, n, err := te.store.ListRepositories(ctx, ports.Page{}); err != nil || n != 1 {
		t.Errorf("repositories: %d, %v; want acme/mono alone", n, err)
	}
	if _, n, err := te.store.ListRuns(ctx, ports.RunFilter{}, ports.Page{}); err != nil || n != 0 {
		t.Errorf("runs: %d, %v; want none", n, err)
	}
	if _, n, err := te.store.ListReleases(ctx, "acme/mono", "api", ports.Page{}); err != nil || n != 1 {
		t.Errorf("releases: %d, %v; want the one of the setup", n, err)
	}
	for _, env := range []string{"dev", "production"} {
		if _, n, err := te.store.ListDeployments(ctx, env, "acme/mono", "api", ports.Page{}); err != nil || n != 0 {
			t.Errorf("deployments to %s: %d, %v; want none", env, n, err)
		}
	}
	if a, err := te.store.LatestApproval(ctx, te.release, "production"); !fault.Is(err, fault.NotFound) {
		t.Errorf("approval %+v, %v; want none", a, err)
	}
}

func wildcards(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

// TestTextThatIsNotTextIsRefused checks, on the in-memory store, that NUL
// and invalid UTF-8 anywhere in a request are 422 naming the field.
func TestTextThatIsNotTextIsRefused(t *testing.T) {
	checkNoText(t, newTextEnv(t, nil))
}

// TestTextThatIsNotTextIsRefusedOnDatabases runs the same requests against
// the API over SQLite and PostgreSQL, where such text used to be a 500
// (PostgreSQL) or stored cut short (SQLite).
func TestTextThatIsNotTextIsRefusedOnDatabases(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		checkNoText(t, newTextEnv(t, migratedStore(t, "sqlite://"+filepath.Join(t.TempDir(), "forge.db"))))
	})
	t.Run("postgres", func(t *testing.T) {
		checkNoText(t, newTextEnv(t, migratedStore(t, freshPostgres(t))))
	})
}

// TestValidTextStillPasses checks that the check refuses only what it
// should: escapes, surrogate pairs, U+FFFD itself and non-ASCII text pass.
func TestValidTextStillPasses(t *testing.T) {
	te := newTextEnv(t, nil)
	for i, j := range []string{`"CHG-1 \u00e9t\u00e9 \ud83d\ude80"`, "\"CHG-2 \xef\xbf\xbd caf\xc3\xa9\"", `"CHG-3 \\ud800 \"quoted\""`} {
		rel := te.tagRelease("web", sha("c"+string(rune('0'+i))), "web/v1.0."+string(rune('0'+i)))
		body := `{"release_id":"` + rel.ID + `","environment":"production","justification":` + j + `}`
		te.send(te.request("POST", "/v1/approvals", te.as(bob), body)).want(t, http.StatusCreated)
	}
	te.do("GET", "/v1/runs?branch="+url.QueryEscape("feature/é"), alice, nil).want(t, http.StatusOK)
}

// migratedStore opens dsn, applies the migrations and closes the store
// when the test ends.
func migratedStore(t *testing.T, dsn string) ports.Store {
	t.Helper()
	ctx := context.Background()
	s, err := gormstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return s
}

// freshPostgres creates a database of its own on the server
// FORGE_TEST_POSTGRES_DSN names, dropped when the test ends, and returns
// its DSN; without the variable it skips the test.
func freshPostgres(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("FORGE_TEST_POSTGRES_DSN")
	if admin == "" {
		t.Skip("set FORGE_TEST_POSTGRES_DSN to run against PostgreSQL")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("FORGE_TEST_POSTGRES_DSN is not a URL")
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := "forge_http_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// TestEdgeRefusalsOnDatabases checks, over SQLite and PostgreSQL, the
// other refusals of the API edge that used to reach the database: limits
// beyond 32 bits (a 500 on PostgreSQL) and a body naming its repository
// twice (the second won).
func TestEdgeRefusalsOnDatabases(t *testing.T) {
	check := func(t *testing.T, store ports.Store) {
		te := newTextEnv(t, store)
		te.do("POST", "/v1/repositories", carol, `{"repository":"acme/big","limits":{"max_concurrent_runs":9999999999}}`).
			wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limits.max_concurrent_runs")
		te.do("POST", "/v1/repositories", carol, `{"repository":"acme/big","limits":{"runs_per_minute":2147483648}}`).
			wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limits.runs_per_minute")
		te.do("POST", "/v1/repositories", carol, `{"repository":"acme/big","repository":"acme/bigger"}`).
			wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "repository")
		if _, n, err := te.store.ListRepositories(context.Background(), ports.Page{}); err != nil || n != 1 {
			t.Errorf("repositories: %d, %v; want acme/mono alone", n, err)
		}
		r := te.do("POST", "/v1/repositories", carol, `{"repository":"acme/big","limits":{"max_concurrent_runs":2147483647,"runs_per_minute":2147483647}}`).
			want(t, http.StatusCreated)
		if got := object(t, r)["limits"].(map[string]any); got["max_concurrent_runs"] != float64(2147483647) {
			t.Errorf("limits = %v", got)
		}
	}
	t.Run("sqlite", func(t *testing.T) { check(t, migratedStore(t, "sqlite://"+filepath.Join(t.TempDir(), "forge.db"))) })
	t.Run("postgres", func(t *testing.T) { check(t, migratedStore(t, freshPostgres(t))) })
}
