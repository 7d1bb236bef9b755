package httptransport

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// statusOf is the one table between fault kinds and HTTP statuses, used by
// the server to answer and by the client to read answers.
var statusOf = map[fault.Kind]int{
	fault.Unauthenticated:  http.StatusUnauthorized,
	fault.PermissionDenied: http.StatusForbidden,
	fault.NotFound:         http.StatusNotFound,
	fault.Conflict:         http.StatusConflict,
	fault.Validation:       http.StatusUnprocessableEntity,
	fault.RateLimited:      http.StatusTooManyRequests,
	fault.Unavailable:      http.StatusServiceUnavailable,
	fault.Internal:         http.StatusInternalServerError,
}

// kindOfStatus reads a status back into a kind when a body has no code.
func kindOfStatus(status int) fault.Kind {
	for k, s := range statusOf {
		if s == status {
			return k
		}
	}
	if status >= 500 {
		return fault.Internal
	}
	return fault.Validation
}

// encodeError writes err as the spec's error body (endpoints.ErrorOf)
// with the status of its kind.
func encodeError(_ context.Context, err error, w http.ResponseWriter) {
	fe, body := endpoints.ErrorOf(err, func(k fault.Kind) string { return http.StatusText(statusOf[k]) })
	kind := fault.Kind(body.Error.Code)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	switch kind {
	case fault.RateLimited:
		h.Set("Retry-After", strconv.Itoa(endpoints.RetryAfterSeconds(fe)))
	case fault.Unauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="forge"`)
	}
	w.WriteHeader(statusOf[kind])
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// decodeError turns an error answer into a *fault.Error with the kind of
// its code (or of its status when the body is not the API's).
func decodeError(resp *http.Response, body []byte) error {
	var eb endpoints.ErrorBody
	if err := json.Unmarshal(body, &eb); err == nil && eb.Error.Code != "" {
		kind := fault.Kind(eb.Error.Code)
		if !endpoints.Known(kind) {
			kind = kindOfStatus(resp.StatusCode)
		}
		return &fault.Error{Kind: kind, Message: eb.Error.Message, Details: eb.Error.Details}
	}
	msg := http.StatusText(resp.StatusCode)
	if len(body) > 0 && len(body) < 300 {
		msg += ": " + string(body)
	}
	return &fault.Error{Kind: kindOfStatus(resp.StatusCode), Message: "server answered " + strconv.Itoa(resp.StatusCode) + " " + msg}
}
