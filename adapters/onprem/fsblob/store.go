package fsblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

const (
	objectsDir = "objects"
	dirPerm    = 0o700
	filePerm   = 0o600
)

// Store is an ObjectStore in a directory of the local filesystem. It is
// safe for concurrent use, also by several processes sharing the
// directory: every change is a rename or an unlink, which the kernel makes
// atomic.
type Store struct {
	root    *os.Root // <dir>/objects; no path can leave it
	secret  []byte
	baseURL string
	clock   ports.Clock
}

var _ ports.ObjectStore = (*Store)(nil)

// Option configures a Store made by New.
type Option func(*settings)

type settings struct {
	secret  []byte
	baseURL string
	clock   ports.Clock
}

// WithSigning sets how PresignGet makes links: baseURL is the address of
// the API that serves SignedHandler (e.g. "https://forge.example.com"),
// and secret the HMAC key that signs them. A nil secret keeps the one in
// the store's directory, made on first use, so links survive restarts and
// every process sharing the directory accepts them. Without WithSigning,
// PresignGet fails with Unavailable, but SignedHandler still serves links
// signed with the directory's key.
func WithSigning(secret []byte, baseURL string) Option {
	return func(s *settings) {
		s.secret = secret
		s.baseURL = baseURL
	}
}

// WithClock sets the clock that dates signed links and checks their
// expiry; tests use it to expire links without waiting.
func WithClock(c ports.Clock) Option {
	return func(s *settings) { s.clock = c }
}

// New opens the store in dir, creating dir and its layout when missing.
// Errors: Validation for a bad option, Unavailable when the directory
// cannot be made or read, Internal for a signing key file readable by
// others or corrupt.
func New(dir string, opts ...Option) (*Store, error) {
	var cfg settings
	for _, opt := range opts {
		opt(&cfg)
	}
	if dir == "" {
		return nil, fault.New(fault.Validation, "fsblob: no directory given")
	}
	if cfg.secret != nil && len(cfg.secret) < 16 {
		return nil, fault.New(fault.Validation, "fsblob: the signing secret is %d bytes long; use at least 16 (32 random bytes are best)", len(cfg.secret))
	}
	baseURL := strings.TrimRight(cfg.baseURL, "/")
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fault.New(fault.Validation, "fsblob: base URL %q of signed links is not an absolute http(s) URL without query", cfg.baseURL)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "fsblob: directory %q", dir)
	}
	if err := os.MkdirAll(filepath.Join(abs, objectsDir), dirPerm); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: creating the store in %s", abs)
	}
	secret := cfg.secret
	if secret == nil {
		if secret, err = loadSecret(abs); err != nil {
			return nil, err
		}
	}
	root, err := os.OpenRoot(filepath.Join(abs, objectsDir))
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: opening %s", filepath.Join(abs, objectsDir))
	}
	return &Store{root: root, secret: secret, baseURL: baseURL, clock: cfg.clock}, nil
}

// Close releases the directory. The store must not be used afterwards;
// readers returned by Get stay readable until they are closed.
func (s *Store) Close() error { return s.root.Close() }

// Put stores the content of r under key, atomically with its content type.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts ports.PutOptions) (ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return ports.ObjectInfo{}, err
	}
	ct, err := opts.ContentTypeOrDefault()
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: put %q", key)
	}
	dir, file := objectPath(key)
	f, tmp, err := s.createTemp(dir)
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	info, err := s.write(ctx, f, key, ct, r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fault.Wrap(fault.Unavailable, cerr, "fsblob: writing %q", key)
	}
	if err == nil {
		err = s.checkNoSymlinks(dir)
	}
	if err == nil {
		if rerr := s.root.Rename(tmp, file); rerr != nil {
			err = fault.Wrap(fault.Unavailable, rerr, "fsblob: storing %q", key)
		}
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return ports.ObjectInfo{}, err
	}
	if err := s.syncDir(dir); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: syncing the directory of %q", key)
	}
	return info, nil
}

// write fills the temporary file f with the header and content of key.
func (s *Store) write(ctx context.Context, f *os.File, key, ct string, r io.Reader) (ports.ObjectInfo, error) {
	if _, err := f.Write(encodeHeader(header{Key: key, ContentType: ct})); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: writing %q", key)
	}
	src := &ctxReader{ctx: ctx, r: r}
	n, err := io.Copy(f, src)
	if err != nil {
		if src.err != nil {
			return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: reading the content of %q", key)
		}
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: writing %q", key)
	}
	if err := f.Sync(); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: syncing %q", key)
	}
	fi, err := f.Stat()
	if err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: writing %q", key)
	}
	return ports.ObjectInfo{Key: key, Size: n, ContentType: ct, ModTime: fi.ModTime().UTC()}, nil
}

// createTemp makes dir and a new temporary file in it. A Delete may prune
// the directory between the two steps, so it tries again.
func (s *Store) createTemp(dir string) (*os.File, string, error) {
	var last error
	for range 10 {
		if err := s.checkNoSymlinks(dir); err != nil {
			return nil, "", err
		}
		if dir != "" {
			if err := s.root.MkdirAll(dir, dirPerm); err != nil {
				return nil, "", fault.Wrap(fault.Unavailable, err, "fsblob: creating directory %s", dir)
			}
		}
		if err := s.checkNoSymlinks(dir); err != nil {
			return nil, "", err
		}
		tmp := path.Join(dir, "."+randomHex(8)+tempSuffix)
		f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		if err == nil {
			return f, tmp, nil
		}
		last = err
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", fault.Wrap(fault.Unavailable, last, "fsblob: creating a file in %s", dir)
}

// Get opens the object at key from offset on.
func (s *Store) Get(ctx context.Context, key string, offset int64) (io.ReadCloser, ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	if offset < 0 {
		return nil, ports.ObjectInfo{}, fault.New(fault.Validation, "fsblob: negative offset %d", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: get %q", key)
	}
	o, err := s.open(key)
	if err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	if _, err := o.f.Seek(o.dataOffset+min(offset, o.info.Size), io.SeekStart); err != nil {
		_ = o.f.Close()
		return nil, ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: reading %q", key)
	}
	return o.f, o.info, nil
}

// Stat describes the object at key.
func (s *Store) Stat(ctx context.Context, key string) (ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return ports.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "fsblob: stat %q", key)
	}
	o, err := s.open(key)
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	_ = o.f.Close()
	return o.info, nil
}

// Delete removes the object at key and the directories it leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fault.Wrap(fault.Unavailable, err, "fsblob: delete %q", key)
	}
	dir, file := objectPath(key)
	if err := s.checkNoSymlinks(file); err != nil {
		return err
	}
	if err := s.root.Remove(file); err != nil {
		if notExist(err) {
			return nil
		}
		return fault.Wrap(fault.Unavailable, err, "fsblob: deleting %q", key)
	}
	// Prune empty directories up to the top; the first that is not empty
	// (or that a Put is filling again) stops it.
	for dir != "" && dir != "." {
		if s.root.Remove(dir) != nil {
			break
		}
		dir = path.Dir(dir)
	}
	return nil
}

// object is an open object file.
type object struct {
	f          *os.File
	info       ports.ObjectInfo
	dataOffset int64
}

// open opens the file of key and reads its header; the caller closes f.
func (s *Store) open(key string) (object, error) {
	_, file := objectPath(key)
	if err := s.checkNoSymlinks(file); err != nil {
		return object{}, err
	}
	f, err := s.root.Open(file)
	if err != nil {
		if notExist(err) {
			return object{}, fault.New(fault.NotFound, "object %q not found", key)
		}
		return object{}, fault.Wrap(fault.Unavailable, err, "fsblob: opening %q", key)
	}
	o, err := s.readObject(f, file)
	if err != nil {
		_ = f.Close()
		return object{}, err
	}
	if o.info.Key != key {
		_ = f.Close()
		return object{}, fault.New(fault.Internal, "fsblob: file %s holds object %q, not %q", file, o.info.Key, key)
	}
	return o, nil
}

// readObject reads the header of the object file f at file.
func (s *Store) readObject(f *os.File, file string) (object, error) {
	fi, err := f.Stat()
	if err != nil {
		return object{}, fault.Wrap(fault.Unavailable, err, "fsblob: reading %s", file)
	}
	if !fi.Mode().IsRegular() {
		return object{}, fault.New(fault.Internal, "fsblob: %s in the store is not a regular file", file)
	}
	h, off, err := readHeader(f)
	if err == nil && fi.Size() < off {
		err = errCorrupt
	}
	if err != nil {
		if errors.Is(err, errCorrupt) {
			return object{}, fault.Wrap(fault.Internal, err, "fsblob: file %s is corrupt", file)
		}
		return object{}, fault.Wrap(fault.Unavailable, err, "fsblob: reading %s", file)
	}
	return object{
		f:          f,
		dataOffset: off,
		info: ports.ObjectInfo{
			Key:         h.Key,
			Size:        fi.Size() - off,
			ContentType: h.ContentType,
			ModTime:     fi.ModTime().UTC(),
		},
	}, nil
}

// checkNoSymlinks refuses p when p or one of its parents in the tree is a
// symlink. The os.Root already keeps every path inside the tree; this
// keeps keys from aliasing each other through links planted in it.
func (s *Store) checkNoSymlinks(p string) error {
	if p == "" {
		return nil
	}
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		fi, err := s.root.Lstat(p[:i])
		if err != nil {
			if notExist(err) {
				return nil
			}
			return fault.Wrap(fault.Unavailable, err, "fsblob: checking %s", p[:i])
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fault.New(fault.Internal, "fsblob: refusing the symlink %s in the store", p[:i])
		}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func (s *Store) syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// notExist reports whether err says the path is not there, including a
// parent that is a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader stops reading once ctx is done, and keeps the error of the
// reader apart from those of the writer.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	err error // the error that ended reading, other than io.EOF
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
