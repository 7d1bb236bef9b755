package gitcache

import (
	"crypto/sha256"
	"errors"
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

// markIndex marks the index of the workspace in dir as it is now, and
// returns its entries; call it only when the workspace is known to be
// clean and git wrote its index (checked out, or checked by git status).
// An index it cannot read is an error (and the zero mark).
func markIndex(dir string) (indexMark, []indexEntry, error) {
	b, written, err := readIndexFile(filepath.Join(dir, ".git", "index"))
	if err != nil {
		return indexMark{}, nil, err
	}
	entries, err := readIndex(b)
	if err != nil {
		return indexMark{}, nil, err
	}
	return indexMark{sum: sha256.Sum256(b), written: written}, entries, nil
}

// maxIndexBytes bounds the index files read: a million entries take about
// a hundred MiB.
const maxIndexBytes = 512 << 20

// readIndexFile reads the index file at p and when it was written, if it
// is a regular file with one link and of a sane size: a job may leave a
// FIFO (reading it would block), a link or a huge file there.
func readIndexFile(p string) ([]byte, time.Time, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || !fi.Mode().IsRegular() || st.Nlink != 1 || fi.Size() > maxIndexBytes {
		return nil, time.Time{}, errors.New("not a plain index file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIndexBytes))
	return b, fi.ModTime(), err
}

// markedIndex returns the bytes of the workspace's index in dir if they
// are those marked by m; ok is false otherwise (a job wrote the index, or
// there is no mark).
func markedIndex(dir string, m indexMark) (b []byte, ok bool) {
	if m.written.IsZero() {
		return nil, false
	}
	b, _, err := readIndexFile(filepath.Join(dir, ".git", "index"))
	if err != nil || sha256.Sum256(b) != m.sum {
		return nil, false
	}
	return b, true
}

// unchangedSinceMark reports whether the workspace in dir is provably
// what it was when its index got mark m, without running git; index is
// the workspace's index, read by markedIndex (so it still describes the
// commit, as git wrote it). Every file and symbolic link of the tree must
// be one of its entries, of the entry's type and executable bit, with the
// stat data git recorded (change time, modification time, inode, owner,
// size), every directory must have the attributes a checkout gives it
// (modes; a submodule's directory, which a checkout leaves empty, must
// be empty), and no other file or directory may exist outside .git. An entry
// git itself could not trust by its stat data (modified or changed no
// earlier than the index was written: the file system's clock is coarse)
// makes the answer false, as does anything it cannot read; false only
// means git has to look (git status hashes such entries and writes an
// index that trusts them).
//
// A job cannot make a changed file pass: whatever it changes in a file
// (content, mode, links, attributes) moves the file's change time to
// after the index was written, and no system call sets it back.
func unchangedSinceMark(dir string, m indexMark, index []byte, modes checkoutModes) bool {
	entries, err := readIndex(index)
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
	err = walkRel(dir, func(p, rel string, d fs.DirEntry) error {
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			e := byPath[rel]
			gitlink := e != nil && e.gitlink()
			if !dirs[rel] && !gitlink {
				return fs.ErrExist // a directory the commit does not have
			}
			// A directory's attributes are not in the index, and their
			// change does not touch its files.
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if !modes.dirPristine(p, rel, fi, gitlink) {
				return fs.ErrInvalid
			}
			if gitlink {
				matched++
				return filepath.SkipDir
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
		if !ok || !modeMatches(e, fi, st) || !statMatches(e, st) {
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
	switch e.mode & modeType {
	case modeFile:
		return fi.Mode().IsRegular() && (e.mode&0o100 != 0) == (st.Mode&0o100 != 0)
	case modeSymlink:
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
