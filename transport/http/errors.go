package httptransport

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/catalyst-forge/forge/domain/fault"
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

// ErrorBody is the error format of every API answer (spec 06).
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an ErrorBody.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// encodeError writes err as the spec's error body with the status of its
// kind. Internal errors keep their cause out of the answer: it goes to the
// log, and the client sees a generic message.
func encodeError(_ context.Context, err error, w http.ResponseWriter) {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = &fault.Error{Kind: fault.Internal, Err: err}
	}
	kind := fe.Kind
	status, ok := statusOf[kind]
	if !ok {
		kind, status = fault.Internal, http.StatusInternalServerError
	}
	// The answer carries the message only; a wrapped cause may name hosts,
	// paths or queries, and goes to the log instead.
	msg := fe.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	if kind == fault.Internal {
		msg = "internal error; the server log has the details"
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	switch kind {
	case fault.RateLimited:
		retry := 1
		if v, ok := fe.Details["retry_after_seconds"].(int); ok && v > 0 {
			retry = v
		}
		h.Set("Retry-After", strconv.Itoa(retry))
	case fault.Unauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="forge"`)
	}
	w.WriteHeader(status)
	details := fe.Details
	if kind == fault.Internal {
		details = nil
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(ErrorBody{Error: ErrorDetail{Code: string(kind), Message: msg, Details: details}})
}

// decodeError turns an error answer into a *fault.Error with the kind of
// its code (or of its status when the body is not the API's).
func decodeError(resp *http.Response, body []byte) error {
	var eb ErrorBody
	if err := json.Unmarshal(body, &eb); err == nil && eb.Error.Code != "" {
		kind := fault.Kind(eb.Error.Code)
		if _, ok := statusOf[kind]; !ok {
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
