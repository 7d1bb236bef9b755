// Package signing signs and verifies OCI images the way cosign does with a
// key pair, so that `cosign verify --key` accepts what the platform signs and
// the platform accepts what cosign signs. Publishing (tracking images),
// packaging (release images) and forge-cmp (verification) share it.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Signer signs images the way cosign does with a key pair: an ECDSA
// P-256 signature over a "simple signing" payload that names the image's
// repository and manifest digest, stored as the annotation of a layer of
// an image tagged sha256-<digest>.sig beside the signed one, so that
// `cosign verify --key cosign.pub` accepts it.
type Signer struct {
	key *ecdsa.PrivateKey
}

// NewSigner reads a PEM private key: an EC key ("EC PRIVATE KEY") or a
// PKCS #8 one holding an ECDSA P-256 key. Errors: Validation.
func NewSigner(pemKey []byte) (*Signer, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, fault.New(fault.Validation, "the signing key is not PEM")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fault.New(fault.Validation, "the signing key is a PEM %q block; want an unencrypted EC PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fault.New(fault.Validation, "the signing key cannot be read")
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fault.New(fault.Validation, "the signing key must be an ECDSA P-256 key")
	}
	return &Signer{key: ec}, nil
}

// GenerateKey makes a new key pair and returns the private key and the
// public key as PEM (PKCS #8 and PKIX), the public one as cosign reads it.
func GenerateKey() (private, public []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}

// PublicKey returns the public key as PEM.
func (s *Signer) PublicKey() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Media types and annotations of cosign's signature images.
const (
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	AnnotationSignature    = "dev.cosignproject.cosign/signature"
)

// simpleSigning is the payload cosign signs.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SignatureTag is the tag of the signature of the manifest with digest d.
func SignatureTag(d oci.Digest) string { return "sha256-" + d.Hex() + ".sig" }

// signatureImage is the image holding a signature: its blobs and
// manifest.
type signatureImage struct {
	config, payload []byte
	manifest        []byte
}

// sign makes the signature image of the manifest digest d in repository
// repo (host/path, no tag).
func (s *Signer) sign(repo string, d oci.Digest) (signatureImage, error) {
	var p simpleSigning
	p.Critical.Identity.DockerReference = repo
	p.Critical.Image.DockerManifestDigest = string(d)
	p.Critical.Type = "cosign container image signature"
	payload, err := json.Marshal(p)
	if err != nil {
		return signatureImage{}, err
	}
	sum := sha256.Sum256(payload)
	sig, err := s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return signatureImage{}, fmt.Errorf("signing: %w", err)
	}
	payloadDesc := oci.DescriptorOf(MediaTypeSimpleSigning, payload)
	payloadDesc.Annotations = map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}
	config, err := json.Marshal(map[string]any{
		"architecture": "", "os": "", "created": "0001-01-01T00:00:00Z", "config": map[string]any{},
		"history": []map[string]string{{"created": "0001-01-01T00:00:00Z"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{string(payloadDesc.Digest)}},
	})
	if err != nil {
		return signatureImage{}, err
	}
	m, err := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest,
		Config: oci.DescriptorOf(oci.MediaTypeImageConfig, config), Layers: []oci.Descriptor{payloadDesc}})
	if err != nil {
		return signatureImage{}, err
	}
	return signatureImage{config: config, payload: payload, manifest: m}, nil
}

// verify reports whether a signature image's manifest holds a valid
// signature of d by this signer's key.
func (s *Signer) verify(manifest []byte, payload func(oci.Digest) ([]byte, error), d oci.Digest) bool {
	return verifySignature(&s.key.PublicKey, manifest, payload, d)
}

// verifySignature reports whether a signature image's manifest holds a
// signature of d by key: a simple-signing layer whose payload (its bytes
// checked against its digest) names d, signed with key.
func verifySignature(key *ecdsa.PublicKey, manifest []byte, payload func(oci.Digest) ([]byte, error), d oci.Digest) bool {
	var m oci.Manifest
	if json.Unmarshal(manifest, &m) != nil {
		return false
	}
	for _, l := range m.Layers {
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[AnnotationSignature])
		if l.MediaType != MediaTypeSimpleSigning || err != nil {
			continue
		}
		b, err := payload(l.Digest)
		if err != nil || oci.DigestOf(b) != l.Digest {
			continue
		}
		var p simpleSigning
		if json.Unmarshal(b, &p) != nil || p.Critical.Image.DockerManifestDigest != string(d) {
			continue
		}
		sum := sha256.Sum256(b)
		if ecdsa.VerifyASN1(key, sum[:], sig) {
			return true
		}
	}
	return false
}

// Verifier checks cosign key-pair signatures, as `cosign verify --key`
// does: what the Argo CD plugin runs before it trusts a release image.
type Verifier struct {
	key *ecdsa.PublicKey
}

// NewVerifier reads a PEM public key (PKIX, ECDSA P-256), as
// GenerateKey and cosign write it. Errors: Validation.
func NewVerifier(pemKey []byte) (*Verifier, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fault.New(fault.Validation, "the public key is not a PEM PUBLIC KEY block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	ec, ok := key.(*ecdsa.PublicKey)
	if err != nil || !ok || ec.Curve != elliptic.P256() {
		return nil, fault.New(fault.Validation, "the public key must be an ECDSA P-256 key")
	}
	return &Verifier{key: ec}, nil
}

// Verify checks that manifest d of repo (host/path, no tag) has a
// signature by the verifier's key beside it. Errors: PermissionDenied (no
// signature, or none by this key: the image is not to be trusted), and
// the registry's other than NotFound.
func (v *Verifier) Verify(ctx context.Context, reg ports.Registry, repo string, d oci.Digest) error {
	ref := repo + ":" + SignatureTag(d)
	m, _, err := reg.Manifest(ctx, ref)
	if fault.Is(err, fault.NotFound) {
		return fault.New(fault.PermissionDenied, "%s@%s is not signed: there is no %s", repo, d, ref)
	}
	if err != nil {
		return err
	}
	if !verifySignature(v.key, m.Bytes, func(b oci.Digest) ([]byte, error) { return readBlob(ctx, reg, repo, b) }, d) {
		return fault.New(fault.PermissionDenied, "%s@%s has no valid signature by the configured key", repo, d)
	}
	return nil
}

// SignImage pushes the signature of manifest d of repo (host/path, no
// tag) beside it, unless a valid one by the same key is there. Errors:
// those of the registry.
func (s *Signer) SignImage(ctx context.Context, reg ports.Registry, repo string, d oci.Digest) error {
	ref := repo + ":" + SignatureTag(d)
	existing, _, err := reg.Manifest(ctx, ref)
	if err == nil && s.verify(existing.Bytes, func(b oci.Digest) ([]byte, error) { return readBlob(ctx, reg, repo, b) }, d) {
		return nil
	}
	if err != nil && !fault.Is(err, fault.NotFound) {
		return err
	}
	sig, err := s.sign(repo, d)
	if err != nil {
		return err
	}
	for _, b := range []ports.Blob{ports.BytesBlob(oci.MediaTypeImageConfig, sig.config), ports.BytesBlob(MediaTypeSimpleSigning, sig.payload)} {
		if err := reg.PushBlob(ctx, repo, b); err != nil {
			return err
		}
	}
	_, err = reg.PushManifest(ctx, ref, ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: sig.manifest})
	return err
}

// maxSmallBlob bounds what readBlob reads: signatures and metadata.
const maxSmallBlob = 1 << 20

func readBlob(ctx context.Context, reg ports.Registry, repo string, d oci.Digest) ([]byte, error) {
	rc, err := reg.Blob(ctx, repo, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxSmallBlob))
}
