package gitcache

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// indexMark identifies the index of a workspace as it was when the
// workspace was last known to be its commit's tree: the digest of its
// bytes and when the file was written. The zero mark marks nothing.
type indexMark struct {
	sum     [sha256.Size]byte
	written time.Time
}

// markIndex marks the index of the workspace in dir as it is now; call it
// only when the workspace is known to be clean (checked out, or checked
// by git status). An index it cannot read gets the zero mark.
func markIndex(dir string) indexMark {
	p := filepath.Join(dir, ".git", "index")
	fi, err := os.Stat(p)
	if err != nil {
		return indexMark{}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return indexMark{}
	}
	return indexMark{sum: sha256.Sum256(b), written: fi.ModTime()}
}

// unchangedSinceMark reports whether the workspace in dir is provably
// what it was when its index got mark m, without running git: the index
// is byte for byte the marked one (so it still describes the commit),
// every file and symbolic link of the tree is one of its entries with
// the same stat data git recorded (change time, modification time, inode,
// owner, size, type and executable bit), and no other file or directory
// exists outside .git. An entry git itself could not trust by its stat
// data (modified, or changed, no earlier than the index was written: the
// file system's clock is coarse) makes the answer false, as does
// anything it cannot read; false only means git status has to look.
//
// A job cannot make a changed file pass: whatever it changes moves the
// file's change time to after the index was written, and no system call
// sets it back.
func unchangedSinceMark(dir string, m indexMark) bool {
	if m.written.IsZero() {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
	if err != nil || sha256.Sum256(b) != m.sum {
		return false
	}
	entries, err := readIndex(b)
	if err != nil {
		return false
	}
	byPath := make(map[string]*indexEntry, len(entries))
	dirs := map[string]bool{".": true}
	for i := range entries {
		e := &entries[i]
		if e.hidden || e.stage != 0 || !e.before(m.written) {
			return false
		}
		byPath[e.path] = e
		for d := path.Dir(e.path); !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	matched := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			if !dirs[rel] {
				return fs.ErrExist // a directory the commit does not have
			}
			return nil
		}
		e := byPath[rel]
		if e == nil {
			return fs.ErrExist // a file the commit does not have
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !statMatches(e, fi) {
			return fs.ErrInvalid
		}
		matched++
		return nil
	})
	return err == nil && matched == len(entries)
}

// before reports whether the entry's file was modified and changed
// before t, by the times git recorded.
func (e *indexEntry) before(t time.Time) bool {
	return time.Unix(int64(e.mtimeSec), int64(e.mtimeNsec)).Before(t) &&
		time.Unix(int64(e.ctimeSec), int64(e.ctimeNsec)).Before(t)
}

// statMatches reports whether fi (from lstat) is the file git recorded
// in e, by the fields git compares (core.checkStat=default,
// core.trustctime and core.filemode on).
func statMatches(e *indexEntry, fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	switch e.mode & 0o170000 {
	case 0o100000: // a regular file, executable or not
		if !fi.Mode().IsRegular() || (e.mode&0o100 != 0) != (st.Mode&0o100 != 0) {
			return false
		}
	case 0o120000: // a symbolic link
		if fi.Mode()&fs.ModeSymlink == 0 {
			return false
		}
	default: // a submodule: git status looks inside
		return false
	}
	return e.ctimeSec == uint32(st.Ctim.Sec) && e.ctimeNsec == uint32(st.Ctim.Nsec) &&
		e.mtimeSec == uint32(st.Mtim.Sec) && e.mtimeNsec == uint32(st.Mtim.Nsec) &&
		e.ino == uint32(st.Ino) && e.uid == st.Uid && e.gid == st.Gid && e.size == uint32(st.Size)
}
