package httptransport

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// decodeJSON reads one JSON object from r's body into v, strictly (see
// endpoints.DecodeJSON); a Content-Type other than JSON and a body over
// endpoints.MaxBodyBytes are validation errors.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &fault.Error{Kind: fault.Validation, Message: "Content-Type must be application/json, got " + strconv.Quote(ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, endpoints.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return endpoints.TooLarge()
	}
	if err != nil {
		return &fault.Error{Kind: fault.Validation, Message: "the body cannot be read: " + err.Error()}
	}
	return endpoints.DecodeJSON(body, v)
}

// pageOf reads limit and offset query parameters.
func pageOf(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	read := func(name string, def int) (int, error) {
		s := q.Get(name)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": name}, Message: name + " must be a non-negative integer, got " + strconv.Quote(s)}
		}
		return n, nil
	}
	if limit, err = read("limit", 0); err != nil {
		return
	}
	offset, err = read("offset", 0)
	return
}
