package gitcache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkoutModes are the modes git gives what it checks out in the
// workspaces directory (its umask, and a set-group-ID bit its directories
// inherit, applied): git does not track them, so git status does not see
// a job's chmod of a directory or a file's permissions beyond the
// executable bit, nor a hard link.
type checkoutModes struct {
	dir        fs.FileMode // a directory git makes (mkdir 0777)
	root       fs.FileMode // a workspace's own directory (made with 0755)
	file, exec fs.FileMode // a file git writes (0666, or 0777 when executable)
}

// probeModes makes a directory and files in parent the way git and the
// cache make them and reads back their modes.
func probeModes(parent string) (checkoutModes, error) {
	var m checkoutModes
	probe, err := os.MkdirTemp(parent, "probe-*")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(probe)
	mode := func(p string) fs.FileMode {
		if fi, err2 := os.Lstat(p); err2 == nil {
			return fi.Mode()
		} else if err == nil {
			err = err2
		}
		return 0
	}
	for _, d := range []struct {
		name string
		perm fs.FileMode
		into *fs.FileMode
	}{{"dir", 0o777, &m.dir}, {"root", 0o755, &m.root}} {
		if err := os.Mkdir(filepath.Join(probe, d.name), d.perm); err != nil {
			return m, err
		}
		*d.into = mode(filepath.Join(probe, d.name))
	}
	for _, f := range []struct {
		name string
		perm fs.FileMode
		into *fs.FileMode
	}{{"file", 0o666, &m.file}, {"exec", 0o777, &m.exec}} {
		fh, err := os.OpenFile(filepath.Join(probe, f.name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, f.perm)
		if err != nil {
			return m, err
		}
		fh.Close()
		*f.into = mode(filepath.Join(probe, f.name))
	}
	return m, err
}

// pristine reports whether everything git does not track in the
// workspace in dir (outside .git) is as a checkout makes it: the
// directories' modes, the files' modes, one link per file. Together with
// a clean git status, it means the tree is what a fresh checkout shows.
func (m checkoutModes) pristine(dir string) bool {
	err := walkRel(dir, func(_, rel string, d fs.DirEntry) error {
		if rel == ".git" && d.IsDir() {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		switch {
		case !ok:
			return errors.ErrUnsupported
		case rel == ".":
			if fi.Mode() != m.root {
				return fs.ErrInvalid
			}
		case fi.IsDir():
			if fi.Mode() != m.dir {
				return fs.ErrInvalid
			}
		case fi.Mode().IsRegular():
			if fi.Mode() != m.file && fi.Mode() != m.exec || st.Nlink != 1 {
				return fs.ErrInvalid
			}
		case fi.Mode()&fs.ModeSymlink == 0:
			return fs.ErrInvalid // a FIFO, socket or device
		}
		return nil
	})
	return err == nil
}
