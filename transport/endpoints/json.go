package endpoints

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
)

// MaxBodyBytes bounds a request body, over every transport.
const MaxBodyBytes = 1 << 20

// TooLarge is the error for a body over MaxBodyBytes.
func TooLarge() error {
	return &fault.Error{Kind: fault.Validation, Message: fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes)}
}

// DecodeJSON reads one JSON object from body into v, strictly: unknown
// fields, wrong types, trailing data, bodies over MaxBodyBytes, keys given
// twice or in another case, and strings that are not text are validation
// errors that name the field.
func DecodeJSON(body []byte, v any) error {
	if len(body) > MaxBodyBytes {
		return TooLarge()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &fault.Error{Kind: fault.Validation, Message: "the body must hold exactly one JSON object"}
	}
	return checkBodyText(body, deref(reflect.TypeOf(v)))
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &fault.Error{Kind: fault.Validation, Message: "the body must be a JSON object, not " + typeErr.Value}
		}
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field},
			Message: fmt.Sprintf("field %s must be %s, not %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &fault.Error{Kind: fault.Validation, Message: "the body is not valid JSON (at byte " + strconv.FormatInt(syntaxErr.Offset, 10) + ")"}
	case errors.Is(err, io.EOF):
		return &fault.Error{Kind: fault.Validation, Message: "the body is empty; a JSON object is required"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &fault.Error{Kind: fault.Validation, Message: "the body ends in the middle of its JSON"}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ := strconv.Unquote(f)
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": name}, Message: "unknown field " + f}
	}
	return &fault.Error{Kind: fault.Validation, Message: "the body cannot be read as JSON: " + err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "a " + goKind
}
