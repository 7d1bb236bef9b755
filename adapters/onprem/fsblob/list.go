package fsblob

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// defaultListLimit is the page size of a List with limit 0.
const defaultListLimit = 1000

// List returns the objects whose keys start with prefix, after the key
// after, in byte-wise key order. The ContentType of each is filled.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]ports.ObjectInfo, bool, error) {
	if limit < 0 {
		return nil, false, fault.New(fault.Validation, "fsblob: negative list limit %d", limit)
	}
	if limit == 0 {
		limit = defaultListLimit
	}
	w := &walker{s: s, ctx: ctx, prefix: prefix, after: after, want: limit + 1}
	if err := w.walk("", ""); err != nil {
		return nil, false, err
	}
	if len(w.out) > limit {
		return w.out[:limit], true, nil
	}
	return w.out, false, nil
}

// walker visits the object tree in key order, collecting up to want
// objects under prefix and after after.
type walker struct {
	s      *Store
	ctx    context.Context
	prefix string
	after  string
	want   int
	out    []ports.ObjectInfo
}

// item is one entry of a directory, ordered by sortKey: the key of an
// object, or the key prefix ("a/b/") that every object below a directory
// shares. Keys with a prefix form one contiguous range in key order, so
// visiting items in this order visits keys in order.
type item struct {
	sortKey string
	path    string
	leaf    bool
}

// walk visits the directory dir (relative to the tree; "" for its top),
// whose objects' keys all start with keyPrefix.
func (w *walker) walk(dir, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return fault.Wrap(fault.Unavailable, err, "fsblob: list")
	}
	items, err := w.s.readItems(dir, keyPrefix)
	if err != nil {
		return err
	}
	for _, it := range items {
		if len(w.out) >= w.want {
			return nil
		}
		if it.leaf {
			if !strings.HasPrefix(it.sortKey, w.prefix) || it.sortKey <= w.after {
				continue
			}
			info, ok, err := w.s.statFile(it.path)
			if err != nil {
				return err
			}
			if ok && info.Key == it.sortKey {
				w.out = append(w.out, info)
			}
			continue
		}
		// Every key below the directory starts with sortKey: skip the
		// directory when that range misses the prefix or ends before after.
		if !strings.HasPrefix(it.sortKey, w.prefix) && !strings.HasPrefix(w.prefix, it.sortKey) {
			continue
		}
		if it.sortKey < w.after && !strings.HasPrefix(w.after, it.sortKey) {
			continue
		}
		if err := w.walk(it.path, it.sortKey); err != nil {
			return err
		}
	}
	return nil
}

// readItems reads the directory dir, whose keys start with keyPrefix, into
// items in key order. Temporary files, symlinks and foreign names are left
// out; a directory that a Delete removed meanwhile is empty.
func (s *Store) readItems(dir, keyPrefix string) ([]item, error) {
	entries, err := s.readDir(dir)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		p := path.Join(dir, e.name)
		switch kind, seg := classify(e.name); {
		case kind == leafEntry && e.regular:
			items = append(items, item{sortKey: keyPrefix + seg, path: p, leaf: true})
		case kind == dirEntry && e.dir:
			items = append(items, item{sortKey: keyPrefix + seg + "/", path: p})
		case kind == hashedLeafEntry && e.regular:
			// A segment too long for a name: its key is in the header.
			info, ok, err := s.statFile(p)
			if err != nil {
				return nil, err
			}
			if ok && isChild(info.Key, keyPrefix) {
				items = append(items, item{sortKey: info.Key, path: p, leaf: true})
			}
		case kind == hashedDirEntry && e.dir:
			// Its segment is in the key of any object below it.
			key, err := s.anyKey(p)
			if err != nil {
				return nil, err
			}
			if seg, ok := strings.CutPrefix(key, keyPrefix); ok {
				if i := strings.IndexByte(seg, '/'); i > 0 {
					items = append(items, item{sortKey: keyPrefix + seg[:i+1], path: p})
				}
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.sortKey, b.sortKey) })
	return items, nil
}

// isChild reports whether key is directly in the directory of keyPrefix.
func isChild(key, keyPrefix string) bool {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// anyKey returns the key of some object below dir, or "" when there is none.
func (s *Store) anyKey(dir string) (string, error) {
	entries, err := s.readDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		p := path.Join(dir, e.name)
		switch kind, _ := classify(e.name); {
		case (kind == leafEntry || kind == hashedLeafEntry) && e.regular:
			info, ok, err := s.statFile(p)
			if err != nil {
				return "", err
			}
			if ok {
				return info.Key, nil
			}
		case (kind == dirEntry || kind == hashedDirEntry) && e.dir:
			key, err := s.anyKey(p)
			if key != "" || err != nil {
				return key, err
			}
		}
	}
	return "", nil
}

// entry is a name in a directory of the tree, with what it is. Symlinks
// are neither regular files nor directories.
type entry struct {
	name    string
	regular bool
	dir     bool
}

func (s *Store) readDir(dir string) ([]entry, error) {
	if dir == "" {
		dir = "."
	}
	if err := s.checkNoSymlinks(dir); err != nil {
		return nil, err
	}
	d, err := s.root.Open(dir)
	if err != nil {
		if notExist(err) {
			return nil, nil
		}
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: listing %s", dir)
	}
	defer func() { _ = d.Close() }()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: listing %s", dir)
	}
	entries := make([]entry, len(des))
	for i, de := range des {
		entries[i] = entry{name: de.Name(), regular: de.Type().IsRegular(), dir: de.IsDir()}
	}
	return entries, nil
}

// statFile describes the object file at p; ok is false when it vanished
// (a concurrent Delete) or is corrupt, which List skips.
func (s *Store) statFile(p string) (ports.ObjectInfo, bool, error) {
	f, err := s.root.Open(p)
	if err != nil {
		if notExist(err) {
			return ports.ObjectInfo{}, false, nil
		}
		return ports.ObjectInfo{}, false, fault.Wrap(fault.Unavailable, err, "fsblob: reading %s", p)
	}
	defer func() { _ = f.Close() }()
	o, err := s.readObject(f, p)
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Kind == fault.Internal {
			return ports.ObjectInfo{}, false, nil
		}
		return ports.ObjectInfo{}, false, err
	}
	return o.info, true, nil
}
