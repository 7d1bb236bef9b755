package gitcache

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Flags of an index entry that make git status skip its file: a job can
// set them (git update-index --assume-unchanged, --skip-worktree, git
// sparse-checkout) and hide what it changed.
const (
	indexAssumeValid  = 0x8000 // in the entry's flags
	indexExtended     = 0x4000 // in the entry's flags: extended flags follow (v3+)
	indexSkipWorktree = 0x4000 // in the extended flags
)

// indexEntry is one entry of a git index: its path and the file's stat
// data as git recorded it (each field cut to 32 bits, as git stores it).
type indexEntry struct {
	path                string
	ctimeSec, ctimeNsec uint32
	mtimeSec, mtimeNsec uint32
	ino, mode, uid, gid uint32
	size                uint32
	oid                 [20]byte // the blob's SHA-1
	hidden              bool     // assume-unchanged or skip-worktree
	stage               uint16
}

// Entry types, in the top bits of an entry's mode.
const (
	modeType    = 0o170000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeGitlink = 0o160000 // a submodule's commit
)

// gitlink reports whether the entry is a submodule's commit.
func (e *indexEntry) gitlink() bool { return e.mode&modeType == modeGitlink }

// readIndex reads the entries of a SHA-1 git index (versions 2 to 4).
func readIndex(b []byte) ([]indexEntry, error) {
	if len(b) < 12 || !bytes.Equal(b[:4], []byte("DIRC")) {
		return nil, errors.New("not a git index")
	}
	version := binary.BigEndian.Uint32(b[4:8])
	if version < 2 || version > 4 {
		return nil, errors.New("unknown index version")
	}
	count := binary.BigEndian.Uint32(b[8:12])
	const fixed = 62 // stat fields, object ID, flags
	entries := make([]indexEntry, 0, min(int(count), len(b)/fixed))
	word := func(at int) uint32 { return binary.BigEndian.Uint32(b[at : at+4]) }
	off := 12
	prev := ""
	for range count {
		start := off
		if off+fixed > len(b) {
			return nil, errors.New("truncated index")
		}
		e := indexEntry{
			ctimeSec: word(off), ctimeNsec: word(off + 4), mtimeSec: word(off + 8), mtimeNsec: word(off + 12),
			ino: word(off + 20), mode: word(off + 24), uid: word(off + 28), gid: word(off + 32), size: word(off + 36),
		}
		copy(e.oid[:], b[off+40:off+60])
		flags := binary.BigEndian.Uint16(b[off+60 : off+62])
		e.stage = flags >> 12 & 3
		e.hidden = flags&indexAssumeValid != 0
		off += fixed
		if flags&indexExtended != 0 {
			if version < 3 || off+2 > len(b) {
				return nil, errors.New("bad extended flags")
			}
			e.hidden = e.hidden || binary.BigEndian.Uint16(b[off:off+2])&indexSkipWorktree != 0
			off += 2
		}
		if version == 4 {
			// A varint (bytes of the previous path to drop), then the
			// rest of the path up to a NUL; no padding.
			drop, n := 0, 0
			for {
				if off >= len(b) || n > 4 {
					return nil, errors.New("truncated index")
				}
				c := b[off]
				off++
				drop = drop<<7 | int(c&0x7f)
				if c&0x80 == 0 {
					break
				}
				drop++ // git's offset varint: each continuation adds one
				n++
			}
			end := bytes.IndexByte(b[off:], 0)
			if end < 0 || drop > len(prev) {
				return nil, errors.New("truncated index")
			}
			e.path = prev[:len(prev)-drop] + string(b[off:off+end])
			off += end + 1
		} else {
			end := bytes.IndexByte(b[off:], 0)
			if end < 0 {
				return nil, errors.New("truncated index")
			}
			e.path = string(b[off : off+end])
			off += end
			// One to eight NULs pad the entry to a multiple of eight bytes.
			off = start + (off-start+8)&^7
			if off > len(b) {
				return nil, errors.New("truncated index")
			}
		}
		prev = e.path
		entries = append(entries, e)
	}
	return entries, nil
}
