package ports

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// ObjectStore keeps blobs by key: step logs, large job results, artifacts.
// Keys are slash-separated paths ("pipeline-runs/{run}/logs/..."); a key
// that is empty, over 1024 bytes, starts with "/", or holds "." or ".."
// segments, a backslash or a NUL is a Validation error. Implementations are
// safe for concurrent use.
type ObjectStore interface {
	// Put stores the content of r under key, replacing any object there.
	// Readers never see a partial object: the new content appears whole
	// when Put returns. Idempotent. Errors: Validation, Unavailable.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (ObjectInfo, error)
	// Get opens the object at key, from byte offset on (0 for all of it;
	// an offset at or past the end gives an empty body). The caller closes
	// the reader. Errors: NotFound, Validation, Unavailable.
	Get(ctx context.Context, key string, offset int64) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object at key. Errors: NotFound, Validation, Unavailable.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object at key; a missing object is not an error.
	// Errors: Validation, Unavailable.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key order,
	// after the key after (exclusive; "" from the start), at most limit of
	// them (0 means 1000), and whether more follow.
	List(ctx context.Context, prefix, after string, limit int) (objects []ObjectInfo, more bool, err error)
	// PresignGet returns a URL that lets anyone holding it download the
	// object for ttl, without other credentials. Errors: Validation,
	// Unavailable.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// PutOptions describe an object being stored.
type PutOptions struct {
	// ContentType is the media type; empty means DefaultContentType.
	ContentType string
}

// DefaultContentType is the media type of an object stored without one.
const DefaultContentType = "application/octet-stream"

// ContentTypeOrDefault checks the content type and returns it, or
// DefaultContentType when it is empty. A refusal is fault.Validation.
func (o PutOptions) ContentTypeOrDefault() (string, error) {
	if err := ValidateContentType(o.ContentType); err != nil {
		return "", err
	}
	if o.ContentType == "" {
		return DefaultContentType, nil
	}
	return o.ContentType, nil
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// MaxObjectKeyBytes is the longest object key, in bytes (S3's limit too).
const MaxObjectKeyBytes = 1024

// ValidateObjectKey checks a key against the rules of ObjectStore, so that
// every adapter agrees on what a key is: not empty, at most
// MaxObjectKeyBytes, no leading slash, no empty, "." or ".." segment, no
// backslash or NUL. A refusal is fault.Validation.
func ValidateObjectKey(key string) error {
	switch {
	case key == "":
		return fault.New(fault.Validation, "object key is empty")
	case len(key) > MaxObjectKeyBytes:
		return fault.New(fault.Validation, "object key %q… is %d bytes long, over the limit of %d", key[:32], len(key), MaxObjectKeyBytes)
	case strings.HasPrefix(key, "/"):
		return fault.New(fault.Validation, "object key %q starts with a slash", key)
	case strings.ContainsRune(key, '\\'):
		return fault.New(fault.Validation, "object key %q holds a backslash", key)
	case strings.ContainsRune(key, 0):
		return fault.New(fault.Validation, "object key %q holds a NUL byte", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fault.New(fault.Validation, "object key %q has an empty segment", key)
		case ".", "..":
			return fault.New(fault.Validation, "object key %q has a %q segment", key, seg)
		}
	}
	return nil
}

// ValidateContentType refuses content types that could not be sent back as
// an HTTP header (control characters, over 1024 bytes): fault.Validation.
func ValidateContentType(ct string) error {
	if len(ct) > 1024 {
		return fault.New(fault.Validation, "content type is %d bytes long, over the limit of 1024", len(ct))
	}
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return fault.New(fault.Validation, "content type %q holds a control character", ct)
		}
	}
	return nil
}
