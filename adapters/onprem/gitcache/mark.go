package gitcache

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"io"
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
// every file and symbolic link of the tree is one of its entries, of the
// entry's type and executable bit, and no other file or directory exists
// outside .git. An entry's file is the one git recorded when its stat
// data are those the index holds (change time, modification time, inode,
// owner, size); for an entry git itself cannot trust by its stat data
// (modified or changed no earlier than the index was written, the file
// system's clock being coarse: git "smudges" such entries), the content
// is hashed and compared with the entry's blob, as git does. Anything it
// cannot read makes the answer false; false only means git has to look.
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
		if e.hidden || e.stage != 0 {
			return false
		}
		byPath[e.path] = e
		for d := path.Dir(e.path); !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	matched := 0
	err = walkRel(dir, func(p, rel string, d fs.DirEntry) error {
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
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !modeMatches(e, fi, st) {
			return fs.ErrInvalid
		}
		if e.before(m.written) {
			if !statMatches(e, st) {
				return fs.ErrInvalid
			}
		} else if !contentMatches(e, p, fi) {
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

// modeMatches reports whether fi (from lstat) is of the entry's type:
// a regular file with the same executable bit (core.filemode), or a
// symbolic link. A submodule never matches: git status looks inside.
func modeMatches(e *indexEntry, fi fs.FileInfo, st *syscall.Stat_t) bool {
	switch e.mode & 0o170000 {
	case 0o100000:
		return fi.Mode().IsRegular() && (e.mode&0o100 != 0) == (st.Mode&0o100 != 0)
	case 0o120000:
		return fi.Mode()&fs.ModeSymlink != 0
	}
	return false
}

// statMatches reports whether st is the stat data git recorded in e, by
// the fields git compares (core.checkStat=default, core.trustctime on).
func statMatches(e *indexEntry, st *syscall.Stat_t) bool {
	return e.ctimeSec == uint32(st.Ctim.Sec) && e.ctimeNsec == uint32(st.Ctim.Nsec) &&
		e.mtimeSec == uint32(st.Mtim.Sec) && e.mtimeNsec == uint32(st.Mtim.Nsec) &&
		e.ino == uint32(st.Ino) && e.uid == st.Uid && e.gid == st.Gid && e.size == uint32(st.Size)
}

// contentMatches reports whether the file at p (a regular file or a
// symbolic link, as fi says) holds the entry's blob: git's object ID of
// its content, or of the link's target.
func contentMatches(e *indexEntry, p string, fi fs.FileInfo) bool {
	h := sha1.New()
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return false
		}
		fmt.Fprintf(h, "blob %d\x00%s", len(target), target)
		return [sha1.Size]byte(h.Sum(nil)) == e.oid
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	fmt.Fprintf(h, "blob %d\x00", fi.Size())
	n, err := io.Copy(h, f)
	return err == nil && n == fi.Size() && [sha1.Size]byte(h.Sum(nil)) == e.oid
}

// walkRel walks the tree at root as filepath.WalkDir does, giving fn each
// entry's path and its path relative to root with forward slashes ("."
// for root); an error reading the tree ends the walk with it.
func walkRel(root string, fn func(p, rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return fn(p, filepath.ToSlash(rel), d)
	})
}
