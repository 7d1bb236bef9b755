// Package memregistry is an in-memory ports.Registry: repositories of
// blobs, manifests and tags in maps, with the same references, checks and
// errors as a registry speaking the OCI Distribution API. Application
// tests use it; it passes the Registry conformance suite. It is in the
// adapters layer (adapters/memory).
package memregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Registry is the in-memory registry. The zero value is not usable; call
// New.
type Registry struct {
	mu    sync.Mutex
	repos map[string]*repo
}

type repo struct {
	blobs     map[oci.Digest][]byte
	manifests map[oci.Digest]ports.RawManifest
	tags      map[string]oci.Digest
}

var _ ports.Registry = (*Registry)(nil)

// New returns an empty registry.
func New() *Registry { return &Registry{repos: map[string]*repo{}} }

var (
	repoPath = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	hostPart = regexp.MustCompile(`^[A-Za-z0-9.-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$`)
	tagPart  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func checkRepository(s string) error {
	host, path, ok := strings.Cut(s, "/")
	if !ok || !hostPart.MatchString(host) || !repoPath.MatchString(path) {
		return fault.New(fault.Validation, "%q is not a repository (registry host/path, lowercase)", s)
	}
	return nil
}

// split parses a reference into its repository and its tag or digest.
func split(ref string) (repository, tag string, digest oci.Digest, err error) {
	bad := fault.New(fault.Validation, "%q is not an image reference (registry host/path:tag or @sha256:digest)", ref)
	if name, d, ok := strings.Cut(ref, "@"); ok {
		if _, err := oci.ParseDigest(d); err != nil || checkRepository(name) != nil {
			return "", "", "", bad
		}
		return name, "", oci.Digest(d), nil
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", "", "", bad
	}
	name, t := ref[:i], ref[i+1:]
	if checkRepository(name) != nil || !tagPart.MatchString(t) {
		return "", "", "", bad
	}
	return name, t, "", nil
}

func (r *Registry) get(name string, create bool) *repo {
	rp, ok := r.repos[name]
	if !ok && create {
		rp = &repo{blobs: map[oci.Digest][]byte{}, manifests: map[oci.Digest]ports.RawManifest{}, tags: map[string]oci.Digest{}}
		r.repos[name] = rp
	}
	return rp
}

// PushBlob stores b unless it is there.
func (r *Registry) PushBlob(ctx context.Context, repository string, b ports.Blob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkRepository(repository); err != nil {
		return err
	}
	if _, err := oci.ParseDigest(string(b.Digest)); err != nil {
		return fault.New(fault.Validation, "blob for %s: %v", repository, err)
	}
	r.mu.Lock()
	_, have := r.get(repository, false).blob(b.Digest)
	r.mu.Unlock()
	if have {
		return nil
	}
	rc, err := b.Open()
	if err != nil {
		return fault.Wrap(fault.Unavailable, err, "reading blob %s", b.Digest)
	}
	defer rc.Close()
	content, err := io.ReadAll(io.LimitReader(rc, b.Size+1))
	if err != nil {
		return fault.Wrap(fault.Unavailable, err, "reading blob %s", b.Digest)
	}
	if int64(len(content)) != b.Size || oci.DigestOf(content) != b.Digest {
		return fault.New(fault.Validation, "pushing blob %s to %s: content does not match its digest", b.Digest, repository)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.get(repository, true).blobs[b.Digest] = content
	return nil
}

func (rp *repo) blob(d oci.Digest) ([]byte, bool) {
	if rp == nil {
		return nil, false
	}
	b, ok := rp.blobs[d]
	return b, ok
}

// PushManifest stores m under ref once everything it names is there.
func (r *Registry) PushManifest(ctx context.Context, ref string, m ports.RawManifest) (oci.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return oci.Descriptor{}, err
	}
	name, tag, digest, err := split(ref)
	if err != nil {
		return oci.Descriptor{}, err
	}
	if !oci.IsManifest(m.MediaType) {
		return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: %q is not a manifest media type", ref, m.MediaType)
	}
	desc := oci.DescriptorOf(m.MediaType, m.Bytes)
	if digest != "" && digest != desc.Digest {
		return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: the manifest's digest is %s", ref, desc.Digest)
	}
	var doc struct {
		Config    *oci.Descriptor  `json:"config"`
		Layers    []oci.Descriptor `json:"layers"`
		Manifests []oci.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(m.Bytes, &doc); err != nil {
		return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: the manifest is not JSON", ref)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.get(name, false)
	named := slices.Clone(doc.Layers)
	if doc.Config != nil {
		named = append(named, *doc.Config)
	}
	for _, d := range named {
		if _, ok := rp.blob(d.Digest); !ok {
			return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: it names blob %s, which the repository lacks", ref, d.Digest)
		}
	}
	for _, d := range doc.Manifests {
		if rp == nil {
			return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: it names manifest %s, which the repository lacks", ref, d.Digest)
		}
		if _, ok := rp.manifests[d.Digest]; !ok {
			return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: it names manifest %s, which the repository lacks", ref, d.Digest)
		}
	}
	rp = r.get(name, true)
	rp.manifests[desc.Digest] = ports.RawManifest{MediaType: m.MediaType, Bytes: bytes.Clone(m.Bytes)}
	if tag != "" {
		rp.tags[tag] = desc.Digest
	}
	return desc, nil
}

// Manifest returns the manifest at ref.
func (r *Registry) Manifest(ctx context.Context, ref string) (ports.RawManifest, oci.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ports.RawManifest{}, oci.Descriptor{}, err
	}
	name, tag, digest, err := split(ref)
	if err != nil {
		return ports.RawManifest{}, oci.Descriptor{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.get(name, false)
	if rp == nil {
		return ports.RawManifest{}, oci.Descriptor{}, fault.New(fault.NotFound, "%s: not found", ref)
	}
	if tag != "" {
		digest = rp.tags[tag]
	}
	m, ok := rp.manifests[digest]
	if !ok {
		return ports.RawManifest{}, oci.Descriptor{}, fault.New(fault.NotFound, "%s: not found", ref)
	}
	return ports.RawManifest{MediaType: m.MediaType, Bytes: bytes.Clone(m.Bytes)}, oci.DescriptorOf(m.MediaType, m.Bytes), nil
}

// Resolve returns the descriptor of the manifest at ref.
func (r *Registry) Resolve(ctx context.Context, ref string) (oci.Descriptor, error) {
	_, d, err := r.Manifest(ctx, ref)
	return d, err
}

// Blob opens a blob of the repository.
func (r *Registry) Blob(ctx context.Context, repository string, digest oci.Digest) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkRepository(repository); err != nil {
		return nil, err
	}
	if _, err := oci.ParseDigest(string(digest)); err != nil {
		return nil, fault.New(fault.Validation, "blob of %s: %v", repository, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.get(repository, false).blob(digest)
	if !ok {
		return nil, fault.New(fault.NotFound, "blob %s of %s: not found", digest, repository)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Tags lists the repository's tags, sorted.
func (r *Registry) Tags(ctx context.Context, repository string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkRepository(repository); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tags := []string{}
	if rp := r.get(repository, false); rp != nil {
		for t := range rp.tags {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return tags, nil
}
