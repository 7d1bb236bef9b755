// Package filesecrets is the "file" secret provider: a reference
// {provider: "file", path: "/run/secrets/npm-token"} resolves to that
// file's content without its final newline, such as a mounted Kubernetes
// Secret; with key, the file is a JSON object and the value is that field
// of it. A build must not be able to read the worker's own files this way,
// so only regular files under configured roots are read, after every
// symbolic link is resolved, and never anything under a denied path (the
// worker's data directory, its token file, signing keys). It is in the
// adapters layer (adapters/onprem) and implements ports.SecretProvider.
package filesecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultMaxSize bounds a secret file: secrets are small, and a build
// must not make a worker read /dev/zero.
const DefaultMaxSize = 1 << 20

// Options say which files the provider may read.
type Options struct {
	// Roots are directories under which secret files may be read.
	Roots []string
	// Deny are files and directories never read, even under a root.
	Deny []string
	// MaxSize bounds a file (DefaultMaxSize when 0).
	MaxSize int64
}

// Provider is the file secret provider.
type Provider struct {
	roots, deny []string
	maxSize     int64
}

var _ ports.SecretProvider = (*Provider)(nil)

// New returns the provider. Roots and denied paths are made absolute and
// their links resolved; one that does not exist is kept as written.
func New(o Options) *Provider {
	p := &Provider{maxSize: o.MaxSize}
	if p.maxSize <= 0 {
		p.maxSize = DefaultMaxSize
	}
	for _, r := range o.Roots {
		if r != "" {
			p.roots = append(p.roots, resolve(r))
		}
	}
	for _, d := range o.Deny {
		if d != "" {
			p.deny = append(p.deny, resolve(d), clean(d))
		}
	}
	return p
}

func clean(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// resolve is path absolute with its links resolved, or clean(path) when it
// cannot be resolved.
func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(clean(path)); err == nil {
		return r
	}
	return clean(path)
}

// Name is "file".
func (p *Provider) Name() string { return "file" }

// Schema: an absolute path and, for a JSON file, the field to take.
func (p *Provider) Schema() string { return `path: =~"^/", key?: string & != ""` }

// Resolve returns the file's content, or its field key. Errors: Validation
// (a path that is not absolute, a directory or device, a file over the
// size bound, a file that is not a JSON object when key is given),
// PermissionDenied (outside the roots or denied), NotFound (no such file
// or key), Unavailable (cannot read), the context's error.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for k := range cfg {
		if k != "path" && k != "key" {
			return "", fault.New(fault.Validation, "file secret: field %s is not allowed (a file secret has path and key)", k)
		}
	}
	path, _ := cfg["path"].(string)
	if !filepath.IsAbs(path) {
		return "", fault.New(fault.Validation, "file secret: field path must be an absolute path")
	}
	key, hasKey := cfg["key"].(string)
	if _, present := cfg["key"]; present && (!hasKey || key == "") {
		return "", fault.New(fault.Validation, "file secret: field key must be a non-empty string")
	}
	if len(p.roots) == 0 {
		return "", fault.New(fault.PermissionDenied, "file secret %s: this worker reads no secret files (see --secret-file-root)", path)
	}
	// The path as written is checked before anything is looked up, so a
	// build cannot probe which files exist elsewhere, and again once its
	// links are resolved, so a link cannot lead out of the roots.
	if err := p.allowed(filepath.Clean(path), path); err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(filepath.Clean(path))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fault.New(fault.NotFound, "file secret %s does not exist on this worker", path)
	}
	if err != nil {
		return "", fault.New(fault.Unavailable, "file secret %s cannot be read", path)
	}
	if err := p.allowed(resolved, path); err != nil {
		return "", err
	}
	b, err := p.read(resolved, path)
	if err != nil {
		return "", err
	}
	if !hasKey {
		return strings.TrimRight(string(b), "\n"), nil
	}
	var fields map[string]any
	if json.Unmarshal(b, &fields) != nil || fields == nil {
		return "", fault.New(fault.Validation, "file secret %s: key %s is given, and the file is not a JSON object", path, key)
	}
	v, ok := fields[key]
	if !ok {
		return "", fault.New(fault.NotFound, "file secret %s has no key %s", path, key)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	out, _ := json.Marshal(v)
	return string(out), nil
}

// allowed checks that path is under a root and under no denied path;
// shown is the path the reference gave, for messages.
func (p *Provider) allowed(path, shown string) error {
	for _, d := range p.deny {
		if within(path, d) {
			return fault.New(fault.PermissionDenied, "file secret %s is one of the platform's own files and is never given to builds", shown)
		}
	}
	for _, r := range p.roots {
		if within(path, r) {
			return nil
		}
	}
	return fault.New(fault.PermissionDenied, "file secret %s is outside this worker's secret roots (%s)", shown, strings.Join(p.roots, ", "))
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// read reads a regular file of at most maxSize bytes; shown is the path
// the reference gave, for messages.
func (p *Provider) read(path, shown string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fault.New(fault.NotFound, "file secret %s does not exist on this worker", shown)
		}
		return nil, fault.New(fault.Unavailable, "file secret %s cannot be read", shown)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fault.New(fault.Unavailable, "file secret %s cannot be read", shown)
	}
	if !st.Mode().IsRegular() {
		return nil, fault.New(fault.Validation, "file secret %s is not a regular file", shown)
	}
	b, err := io.ReadAll(io.LimitReader(f, p.maxSize+1))
	if err != nil {
		return nil, fault.New(fault.Unavailable, "file secret %s cannot be read", shown)
	}
	if int64(len(b)) > p.maxSize {
		return nil, fault.New(fault.Validation, "file secret %s is larger than %s", shown, size(p.maxSize))
	}
	return b, nil
}

func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
