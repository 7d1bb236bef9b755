package discovering

import (
	"context"
	"io"
	"io/fs"
	"path"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/application/discovering/gitignore"
	"github.com/catalyst-forge/forge/domain/config"
)

// maxIgnoreFileBytes bounds a .gitignore file; a larger one is skipped
// with a warning rather than read into memory.
const maxIgnoreFileBytes = 1 << 20

// walker finds the directories that hold a `.forge/project.cue` and hands
// each to found as soon as it is seen, so loading overlaps the walk.
type walker struct {
	fsys     fs.FS
	found    func(dir string)
	problems config.Problems
}

// walk visits dir (slash-separated, "." for the root) and everything below
// it that no .gitignore excludes, never following symbolic links.
func (w *walker) walk(ctx context.Context, dir string, ignores *gitignore.Stack) {
	if ctx.Err() != nil {
		return
	}
	entries, err := fs.ReadDir(w.fsys, dir)
	if err != nil {
		w.problems = append(w.problems, config.Errorf(config.Position{File: dir}, "cannot read directory: %v", err))
		return
	}
	rel := func(name string) string {
		if dir == "." {
			return name
		}
		return dir + "/" + name
	}
	for _, e := range entries {
		if e.Name() == ".gitignore" && e.Type().IsRegular() {
			ignoreDir := dir
			if dir == "." {
				ignoreDir = ""
			}
			if content, ok := w.readIgnore(rel(e.Name())); ok {
				ignores = ignores.Push(gitignore.Parse(ignoreDir, content))
			}
			break
		}
	}
	for _, e := range entries {
		if !e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			if e.Name() == cueconfig.ForgeDir && e.Type()&fs.ModeSymlink != 0 {
				w.problems = append(w.problems, config.Warnf(config.Position{File: rel(e.Name())},
					"skipped: %s is a symbolic link, and discovery never follows links", rel(e.Name())))
			}
			continue
		}
		name, p := e.Name(), rel(e.Name())
		if name == ".git" || ignores.Ignored(p, true) {
			continue
		}
		if name == cueconfig.ForgeDir {
			w.forgeDir(dir, p)
			continue
		}
		w.walk(ctx, p, ignores)
	}
}

// forgeDir records dir as a project when its .forge holds a project.cue
// file and no .forge directory nested inside it, which is an error.
func (w *walker) forgeDir(dir, forge string) {
	entries, err := fs.ReadDir(w.fsys, forge)
	if err != nil {
		w.problems = append(w.problems, config.Errorf(config.Position{File: forge}, "cannot read directory: %v", err))
		return
	}
	isProject := false
	for _, e := range entries {
		switch {
		case e.Name() != cueconfig.ProjectFile:
		case e.Type().IsRegular():
			isProject = true
		case e.Type()&fs.ModeSymlink != 0:
			w.problems = append(w.problems, config.Warnf(config.Position{File: path.Join(forge, e.Name())},
				"skipped: project.cue is a symbolic link, and discovery never follows links"))
		}
	}
	nested := false
	_ = fs.WalkDir(w.fsys, forge, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == forge || !d.IsDir() {
			return nil
		}
		if d.Name() == cueconfig.ForgeDir {
			nested = true
			w.problems = append(w.problems, config.Errorf(config.Position{File: p},
				"nested .forge directory inside %s: .forge directories cannot be nested; the project is skipped", forge))
			return fs.SkipDir
		}
		return nil
	})
	if isProject && !nested {
		w.found(dir)
	}
}

func (w *walker) readIgnore(name string) ([]byte, bool) {
	f, err := w.fsys.Open(name)
	if err != nil {
		w.problems = append(w.problems, config.Warnf(config.Position{File: name}, "cannot read: %v", err))
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIgnoreFileBytes+1))
	if err != nil || len(b) > maxIgnoreFileBytes {
		w.problems = append(w.problems, config.Warnf(config.Position{File: name}, "skipped: unreadable or larger than %d bytes", maxIgnoreFileBytes))
		return nil, false
	}
	return b, true
}
