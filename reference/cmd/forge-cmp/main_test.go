package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
)

// childEnv makes the test binary run as forge-cmp, as Argo CD's sidecar
// runs it: the tests run the command in a pointer's directory.
const childEnv = "FORGE_CMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const resourcesYAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"

// world is a registry holding release 7 of acme/mono's api, signed, and
// a GitOps checkout with its dev pointer.
type world struct {
	t        *testing.T
	host     string
	reg      ports.Registry
	img      *packaging.Image
	commit   string
	gitops   string // the checkout's root
	pub      string // the public key file
	pointer  release.Pointer
	otherPub string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, host: ocitest.Registry(t), commit: strings.Repeat("c", 40), gitops: t.TempDir()}
	reg, err := ociregistry.New(ociregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.reg = reg
	priv, pub, _ := signing.GenerateKey()
	_, other, _ := signing.GenerateKey()
	w.pub, w.otherPub = filepath.Join(t.TempDir(), "cosign.pub"), filepath.Join(t.TempDir(), "other.pub")
	_ = os.WriteFile(w.pub, pub, 0o644)
	_ = os.WriteFile(w.otherPub, other, 0o644)
	signer, _ := signing.NewSigner(priv)
	w.img, err = packaging.Build(packaging.Release{Repository: "acme/mono", Project: "api", Number: 7, Aliases: []string{"7", "main-7"},
		Trigger: packaging.Trigger{Type: "branch", Branch: "main"}, Source: packaging.Source{Commit: w.commit, Time: time.Unix(1700000000, 0)},
		Resources: []byte(resourcesYAML)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := packaging.Push(context.Background(), reg, packaging.Reference(w.host, "acme/mono", "api", w.commit), w.img, signer); err != nil {
		t.Fatal(err)
	}
	w.pointer = release.NewPointer(&release.Release{Project: "api", Number: 7, CommitSHA: w.commit, OCIDigest: string(w.img.Digest)}, "dev", "alice", time.Now(), nil)
	w.writePointer("environments/dev/acme/mono/api", w.pointer)
	return w
}

func (w *world) writePointer(dir string, p release.Pointer) {
	w.t.Helper()
	b, err := deploying.EncodePointer(p)
	if err != nil {
		w.t.Fatal(err)
	}
	full := filepath.Join(w.gitops, filepath.FromSlash(dir))
	if err := os.MkdirAll(full, 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, release.PointerFile), b, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// generate runs forge-cmp generate in dir of the checkout as Argo CD
// does: the source path and the Application's plugin env in the
// environment, plus env (NAME=value).
func (w *world) generate(dir string, env ...string) result {
	w.t.Helper()
	cmd := exec.Command(os.Args[0], "generate")
	cmd.Dir = filepath.Join(w.gitops, filepath.FromSlash(dir))
	cmd.Env = append(os.Environ(), childEnv+"=1", "ARGOCD_APP_NAME=api-dev", "ARGOCD_APP_NAMESPACE=argocd",
		"ARGOCD_APP_SOURCE_PATH="+dir, "ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/gitops.git",
		"ARGOCD_ENV_FORGE_RELEASE_REGISTRY="+w.host, "FORGE_CMP_PUBLIC_KEY="+w.pub)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func (r result) refused(t *testing.T, want string) {
	t.Helper()
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, nothing printed and %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestGenerateThroughTheBinary runs forge-cmp generate where Argo CD's
// sidecar runs it: it prints the release's resources exactly, pulled by
// the pointer's digest and verified against the key.
func TestGenerateThroughTheBinary(t *testing.T) {
	w := newWorld(t)
	r := w.generate("environments/dev/acme/mono/api")
	if r.code != 0 || r.stdout != resourcesYAML {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"api release 7 of acme/mono in dev: " + w.host + "/acme/mono/api@" + string(w.img.Digest), "signature verified"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// Without a key configured, nothing is verified, and it still prints.
	if r := w.generate("environments/dev/acme/mono/api", "FORGE_CMP_PUBLIC_KEY="); r.code != 0 || r.stdout != resourcesYAML || strings.Contains(r.stderr, "verified") {
		t.Errorf("without a key: exit %d\n%s", r.code, r.stderr)
	}
}

// TestGenerateRefuses: every way the pointer, the image or its signature
// can be wrong is refused with the reason, and nothing is printed.
func TestGenerateRefuses(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	t.Run("another key", func(t *testing.T) {
		w.generate("environments/dev/acme/mono/api", "FORGE_CMP_PUBLIC_KEY="+w.otherPub).refused(t, "no valid signature by the configured key")
	})
	t.Run("no registry", func(t *testing.T) {
		w.generate("environments/dev/acme/mono/api", "ARGOCD_ENV_FORGE_RELEASE_REGISTRY=").refused(t, "no release registry")
	})
	t.Run("pointer under another environment", func(t *testing.T) {
		p := w.pointer
		w.writePointer("environments/staging/acme/mono/api", p)
		w.generate("environments/staging/acme/mono/api").refused(t, "metadata.environment is dev but the pointer is under environment staging")
	})
	t.Run("short release", func(t *testing.T) {
		p := w.pointer
		p.Spec.Release = "ccccccc"
		w.writePointer("environments/qa/acme/mono/api", relabel(p, "qa"))
		w.generate("environments/qa/acme/mono/api").refused(t, "spec.release must be the release's full commit SHA")
	})
	t.Run("symlinked pointer", func(t *testing.T) {
		dir := filepath.Join(w.gitops, "environments", "link", "acme", "mono", "api")
		_ = os.MkdirAll(dir, 0o755)
		_ = os.Symlink(filepath.Join(w.gitops, "environments", "dev", "acme", "mono", "api", "release.yaml"), filepath.Join(dir, "release.yaml"))
		w.generate("environments/link/acme/mono/api").refused(t, "is not a regular file")
	})
	t.Run("unsigned image", func(t *testing.T) {
		// The same release pushed unsigned to another registry path.
		img := w.img
		if _, err := packaging.Push(ctx, w.reg, packaging.Reference(w.host+"/unsigned", "acme/mono", "api", w.commit), img, nil); err != nil {
			t.Fatal(err)
		}
		w.generate("environments/dev/acme/mono/api", "ARGOCD_ENV_FORGE_RELEASE_REGISTRY="+w.host+"/unsigned").refused(t, "is not signed")
	})
	t.Run("digest gone, tag holds another image", func(t *testing.T) {
		p := w.pointer
		p.Spec.Digest = string(oci.DigestOf([]byte("an image nobody pushed")))
		w.writePointer("environments/gone/acme/mono/api", relabel(p, "gone"))
		w.generate("environments/gone/acme/mono/api").refused(t, "not the pointer's "+p.Spec.Digest+": refused")
	})
	t.Run("a tracking image at the digest", func(t *testing.T) {
		// Another project's name: its image is a plain OCI image, not a
		// release.
		m, _ := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, ArtifactType: "application/vnd.forge.tracking.v1",
			Config: oci.DescriptorOf(oci.MediaTypeEmptyJSON, []byte("{}")), Layers: []oci.Descriptor{}})
		repo := w.host + "/acme/mono/web"
		if err := w.reg.PushBlob(ctx, repo, ports.BytesBlob(oci.MediaTypeEmptyJSON, []byte("{}"))); err != nil {
			t.Fatal(err)
		}
		d, err := w.reg.PushManifest(ctx, repo+":"+w.commit, ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: m})
		if err != nil {
			t.Fatal(err)
		}
		p := w.pointer
		p.Metadata.Name, p.Spec.Digest = "web", string(d.Digest)
		w.writePointer("environments/dev/acme/mono/web", p)
		w.generate("environments/dev/acme/mono/web", "FORGE_CMP_PUBLIC_KEY=").refused(t, "is not a Release OCI image: its artifact type is application/vnd.forge.tracking.v1")
	})
	t.Run("another project's release", func(t *testing.T) {
		// api's release image copied under web's name.
		repo := w.host + "/acme/mono/web"
		if _, err := packaging.Push(ctx, w.reg, repo+":"+strings.Repeat("e", 40), w.img, nil); err != nil {
			t.Fatal(err)
		}
		p := w.pointer
		p.Metadata.Name = "web"
		w.writePointer("environments/prod/acme/mono/web", relabel(p, "prod"))
		w.generate("environments/prod/acme/mono/web", "FORGE_CMP_PUBLIC_KEY=").refused(t, "is release 7 of acme/mono/api at "+w.commit+", not the pointer's release 7 of acme/mono/web")
	})
	t.Run("bad flag", func(t *testing.T) {
		if r := w.generate("environments/dev/acme/mono/api", "X=1"); r.code != 0 {
			t.Fatalf("control: %d %s", r.code, r.stderr)
		}
		cmd := exec.Command(os.Args[0], "generate", "--no-such-flag")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		if err := cmd.Run(); err == nil || err.(*exec.ExitError).ExitCode() != 2 {
			t.Errorf("a bad flag: %v, want exit 2", err)
		}
	})
}

func relabel(p release.Pointer, env string) release.Pointer {
	p.Metadata.Environment = env
	return p
}
