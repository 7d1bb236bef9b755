package endpoints

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
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

// checkBodyText walks a JSON body that has already decoded into a value of
// type typ without error and refuses the first key or string that is not
// text. encoding/json quietly turns invalid UTF-8 and unpaired surrogate
// escapes (\ud800) into U+FFFD, so the raw bytes of each token are checked,
// not the decoded value. It also refuses what encoding/json lets through
// silently in keys: a key given twice (the last one won) and a key whose
// case differs from the field's ("Repository", which it matches
// case-insensitively).
func checkBodyText(body []byte, root reflect.Type) error {
	type frame struct {
		object  bool
		typ     reflect.Type      // the container's Go type, nil when unknown
		seen    map[string]string // in an object, the keys read, by lower case
		path    string            // the container's path
		key     string            // in an object, the last key read
		wantKey bool              // in an object, whether the next string is a key
		index   int               // in an array, the index of the next element
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
			field := joinField(top.path, s)
			if err := CheckText(field, "field "+field, s, raw); err != nil {
				return err
			}
			if err := checkKey(top.typ, top.seen, top.path, s); err != nil {
				return err
			}
			top.seen[strings.ToLower(s)] = s
			top.key, top.wantKey = s, false
			continue
		}
		path := ""
		var typ reflect.Type
		switch {
		case top == nil:
			typ = root
		case top.object:
			path = joinField(top.path, top.key)
			typ = childType(top.typ, top.key)
		default:
			path = top.path + "[" + strconv.Itoa(top.index) + "]"
			typ = childType(top.typ, "")
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, &frame{object: t == '{', typ: typ, seen: map[string]string{}, path: path, wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				continue
			}
			top = stack[len(stack)-1]
		case string:
			if err := CheckText(path, "field "+path, t, raw); err != nil {
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

// checkKey refuses key in an object of type typ (nil when unknown) whose
// keys so far are seen: a repeated key, or one spelt in another case than
// the struct field's JSON name.
func checkKey(typ reflect.Type, seen map[string]string, path, key string) error {
	field := joinField(path, key)
	if first, ok := seen[strings.ToLower(key)]; ok {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field},
			Message: "field " + joinField(path, first) + " is given twice; give it once"}
	}
	if typ == nil || typ.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < typ.NumField(); i++ {
		name := jsonName(typ.Field(i))
		if name != key && strings.EqualFold(name, key) {
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field},
				Message: "unknown field " + strconv.Quote(key) + " (field names are case-sensitive: " + joinField(path, name) + ")"}
		}
	}
	return nil
}

// jsonName is the name encoding/json gives a struct field.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// childType is the Go type of the value at key of an object of type typ,
// or of an element of an array or map of type typ (key ""); nil when
// unknown.
func childType(typ reflect.Type, key string) reflect.Type {
	if typ == nil {
		return nil
	}
	switch typ.Kind() {
	case reflect.Struct:
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); jsonName(f) == key {
				return deref(f.Type)
			}
		}
		return nil
	case reflect.Slice, reflect.Array, reflect.Map:
		return deref(typ.Elem())
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// CheckText refuses s unless it is text. raw is the input s was read from
// (a JSON token with its escapes, or the unescaped URL text); field goes in
// details.field and what names it in the message.
func CheckText(field, what, s string, raw []byte) error {
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
