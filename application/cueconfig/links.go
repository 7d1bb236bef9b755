package cueconfig

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
)

// LinkOnPath returns the first element of name (a slash-separated path in
// fsys), from the root down, that is a symbolic link, or "" when there is
// none. Configuration is never read through a link: a link can lead out of
// the repository, and os.DirFS follows it wherever it goes. An element that
// does not exist ends the check; reading it reports the error.
func LinkOnPath(fsys fs.FS, name string) (string, error) {
	if name == "." || name == "" {
		return "", nil
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := path.Join(parts[:i+1]...)
		link, err := isLink(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if link {
			return p, nil
		}
	}
	return "", nil
}

// isLink reports whether name itself is a symbolic link, without following
// it: with Lstat where fsys has it, otherwise from its parent's listing.
func isLink(fsys fs.FS, name string) (bool, error) {
	if rl, ok := fsys.(fs.ReadLinkFS); ok {
		st, err := rl.Lstat(name)
		if err != nil {
			return false, err
		}
		return st.Mode()&fs.ModeSymlink != 0, nil
	}
	entries, err := fs.ReadDir(fsys, path.Dir(name))
	if err != nil {
		return false, err
	}
	base := path.Base(name)
	for _, e := range entries {
		if e.Name() == base {
			return e.Type()&fs.ModeSymlink != 0, nil
		}
	}
	return false, fs.ErrNotExist
}

// linkProblem reports a symbolic link found on the way to configuration.
func linkProblem(link string) config.Problem {
	return config.Errorf(config.Position{File: link},
		"%s is a symbolic link: forge never reads configuration through a link, which can lead out of the repository; put the directory or file itself there", link)
}

// noLinks returns a problem when a link is on the way to name.
func noLinks(fsys fs.FS, name string) config.Problems {
	link, err := LinkOnPath(fsys, name)
	if err != nil {
		return config.Problems{config.Errorf(config.Position{File: name}, "cannot read %s: %v", name, err)}
	}
	if link != "" {
		return config.Problems{linkProblem(link)}
	}
	return nil
}
