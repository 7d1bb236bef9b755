package gitcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
)

// Flags of an index entry that make git status skip its file: a job can
// set them (git update-index --assume-unchanged, --skip-worktree, git
// sparse-checkout) and hide what it changed.
const (
	indexAssumeValid  = 0x8000 // in the entry's flags
	indexExtended     = 0x4000 // in the entry's flags: extended flags follow (v3+)
	indexSkipWorktree = 0x4000 // in the extended flags
)

// indexHidesFiles reports whether the git index at path has an entry that
// git status would not look at (assume-unchanged or skip-worktree). An
// index it cannot read counts as hiding files.
func indexHidesFiles(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	hides, err := scanIndex(b)
	return err != nil || hides
}

// scanIndex walks the entries of a SHA-1 git index (versions 2 to 4).
func scanIndex(b []byte) (bool, error) {
	if len(b) < 12 || !bytes.Equal(b[:4], []byte("DIRC")) {
		return false, errors.New("not a git index")
	}
	version := binary.BigEndian.Uint32(b[4:8])
	if version < 2 || version > 4 {
		return false, errors.New("unknown index version")
	}
	count := binary.BigEndian.Uint32(b[8:12])
	const fixed = 62 // stat fields, object ID, flags
	off := 12
	for range count {
		start := off
		if off+fixed > len(b) {
			return false, errors.New("truncated index")
		}
		flags := binary.BigEndian.Uint16(b[off+60 : off+62])
		off += fixed
		if flags&indexAssumeValid != 0 {
			return true, nil
		}
		if flags&indexExtended != 0 {
			if version < 3 || off+2 > len(b) {
				return false, errors.New("bad extended flags")
			}
			if binary.BigEndian.Uint16(b[off:off+2])&indexSkipWorktree != 0 {
				return true, nil
			}
			off += 2
		}
		if version == 4 {
			// A varint (bytes of the previous path to drop), then the
			// rest of the path up to a NUL; no padding.
			for off < len(b) && b[off]&0x80 != 0 {
				off++
			}
			off++
			end := bytes.IndexByte(b[min(off, len(b)):], 0)
			if end < 0 {
				return false, errors.New("truncated index")
			}
			off += end + 1
			continue
		}
		end := bytes.IndexByte(b[off:], 0)
		if end < 0 {
			return false, errors.New("truncated index")
		}
		off += end
		// One to eight NULs pad the entry to a multiple of eight bytes.
		off = start + (off-start+8)&^7
		if off > len(b) {
			return false, errors.New("truncated index")
		}
	}
	return false, nil
}
