package fsblob

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxNameLen is the longest file name most filesystems take (NAME_MAX).
const maxNameLen = 255

// Suffixes of the names in the object tree. A name is classified by what
// follows its last dot, so no segment can be mistaken for another kind.
const (
	dirSuffix        = ".d"
	leafSuffix       = ".o"
	hashedDirSuffix  = ".hd"
	hashedLeafSuffix = ".ho"
	tempSuffix       = ".tmp"
)

// objectPath returns the path of key's file relative to the object tree,
// and the path of its directory ("" for the top).
func objectPath(key string) (dir, file string) {
	segs := strings.Split(key, "/")
	names := make([]string, len(segs))
	for i, seg := range segs[:len(segs)-1] {
		names[i] = dirName(seg)
	}
	names[len(segs)-1] = leafName(segs[len(segs)-1])
	dir = strings.Join(names[:len(names)-1], "/")
	return dir, strings.Join(names, "/")
}

func dirName(seg string) string {
	if len(seg)+len(dirSuffix) > maxNameLen {
		return hashName(seg) + hashedDirSuffix
	}
	return seg + dirSuffix
}

func leafName(seg string) string {
	if len(seg)+len(leafSuffix) > maxNameLen {
		return hashName(seg) + hashedLeafSuffix
	}
	return seg + leafSuffix
}

func hashName(seg string) string {
	sum := sha256.Sum256([]byte(seg))
	return hex.EncodeToString(sum[:])
}

// entryKind is what a name in the object tree holds.
type entryKind int

const (
	otherEntry entryKind = iota // temporary or foreign: never listed
	dirEntry
	leafEntry
	hashedDirEntry
	hashedLeafEntry
)

// classify returns what name holds and, for plain entries, its segment.
func classify(name string) (entryKind, string) {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 {
		return otherEntry, ""
	}
	switch name[dot:] {
	case dirSuffix:
		return dirEntry, name[:dot]
	case leafSuffix:
		return leafEntry, name[:dot]
	case hashedDirSuffix:
		return hashedDirEntry, ""
	case hashedLeafSuffix:
		return hashedLeafEntry, ""
	}
	return otherEntry, ""
}

// An object file is magic, a big-endian uint32 length, a JSON header of
// that length, and the content.
const (
	magic        = "FSBLOB\x00\x01"
	prefixLen    = len(magic) + 4
	maxHeaderLen = 64 << 10
)

// header is the metadata kept at the start of an object file.
type header struct {
	Key         string `json:"key"`
	ContentType string `json:"contentType"`
}

// encodeHeader returns the bytes that start the file of an object.
func encodeHeader(h header) []byte {
	meta, _ := json.Marshal(h) // two strings: cannot fail
	b := make([]byte, prefixLen, prefixLen+len(meta))
	copy(b, magic)
	binary.BigEndian.PutUint32(b[len(magic):], uint32(len(meta)))
	return append(b, meta...)
}

// errCorrupt marks an object file that does not start with a valid header.
var errCorrupt = errors.New("not an fsblob object file")

// readHeader reads the header at the start of r and returns it with the
// offset of the content.
func readHeader(r io.Reader) (header, int64, error) {
	var pre [prefixLen]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return header{}, 0, errCorrupt
		}
		return header{}, 0, err
	}
	if string(pre[:len(magic)]) != magic {
		return header{}, 0, errCorrupt
	}
	n := binary.BigEndian.Uint32(pre[len(magic):])
	if n > maxHeaderLen {
		return header{}, 0, fmt.Errorf("%w: header of %d bytes", errCorrupt, n)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(r, meta); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return header{}, 0, errCorrupt
		}
		return header{}, 0, err
	}
	var h header
	if err := json.Unmarshal(meta, &h); err != nil {
		return header{}, 0, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return h, int64(prefixLen) + int64(n), nil
}
