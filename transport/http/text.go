package httptransport

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// checkURLText refuses a request whose path segments (named by the
// wildcards of the route pattern that matched it) or query parameters are
// not text.
func checkURLText(pattern string, r *http.Request) error {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	want := strings.Split(pattern, "/")
	got := strings.Split(r.URL.EscapedPath(), "/")
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(w, "{") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(w, "{"), "}"), "...")
		seg, err := url.PathUnescape(got[i])
		if err != nil {
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": name},
				Message: "path segment {" + name + "} has a malformed %-escape"}
		}
		if err := endpoints.CheckText(name, "path segment {"+name+"}", seg, []byte(seg)); err != nil {
			return err
		}
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// A name that is not text cannot be a field name either.
		if err := endpoints.CheckText("query", "query parameter name "+strconv.QuoteToASCII(k), k, []byte(k)); err != nil {
			return err
		}
		for _, v := range q[k] {
			if err := endpoints.CheckText(k, "query parameter "+strconv.QuoteToASCII(k), v, []byte(v)); err != nil {
				return err
			}
		}
	}
	return nil
}

// queryParams are the query parameters each API route reads; a route not
// listed reads none.
var queryParams = map[string][]string{
	"GET /v1/runs": {"repository", "branch", "commit_sha", "status", "limit", "offset"},
	"GET /v1/releases/{owner}/{name}/{project}": {"limit", "offset"},
	"GET /v1/repositories":                      {"limit", "offset"},
	"GET /v1/steps/{id}/logs":                   {"offset", "follow"},
}

// checkQuery refuses a query string that does not parse, a parameter the
// route does not read (a misspelt filter, "?repo=", used to list every
// run) and a parameter given twice (only the first was read).
func checkQuery(r *http.Request, allowed []string) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "query"},
			Message: "the query string is malformed: " + err.Error()}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		switch {
		case !known && len(allowed) == 0:
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": k},
				Message: "unknown query parameter " + strconv.Quote(k) + "; this route takes none"}
		case !known:
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": k},
				Message: "unknown query parameter " + strconv.Quote(k) + "; this route takes " + strings.Join(allowed, ", ")}
		case len(q[k]) > 1:
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": k},
				Message: "query parameter " + strconv.Quote(k) + " is given " + strconv.Itoa(len(q[k])) + " times; give it once"}
		}
	}
	return nil
}
