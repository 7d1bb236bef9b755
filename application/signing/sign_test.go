package signing_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
)

func TestSigner(t *testing.T) {
	for _, c := range []struct{ key, want string }{
		{"not pem", "is not PEM"},
		{"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", `PEM "RSA PRIVATE KEY" block`},
	} {
		if _, err := signing.NewSigner([]byte(c.key)); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSigner(%q) = %v", c.key, err)
		}
	}
	priv, pub, err := signing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewSigner(priv)
	if err != nil || !bytes.Equal(s.PublicKey(), pub) {
		t.Errorf("the signer's public key is not the generated one: %v", err)
	}
	if got := signing.SignatureTag(oci.DigestOf([]byte("x"))); got != fmt.Sprintf("sha256-%s.sig", oci.DigestOf([]byte("x")).Hex()) {
		t.Errorf("SignatureTag = %s", got)
	}
}

// TestVerifier: a signature by the key verifies; none, another key's, a
// signature of another image or a payload changed after signing do not.
func TestVerifier(t *testing.T) {
	ctx := context.Background()
	reg := memregistry.New()
	priv, pub, _ := signing.GenerateKey()
	otherPriv, otherPub, _ := signing.GenerateKey()
	signer, _ := signing.NewSigner(priv)
	other, _ := signing.NewSigner(otherPriv)
	v, err := signing.NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	const repo = "r.test/acme/mono/api"
	a, b := oci.DigestOf([]byte("image a")), oci.DigestOf([]byte("image b"))
	if err := v.Verify(ctx, reg, repo, a); !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "is not signed") {
		t.Errorf("unsigned: %v", err)
	}
	if err := signer.SignImage(ctx, reg, repo, a); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, reg, repo, a); err != nil {
		t.Errorf("signed by the key: %v", err)
	}
	if err := other.SignImage(ctx, reg, repo, b); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, reg, repo, b); !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "no valid signature") {
		t.Errorf("signed by another key: %v", err)
	}
	if ov, _ := signing.NewVerifier(otherPub); ov.Verify(ctx, reg, repo, b) != nil {
		t.Error("the other key's own signature does not verify")
	}
	// a's signature copied under b's tag signs a, not b.
	sigA, _, _ := reg.Manifest(ctx, repo+":"+signing.SignatureTag(a))
	if _, err := reg.PushManifest(ctx, repo+":"+signing.SignatureTag(b), sigA); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, reg, repo, b); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("another image's signature: %v", err)
	}
	for _, bad := range []string{"", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", string(priv)} {
		if _, err := signing.NewVerifier([]byte(bad)); !fault.Is(err, fault.Validation) {
			t.Errorf("NewVerifier(%.20q) = %v", bad, err)
		}
	}
}
