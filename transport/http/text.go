package httptransport

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Every string that enters the API — each key and string of a JSON body,
// however deep, each query parameter and each path segment — must be text:
// valid UTF-8 without NUL. PostgreSQL refuses both (the insert fails, which
// used to surface as 500 internal_error) and SQLite stores them, cutting C
// strings short at the NUL, so they are refused here, once, before any use
// case sees them, with a 422 that names the field.

// checkBodyText walks a JSON body that has already decoded without error
// and refuses the first key or string that is not text. encoding/json
// quietly turns invalid UTF-8 and unpaired surrogate escapes (\ud800) into
// U+FFFD, so the raw bytes of each token are checked, not the decoded value.
func checkBodyText(body []byte) error {
	type frame struct {
		object  bool
		path    string // the container's path
		key     string // in an object, the last key read
		wantKey bool   // in an object, whether the next string is a key
		index   int    // in an array, the index of the next element
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return jsonError(err)
		}
		raw := body[before:dec.InputOffset()]
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			if err := checkText(joinField(top.path, s), "field "+joinField(top.path, s), s, raw); err != nil {
				return err
			}
			top.key, top.wantKey = s, false
			continue
		}
		path := ""
		switch {
		case top == nil:
		case top.object:
			path = joinField(top.path, top.key)
		default:
			path = top.path + "[" + strconv.Itoa(top.index) + "]"
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, &frame{object: t == '{', path: path, wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				continue
			}
			top = stack[len(stack)-1]
		case string:
			if err := checkText(path, "field "+path, t, raw); err != nil {
				return err
			}
		}
		if top != nil {
			top.wantKey = top.object
			if !top.object {
				top.index++
			}
		}
	}
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkText refuses s unless it is text. raw is the input s was read from
// (a JSON token with its escapes, or the unescaped URL text); field goes in
// details.field and what names it in the message.
func checkText(field, what, s string, raw []byte) error {
	var msg string
	switch {
	case strings.IndexByte(s, 0) >= 0:
		msg = what + " must not contain a NUL character (\\u0000)"
	case !utf8.Valid(raw) || !utf8.ValidString(s):
		msg = what + " must be valid UTF-8 text; it holds bytes that are not"
	case hasLoneSurrogate(raw):
		msg = what + " must be valid UTF-8 text; it holds an unpaired surrogate escape (\\uD800-\\uDFFF)"
	default:
		return nil
	}
	return &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": field}}
}

// hasLoneSurrogate reports whether raw JSON text holds a \uD800-\uDFFF
// escape that is not half of a surrogate pair.
func hasLoneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // an escaped character, \\ included
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if low, ok := hex4(raw, i+8); ok && low >= 0xDC00 && low < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

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
		if err := checkText(name, "path segment {"+name+"}", seg, []byte(seg)); err != nil {
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
		if err := checkText("query", "query parameter name "+strconv.QuoteToASCII(k), k, []byte(k)); err != nil {
			return err
		}
		for _, v := range q[k] {
			if err := checkText(k, "query parameter "+strconv.QuoteToASCII(k), v, []byte(v)); err != nil {
				return err
			}
		}
	}
	return nil
}
