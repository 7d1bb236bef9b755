package ociregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Credential is a username and password (or token) for one registry.
type Credential struct {
	Username, Password string
}

// Options configure the client.
type Options struct {
	// Credentials maps a registry host ("harbor.example.com",
	// "127.0.0.1:5000") to its credential.
	Credentials map[string]Credential
	// DockerConfig is a docker config.json to read credentials from;
	// empty means the one docker reads ($DOCKER_CONFIG/config.json or
	// ~/.docker/config.json), when it exists.
	DockerConfig string
	// Insecure lists hosts, besides loopback ones, that may be spoken to
	// over plain HTTP.
	Insecure []string
	// Transport is the HTTP transport (http.DefaultTransport when nil).
	Transport http.RoundTripper
	// Sources are asked, in order, for the credential of a host that
	// Credentials does not name, before the docker config: a cloud
	// registry's short-lived tokens (adapters/aws/ecrauth for ECR).
	Sources []CredentialSource
}

// CredentialSource gives the credential of the registry hosts it knows
// (ok false for others). It is asked at each authentication, so it keeps
// what it fetched itself. Safe for concurrent use.
type CredentialSource interface {
	Credential(ctx context.Context, host string) (username, password string, ok bool, err error)
}

// Client is the registry client.
type Client struct {
	opts      []remote.Option
	insecure  map[string]bool
	keychain  *keychain
	transport http.RoundTripper
}

var _ ports.Registry = (*Client)(nil)

// New returns a client. Errors: Validation (a docker config that cannot
// be read).
func New(o Options) (*Client, error) {
	kc, err := newKeychain(o)
	if err != nil {
		return nil, err
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := &Client{insecure: map[string]bool{}, keychain: kc}
	for _, h := range o.Insecure {
		c.insecure[h] = true
	}
	c.transport = &tlsUnlessAllowed{base: base, allowed: c.plainHTTPAllowed}
	c.opts = []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithTransport(c.transport), remote.WithUserAgent("catalyst-forge")}
	// One pusher and one puller for the client's life, so that a
	// registry is pinged and a token fetched once per repository, not
	// once per call.
	pusher, err := remote.NewPusher(c.opts...)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "ociregistry: making a pusher")
	}
	puller, err := remote.NewPuller(c.opts...)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "ociregistry: making a puller")
	}
	c.opts = append(c.opts, remote.Reuse(pusher), remote.Reuse(puller))
	return c, nil
}

// plainHTTPAllowed reports whether host (with its port) may be spoken to
// without TLS.
func (c *Client) plainHTTPAllowed(host string) bool {
	if c.insecure[host] {
		return true
	}
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// tlsUnlessAllowed upgrades plain HTTP requests to HTTPS for hosts that
// may not be spoken to in the clear.
type tlsUnlessAllowed struct {
	base    http.RoundTripper
	allowed func(host string) bool
}

func (t *tlsUnlessAllowed) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !t.allowed(r.URL.Host) {
		r = r.Clone(r.Context())
		r.URL.Scheme = "https"
	}
	return t.base.RoundTrip(r)
}

func (c *Client) nameOpts(host string) []name.Option {
	if c.plainHTTPAllowed(host) {
		return []name.Option{name.Insecure, name.StrictValidation}
	}
	return []name.Option{name.StrictValidation}
}

func (c *Client) repository(s string) (name.Repository, error) {
	host, _, _ := strings.Cut(s, "/")
	repo, err := name.NewRepository(s, c.nameOpts(host)...)
	if err != nil || !strings.Contains(s, "/") {
		return name.Repository{}, fault.New(fault.Validation, "%q is not a repository (registry host/path, lowercase)", s)
	}
	return repo, nil
}

func (c *Client) reference(s string) (name.Reference, error) {
	host, _, _ := strings.Cut(s, "/")
	ref, err := name.ParseReference(s, c.nameOpts(host)...)
	if err != nil || !strings.Contains(s, "/") {
		return nil, fault.New(fault.Validation, "%q is not an image reference (registry host/path:tag or @sha256:digest)", s)
	}
	return ref, nil
}

func (c *Client) with(ctx context.Context) []remote.Option {
	return append(slices.Clone(c.opts), remote.WithContext(ctx))
}

// PushBlob uploads b unless the repository has it.
func (c *Client) PushBlob(ctx context.Context, repository string, b ports.Blob) error {
	repo, err := c.repository(repository)
	if err != nil {
		return err
	}
	if _, err := oci.ParseDigest(string(b.Digest)); err != nil {
		return fault.New(fault.Validation, "blob for %s: %v", repository, err)
	}
	if err := remote.WriteLayer(repo, &layer{b: b}, c.with(ctx)...); err != nil {
		return translate(ctx, err, "pushing blob %s to %s", b.Digest, repository)
	}
	return nil
}

// PushManifest uploads m under ref.
func (c *Client) PushManifest(ctx context.Context, ref string, m ports.RawManifest) (oci.Descriptor, error) {
	r, err := c.reference(ref)
	if err != nil {
		return oci.Descriptor{}, err
	}
	if !oci.IsManifest(m.MediaType) {
		return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: %q is not a manifest media type", ref, m.MediaType)
	}
	desc := oci.DescriptorOf(m.MediaType, m.Bytes)
	if d, ok := r.(name.Digest); ok && d.DigestStr() != string(desc.Digest) {
		return oci.Descriptor{}, fault.New(fault.Validation, "pushing %s: the manifest's digest is %s", ref, desc.Digest)
	}
	if err := c.checkContent(ctx, r.Context(), m); err != nil {
		return oci.Descriptor{}, err
	}
	if err := remote.Put(r, rawManifest{m}, c.with(ctx)...); err != nil {
		return oci.Descriptor{}, translate(ctx, err, "pushing manifest %s", ref)
	}
	return desc, nil
}

// checkContent makes sure the repository holds everything m names (its
// config and layers, or the manifests of an index), since not every
// registry checks: a manifest over missing content would be an image
// nobody can pull. A subject may be absent (OCI 1.1 allows it).
func (c *Client) checkContent(ctx context.Context, repo name.Repository, m ports.RawManifest) error {
	var doc struct {
		Config    *oci.Descriptor  `json:"config"`
		Layers    []oci.Descriptor `json:"layers"`
		Manifests []oci.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(m.Bytes, &doc); err != nil {
		return fault.New(fault.Validation, "pushing a manifest to %s: it is not JSON", repo)
	}
	named := slices.Clone(doc.Layers)
	if doc.Config != nil {
		named = append(named, *doc.Config)
	}
	for _, d := range named {
		if _, err := oci.ParseDigest(string(d.Digest)); err != nil {
			return fault.New(fault.Validation, "pushing a manifest to %s: %v", repo, err)
		}
		l, err := remote.Layer(repo.Digest(string(d.Digest)), c.with(ctx)...)
		if err != nil {
			return translate(ctx, err, "checking blob %s of %s", d.Digest, repo)
		}
		ok, err := partial.Exists(l)
		if err != nil {
			return translate(ctx, err, "checking blob %s of %s", d.Digest, repo)
		}
		if !ok {
			return fault.New(fault.Validation, "pushing a manifest to %s: it names blob %s, which the repository lacks", repo, d.Digest)
		}
	}
	for _, d := range doc.Manifests {
		if _, err := remote.Head(repo.Digest(string(d.Digest)), c.with(ctx)...); err != nil {
			if err := translate(ctx, err, "checking manifest %s of %s", d.Digest, repo); !fault.Is(err, fault.NotFound) {
				return err
			}
			return fault.New(fault.Validation, "pushing an index to %s: it names manifest %s, which the repository lacks", repo, d.Digest)
		}
	}
	return nil
}

// Manifest fetches the manifest at ref.
func (c *Client) Manifest(ctx context.Context, ref string) (ports.RawManifest, oci.Descriptor, error) {
	r, err := c.reference(ref)
	if err != nil {
		return ports.RawManifest{}, oci.Descriptor{}, err
	}
	d, err := remote.Get(r, c.with(ctx)...)
	if err != nil {
		return ports.RawManifest{}, oci.Descriptor{}, translate(ctx, err, "fetching manifest %s", ref)
	}
	desc := descriptor(d.Descriptor)
	if got := oci.DigestOf(d.Manifest); got != desc.Digest {
		return ports.RawManifest{}, oci.Descriptor{}, fault.New(fault.Validation, "the manifest at %s does not match its digest %s", ref, desc.Digest)
	}
	return ports.RawManifest{MediaType: desc.MediaType, Bytes: d.Manifest}, desc, nil
}

// Resolve returns the descriptor of the manifest at ref.
func (c *Client) Resolve(ctx context.Context, ref string) (oci.Descriptor, error) {
	r, err := c.reference(ref)
	if err != nil {
		return oci.Descriptor{}, err
	}
	d, err := remote.Head(r, c.with(ctx)...)
	if err != nil {
		return oci.Descriptor{}, translate(ctx, err, "resolving %s", ref)
	}
	return descriptor(*d), nil
}

// Blob opens a blob of the repository.
func (c *Client) Blob(ctx context.Context, repository string, digest oci.Digest) (io.ReadCloser, error) {
	repo, err := c.repository(repository)
	if err != nil {
		return nil, err
	}
	if _, err := oci.ParseDigest(string(digest)); err != nil {
		return nil, fault.New(fault.Validation, "blob of %s: %v", repository, err)
	}
	l, err := remote.Layer(repo.Digest(string(digest)), c.with(ctx)...)
	if err != nil {
		return nil, translate(ctx, err, "fetching blob %s of %s", digest, repository)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, translate(ctx, err, "fetching blob %s of %s", digest, repository)
	}
	// The client library checks the content against the digest as it is
	// read, and fails the read that ends with a mismatch.
	return rc, nil
}

// Tags lists the repository's tags, sorted.
func (c *Client) Tags(ctx context.Context, repository string) ([]string, error) {
	repo, err := c.repository(repository)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(repo, c.with(ctx)...)
	if err != nil {
		if fault.Is(translate(ctx, err, ""), fault.NotFound) {
			return []string{}, nil
		}
		return nil, translate(ctx, err, "listing tags of %s", repository)
	}
	slices.Sort(tags)
	return tags, nil
}

func descriptor(d v1.Descriptor) oci.Descriptor {
	return oci.Descriptor{MediaType: string(d.MediaType), Digest: oci.Digest(d.Digest.String()), Size: d.Size, ArtifactType: d.ArtifactType, Annotations: d.Annotations}
}

// rawManifest is a manifest with its media type, as remote.Put wants it.
type rawManifest struct{ m ports.RawManifest }

func (r rawManifest) RawManifest() ([]byte, error)        { return r.m.Bytes, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.MediaType(r.m.MediaType), nil }

// layer presents a blob to remote.WriteLayer. Its content is not hashed
// here: the registry refuses a blob whose content does not match the
// digest it is pushed under (the Distribution API requires it), and
// hashing it twice made pushes slower than crane's.
type layer struct{ b ports.Blob }

func (l *layer) Digest() (v1.Hash, error) { return v1.NewHash(string(l.b.Digest)) }
func (l *layer) DiffID() (v1.Hash, error) { return v1.NewHash(string(l.b.Digest)) }
func (l *layer) Size() (int64, error)     { return l.b.Size, nil }
func (l *layer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.b.MediaType), nil
}
func (l *layer) Compressed() (io.ReadCloser, error) {
	rc, err := l.b.Open()
	if err != nil {
		return nil, err
	}
	return rc, nil
}
func (l *layer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }

// translate maps the client's errors to faults; what says what was being
// done, in the user's terms.
func translate(ctx context.Context, err error, what string, args ...any) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := fmt.Sprintf(what, args...)
	var te *transport.Error
	if errors.As(err, &te) {
		codes := make([]string, 0, len(te.Errors))
		for _, d := range te.Errors {
			codes = append(codes, string(d.Code))
		}
		has := func(cs ...transport.ErrorCode) bool {
			for _, c := range cs {
				if slices.Contains(codes, string(c)) {
					return true
				}
			}
			return false
		}
		detail := fmt.Sprintf("%s: the registry answered %d %s", msg, te.StatusCode, strings.Join(codes, ", "))
		switch {
		case has(transport.ManifestBlobUnknownErrorCode):
			return fault.New(fault.Validation, "%s: it names content the repository lacks", msg)
		case te.StatusCode == http.StatusNotFound || has(transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode):
			return fault.New(fault.NotFound, "%s: not found", msg)
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden || has(transport.UnauthorizedErrorCode, transport.DeniedErrorCode):
			return fault.New(fault.PermissionDenied, "%s: the registry refused the credentials (%d)", msg, te.StatusCode)
		case te.StatusCode == http.StatusTooManyRequests:
			return fault.New(fault.RateLimited, "%s: the registry asks to slow down", msg)
		case te.StatusCode >= 500:
			return fault.New(fault.Unavailable, "%s", detail)
		}
		return fault.New(fault.Validation, "%s", detail)
	}
	return fault.Wrap(fault.Unavailable, err, "%s: the registry cannot be reached", msg)
}

// sourceTimeout bounds one question to a CredentialSource.
const sourceTimeout = 30 * time.Second

// keychain finds the credential of a registry host.
type keychain struct {
	creds   map[string]Credential
	sources []CredentialSource
	config  map[string]authn.AuthConfig
	// useDefault falls back to docker's own config.
	useDefault bool
}

func newKeychain(o Options) (*keychain, error) {
	kc := &keychain{creds: o.Credentials, sources: o.Sources, config: map[string]authn.AuthConfig{}}
	if o.DockerConfig == "" {
		kc.useDefault = true
		return kc, nil
	}
	b, err := os.ReadFile(filepath.Clean(o.DockerConfig))
	if err != nil {
		return nil, fault.New(fault.Validation, "docker config %s cannot be read", o.DockerConfig)
	}
	var doc struct {
		Auths map[string]authn.AuthConfig `json:"auths"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		return nil, fault.New(fault.Validation, "docker config %s is not a docker config.json", o.DockerConfig)
	}
	for host, a := range doc.Auths {
		host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/")
		host, _, _ = strings.Cut(host, "/")
		kc.config[host] = a
	}
	return kc, nil
}

func (k *keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	host := target.RegistryStr()
	if c, ok := k.creds[host]; ok {
		return authn.FromConfig(authn.AuthConfig{Username: c.Username, Password: c.Password}), nil
	}
	for _, src := range k.sources {
		ctx, cancel := context.WithTimeout(context.Background(), sourceTimeout)
		user, pass, ok, err := src.Credential(ctx, host)
		cancel()
		if err != nil {
			return nil, err
		}
		if ok {
			return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}), nil
		}
	}
	if a, ok := k.config[host]; ok {
		return authn.FromConfig(a), nil
	}
	if k.useDefault {
		return authn.DefaultKeychain.Resolve(target)
	}
	return authn.Anonymous, nil
}
