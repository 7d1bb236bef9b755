// Package fault is the error taxonomy of Catalyst Forge. It lives in the
// domain layer: every layer returns *fault.Error (or wraps one) so that
// transports can map a kind to a status code in one table, and callers can
// read the kind with errors.As instead of comparing sentinel values.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind string

// The kinds of error the platform distinguishes.
const (
	NotFound         Kind = "not_found"
	Conflict         Kind = "conflict"
	Validation       Kind = "validation_error"
	Unauthenticated  Kind = "authentication_required"
	PermissionDenied Kind = "permission_denied"
	RateLimited      Kind = "rate_limited"
	Unavailable      Kind = "unavailable"
	Internal         Kind = "internal_error"
)

// Error is an error with a kind, a message meant for people, and optional
// structured details (for example the field that was wrong).
type Error struct {
	Kind    Kind
	Message string
	Details map[string]any
	Err     error // the underlying cause, if any
}

// Error returns the message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil && e.Message != "" {
		return e.Message + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause so errors.Is and errors.As see through an Error.
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of kind k with a message and a cause.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal
// when there is none (an unclassified error is a bug, not the caller's fault).
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Internal
}

// Is reports whether err carries kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
