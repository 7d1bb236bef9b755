package endpoints

import (
	"errors"

	"github.com/catalyst-forge/forge/domain/fault"
)

// ErrorBody is the error format of every API answer (spec 06), over HTTP
// and NATS alike.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an ErrorBody.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Known reports whether k is a kind of the taxonomy, one every transport
// has a code for.
func Known(k fault.Kind) bool {
	switch k {
	case fault.Unauthenticated, fault.PermissionDenied, fault.NotFound, fault.Conflict, fault.Validation,
		fault.RateLimited, fault.Unavailable, fault.Internal:
		return true
	}
	return false
}

// ErrorOf is what a caller is told of err: its kind (Internal for an error
// outside the taxonomy) and its body. The body carries the message only:
// a wrapped cause may name hosts, paths or queries, and goes to the log
// instead; an internal error's message and details are withheld too. An
// error without a message gets fallback.
func ErrorOf(err error, fallback func(fault.Kind) string) (*fault.Error, ErrorBody) {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = &fault.Error{Kind: fault.Internal, Err: err}
	}
	kind := fe.Kind
	if !Known(kind) {
		kind = fault.Internal
	}
	msg, details := fe.Message, fe.Details
	if msg == "" {
		msg = fallback(kind)
	}
	if kind == fault.Internal {
		msg, details = "internal error; the server log has the details", nil
	}
	return fe, ErrorBody{Error: ErrorDetail{Code: string(kind), Message: msg, Details: details}}
}

// RetryAfterSeconds is how long a rate-limited caller is told to wait.
func RetryAfterSeconds(fe *fault.Error) int {
	if v, ok := fe.Details["retry_after_seconds"].(int); ok && v > 0 {
		return v
	}
	return 1
}
