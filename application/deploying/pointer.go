package deploying

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

// MaxPointerBytes bounds a pointer file: a pointer is a few hundred bytes.
const MaxPointerBytes = 64 << 10

// EncodePointer writes a pointer as the YAML of its file, fields in spec
// 01's order: the same pointer always gives the same bytes.
func EncodePointer(p release.Pointer) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the release pointer")
	}
	if err := enc.Close(); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the release pointer")
	}
	return buf.Bytes(), nil
}

// ParsePointer reads a pointer file strictly: one YAML document of at
// most MaxPointerBytes, no field the ReleasePointer does not have, and
// what release.Pointer.Validate checks (dir is the pointer's directory,
// or "" when unknown). Errors: Validation, saying what is wrong.
func ParsePointer(b []byte, dir string) (*release.Pointer, error) {
	if len(b) > MaxPointerBytes {
		return nil, fault.New(fault.Validation, "release pointer: %d bytes, over the limit of %d", len(b), MaxPointerBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p release.Pointer
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fault.New(fault.Validation, "release pointer: the file is empty")
		}
		return nil, fault.Wrap(fault.Validation, err, "release pointer: not a ReleasePointer")
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fault.New(fault.Validation, "release pointer: the file holds more than one document")
	}
	if err := p.Validate(dir); err != nil {
		return nil, err
	}
	return &p, nil
}
