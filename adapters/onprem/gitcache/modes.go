package gitcache

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// nodeAttrs are what git does not track of a file or directory: its mode
// beyond the executable bit, owner, group and extended attributes (ACLs
// among them).
type nodeAttrs struct {
	mode     fs.FileMode
	uid, gid uint32
	xattrs   string // name NUL value NUL ..., by name
}

// checkoutModes are the attributes a checkout gives what it makes in the
// workspaces directory (umask, a set-group-ID bit or default ACL the
// directory passes on, applied): git status does not see a job's chmod,
// chgrp, ACL or extended attribute, nor a hard link.
type checkoutModes struct {
	dir        nodeAttrs // a directory git makes (mkdir 0777)
	root       nodeAttrs // a workspace's own directory (made with 0755)
	file, exec nodeAttrs // a file git writes (0666, or 0777 when executable)
}

// probePrefix starts the name of probeModes' directory (recover deletes
// one a crash left).
const probePrefix = "probe-"

// probeModes makes a directory and files in parent the way git and the
// cache make them and reads back their attributes.
func probeModes(parent string) (checkoutModes, error) {
	var m checkoutModes
	probe, err := os.MkdirTemp(parent, probePrefix+"*")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(probe)
	for _, n := range []struct {
		name string
		perm fs.FileMode
		into *nodeAttrs
	}{{"dir", 0o777 | fs.ModeDir, &m.dir}, {"root", 0o755 | fs.ModeDir, &m.root}, {"file", 0o666, &m.file}, {"exec", 0o777, &m.exec}} {
		p := filepath.Join(probe, n.name)
		if n.perm.IsDir() {
			err = os.Mkdir(p, n.perm.Perm())
		} else {
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, n.perm); err == nil {
				err = f.Close()
			}
		}
		if err != nil {
			return m, err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return m, err
		}
		if *n.into, err = attrsOf(p, fi); err != nil {
			return m, err
		}
	}
	return m, nil
}

// attrsOf reads the attributes of the file or directory at p, whose
// lstat is fi.
func attrsOf(p string, fi fs.FileInfo) (nodeAttrs, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nodeAttrs{}, errors.ErrUnsupported
	}
	x, err := xattrs(p)
	return nodeAttrs{mode: fi.Mode(), uid: st.Uid, gid: st.Gid, xattrs: x}, err
}

// xattrs lists the extended attributes of p with their values, by name;
// a file system without them has none.
func xattrs(p string) (string, error) {
	size, err := syscall.Listxattr(p, nil)
	if errors.Is(err, syscall.ENOTSUP) || err == nil && size == 0 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	list := make([]byte, size)
	if size, err = syscall.Listxattr(p, list); err != nil {
		return "", err
	}
	names := strings.Split(strings.TrimRight(string(list[:size]), "\x00"), "\x00")
	sort.Strings(names)
	var b bytes.Buffer
	for _, name := range names {
		n, err := syscall.Getxattr(p, name, nil)
		if err != nil {
			return "", err
		}
		v := make([]byte, n)
		if n, err = syscall.Getxattr(p, name, v); err != nil {
			return "", err
		}
		b.WriteString(name + "\x00")
		b.Write(v[:n])
		b.WriteByte(0)
	}
	return b.String(), nil
}

// dirPristine reports whether the directory at p (rel in its workspace,
// lstat fi) is as a checkout makes it; a gitlink's directory (a
// submodule's, which git leaves empty and does not look into) must also
// be empty.
func (m checkoutModes) dirPristine(p, rel string, fi fs.FileInfo, gitlink bool) bool {
	want := m.dir
	if rel == "." {
		want = m.root
	}
	if a, err := attrsOf(p, fi); err != nil || a != want {
		return false
	}
	if gitlink {
		f, err := os.Open(p)
		if err != nil {
			return false
		}
		defer f.Close()
		if _, err := f.Readdirnames(1); err != io.EOF {
			return false
		}
	}
	return true
}

// pristine reports whether everything git does not track in the
// workspace in dir (outside its .git) is as a checkout makes it:
// directories' and files' attributes (checkoutModes), one link per file,
// no modification time in the future, nothing in a submodule's directory
// (gitlinks: the index's gitlink paths) and no other .git anywhere (git
// neither shows nor cleans one, and the next task's git would read it).
// Together with a clean git status, it means the tree is what a fresh
// checkout shows.
func (m checkoutModes) pristine(dir string, gitlinks map[string]bool) bool {
	now := time.Now()
	err := walkRel(dir, func(p, rel string, d fs.DirEntry) error {
		if rel == ".git" && d.IsDir() {
			return filepath.SkipDir
		}
		if path.Base(rel) == ".git" {
			return fs.ErrExist
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			if !m.dirPristine(p, rel, fi, gitlinks[rel]) {
				return fs.ErrInvalid
			}
			if gitlinks[rel] {
				return filepath.SkipDir
			}
		case fi.Mode().IsRegular():
			a, err := attrsOf(p, fi)
			if err != nil || a != m.file && a != m.exec || fi.Sys().(*syscall.Stat_t).Nlink != 1 || fi.ModTime().After(now) {
				return fs.ErrInvalid
			}
		case fi.Mode()&fs.ModeSymlink == 0:
			return fs.ErrInvalid // a FIFO, socket or device
		}
		return nil
	})
	return err == nil
}

// gitlinkPaths returns the paths of the gitlink (submodule) entries.
func gitlinkPaths(entries []indexEntry) map[string]bool {
	links := map[string]bool{}
	for i := range entries {
		if entries[i].gitlink() {
			links[entries[i].path] = true
		}
	}
	return links
}
