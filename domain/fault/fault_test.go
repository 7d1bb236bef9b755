package fault_test

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestKindValues(t *testing.T) {
	// The kind strings are a wire contract: transports send them as is.
	tests := []struct {
		kind fault.Kind
		want string
	}{
		{fault.NotFound, "not_found"},
		{fault.Conflict, "conflict"},
		{fault.Validation, "validation_error"},
		{fault.Unauthenticated, "authentication_required"},
		{fault.PermissionDenied, "permission_denied"},
		{fault.RateLimited, "rate_limited"},
		{fault.Unavailable, "unavailable"},
		{fault.Internal, "internal_error"},
	}
	seen := map[fault.Kind]bool{}
	for _, tt := range tests {
		if string(tt.kind) != tt.want {
			t.Errorf("kind %q, want %q", tt.kind, tt.want)
		}
		if seen[tt.kind] {
			t.Errorf("kind %q defined twice", tt.kind)
		}
		seen[tt.kind] = true
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		kind   fault.Kind
		format string
		args   []any
		want   string
	}{
		{"plain", fault.NotFound, "project not found", nil, "project not found"},
		{"formatted", fault.Validation, "field %q: %d is too large", []any{"replicas", 500}, `field "replicas": 500 is too large`},
		{"empty", fault.Internal, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fault.New(tt.kind, tt.format, tt.args...)
			if e.Kind != tt.kind {
				t.Errorf("Kind = %q, want %q", e.Kind, tt.kind)
			}
			if e.Message != tt.want || e.Error() != tt.want {
				t.Errorf("Message = %q, Error() = %q, want %q", e.Message, e.Error(), tt.want)
			}
			if e.Err != nil || e.Unwrap() != nil {
				t.Errorf("New has a cause: %v", e.Err)
			}
			if e.Details != nil {
				t.Errorf("New has details: %v", e.Details)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	cause := errors.New("connection refused")
	tests := []struct {
		name   string
		err    *fault.Error
		kind   fault.Kind
		want   string
		wantIs error
	}{
		{"message and cause", fault.Wrap(fault.Unavailable, cause, "reading %s", "bucket"), fault.Unavailable, "reading bucket: connection refused", cause},
		{"cause only", fault.Wrap(fault.Unavailable, cause, ""), fault.Unavailable, "connection refused", cause},
		{"nil cause", fault.Wrap(fault.Conflict, nil, "already exists"), fault.Conflict, "already exists", nil},
		{"sentinel cause", fault.Wrap(fault.Internal, io.ErrUnexpectedEOF, "decoding"), fault.Internal, "decoding: unexpected EOF", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Kind != tt.kind {
				t.Errorf("Kind = %q, want %q", tt.err.Kind, tt.kind)
			}
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.err.Unwrap() != tt.wantIs {
				t.Errorf("Unwrap() = %v, want %v", tt.err.Unwrap(), tt.wantIs)
			}
			if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.wantIs)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		e    *fault.Error
		want string
	}{
		{"zero", &fault.Error{}, ""},
		{"message", &fault.Error{Kind: fault.NotFound, Message: "gone"}, "gone"},
		{"cause", &fault.Error{Err: errors.New("boom")}, "boom"},
		{"both", &fault.Error{Message: "saving", Err: errors.New("boom")}, "saving: boom"},
		{"nested", fault.Wrap(fault.Unavailable, fault.New(fault.NotFound, "key k"), "get"), "get: key k"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%s: Error() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestKindOf(t *testing.T) {
	notFound := fault.New(fault.NotFound, "release r1")
	tests := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"nil", nil, ""},
		{"plain error", errors.New("boom"), fault.Internal},
		{"plain wrapped error", fmt.Errorf("ctx: %w", io.EOF), fault.Internal},
		{"fault error", notFound, fault.NotFound},
		{"each kind survives", fault.New(fault.RateLimited, "slow down"), fault.RateLimited},
		{"wrapped once", fmt.Errorf("loading: %w", notFound), fault.NotFound},
		{"wrapped twice", fmt.Errorf("cli: %w", fmt.Errorf("loading: %w", notFound)), fault.NotFound},
		{"formatted with %v loses the kind", fmt.Errorf("loading: %v", notFound), fault.Internal},
		{"wrap of a plain error", fault.Wrap(fault.Validation, errors.New("bad"), "config"), fault.Validation},
		{"outermost fault wins", fault.Wrap(fault.Unavailable, notFound, "store"), fault.Unavailable},
		{"outermost fault wins through fmt", fmt.Errorf("x: %w", fault.Wrap(fault.PermissionDenied, notFound, "")), fault.PermissionDenied},
		{"joined errors", errors.Join(errors.New("plain"), fault.New(fault.Conflict, "taken")), fault.Conflict},
		{"multiple %w", fmt.Errorf("%w and %w", io.EOF, fault.New(fault.Unauthenticated, "login")), fault.Unauthenticated},
		{"empty kind is kept", &fault.Error{Message: "no kind"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestIs(t *testing.T) {
	wrapped := fmt.Errorf("api: %w", fault.New(fault.NotFound, "missing"))
	tests := []struct {
		name string
		err  error
		kind fault.Kind
		want bool
	}{
		{"nil is not internal", nil, fault.Internal, false},
		{"nil is not the empty kind", nil, "", false},
		{"plain error is internal", errors.New("boom"), fault.Internal, true},
		{"plain error is not not-found", errors.New("boom"), fault.NotFound, false},
		{"matching kind", fault.New(fault.Conflict, "x"), fault.Conflict, true},
		{"other kind", fault.New(fault.Conflict, "x"), fault.NotFound, false},
		{"wrapped matching kind", wrapped, fault.NotFound, true},
		{"wrapped other kind", wrapped, fault.Internal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.Is(tt.err, tt.kind); got != tt.want {
				t.Errorf("Is(%v, %q) = %v, want %v", tt.err, tt.kind, got, tt.want)
			}
		})
	}
}

func TestErrorsAsThroughWrapping(t *testing.T) {
	orig := fault.New(fault.Validation, "field %q is wrong", "name")
	orig.Details = map[string]any{"field": "name"}
	cause := errors.New("underlying")
	orig.Err = cause
	tests := []struct {
		name string
		err  error
	}{
		{"direct", orig},
		{"one %w", fmt.Errorf("validate: %w", orig)},
		{"two %w", fmt.Errorf("cli: %w", fmt.Errorf("validate: %w", orig))},
		{"joined", errors.Join(io.EOF, orig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe *fault.Error
			if !errors.As(tt.err, &fe) {
				t.Fatalf("errors.As(%v, *fault.Error) = false", tt.err)
			}
			if fe != orig {
				t.Errorf("errors.As found %p, want the original %p", fe, orig)
			}
			if fe.Kind != fault.Validation || fe.Message != `field "name" is wrong` {
				t.Errorf("found %+v", fe)
			}
			if !reflect.DeepEqual(fe.Details, map[string]any{"field": "name"}) {
				t.Errorf("Details = %v", fe.Details)
			}
			if !errors.Is(tt.err, cause) {
				t.Errorf("errors.Is(%v, cause) = false", tt.err)
			}
		})
	}
}

func TestErrorIsAnError(t *testing.T) {
	var err error = fault.New(fault.NotFound, "x")
	if err.Error() != "x" {
		t.Errorf("Error() = %q", err.Error())
	}
	var fe *fault.Error
	if errors.As(errors.New("plain"), &fe) {
		t.Error("errors.As found a *fault.Error in a plain error")
	}
}
