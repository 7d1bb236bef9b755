// Package forgecmp is the Argo CD Config Management Plugin of the
// platform (spec 01, GitOps Repository Structure): run in the directory
// of a ReleasePointer, it pulls the release's OCI image and prints the
// Kubernetes resources it carries. Command forge-cmp wraps it.
package forgecmp

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// Options say where the pointer is and how to reach and trust its image.
type Options struct {
	// Dir holds release.yaml (Argo CD runs the plugin there).
	Dir string
	// SourcePath is Dir's path in the GitOps repository
	// (ARGOCD_APP_SOURCE_PATH): environments/<env>/<owner>/<name>/<project>.
	SourcePath string
	// Registry is the release registry, HOST[/PATH]
	// (ARGOCD_ENV_FORGE_RELEASE_REGISTRY).
	Registry string
	// PublicKey is a PEM public key file; when set, the image must carry
	// a signature by it (FORGE_CMP_PUBLIC_KEY, the sidecar's own setting).
	PublicKey string
	// DockerConfig is a docker config.json with registry credentials;
	// Insecure lists hosts spoken to over plain HTTP besides loopback.
	DockerConfig string
	Insecure     []string
	// Registry client; nil makes one from DockerConfig and Insecure.
	Client ports.Registry
}

// Generate reads the pointer in o.Dir strictly, pulls the release image
// by the pointer's digest (or by its commit tag, refusing one whose digest
// is not the pointer's), checks that it is a Release OCI image of the
// pointer's project and commit (and signed, when a key is configured) and
// writes its resources, a YAML stream, to out. What it does goes to log.
// Errors: Validation (a bad pointer, an image that is not the release),
// PermissionDenied (no valid signature), the registry's.
func Generate(ctx context.Context, o Options, out, log io.Writer) error {
	if o.Registry == "" {
		return fault.New(fault.Validation, "no release registry: set ARGOCD_ENV_FORGE_RELEASE_REGISTRY in the Application's plugin env")
	}
	if o.SourcePath == "" {
		return fault.New(fault.Validation, "no source path: ARGOCD_APP_SOURCE_PATH (set by Argo CD) names the pointer's directory in the GitOps repository")
	}
	b, err := readPointer(filepath.Join(o.Dir, release.PointerFile))
	if err != nil {
		return err
	}
	p, err := deploying.ParsePointer(b, strings.Trim(filepath.ToSlash(o.SourcePath), "/"))
	if err != nil {
		return err
	}
	_, repo, project, _ := release.PointerDir(strings.Trim(filepath.ToSlash(o.SourcePath), "/"))
	var verifier *signing.Verifier
	if o.PublicKey != "" {
		key, err := os.ReadFile(o.PublicKey)
		if err != nil {
			return fault.New(fault.Validation, "the public key %s cannot be read: %v", o.PublicKey, err)
		}
		if verifier, err = signing.NewVerifier(key); err != nil {
			return err
		}
	}
	reg := o.Client
	if reg == nil {
		if reg, err = ociregistry.New(ociregistry.Options{DockerConfig: o.DockerConfig, Insecure: o.Insecure}); err != nil {
			return err
		}
	}
	name := strings.TrimSuffix(o.Registry, "/") + "/" + repo + "/" + project
	digest := oci.Digest(p.Spec.Digest)
	fmt.Fprintf(log, "forge-cmp: %s release %d of %s in %s: %s@%s\n", project, p.Spec.Aliases.Numeric, repo, p.Metadata.Environment, name, digest)
	if _, err := reg.Resolve(ctx, name+"@"+string(digest)); fault.Is(err, fault.NotFound) {
		// Not found by digest: the tag of the release's commit must hold
		// that very image.
		tagged, terr := reg.Resolve(ctx, name+":"+p.Spec.Release)
		if terr != nil {
			return fmt.Errorf("the release image is not at %s@%s nor at its commit tag: %w", name, digest, terr)
		}
		if tagged.Digest != digest {
			return fault.New(fault.Validation, "%s:%s is %s, not the pointer's %s: refused", name, p.Spec.Release, tagged.Digest, digest)
		}
	} else if err != nil {
		return err
	}
	if verifier != nil {
		if err := verifier.Verify(ctx, reg, name, digest); err != nil {
			return err
		}
		fmt.Fprintf(log, "forge-cmp: signature verified\n")
	}
	img, err := packaging.Read(ctx, reg, name+"@"+string(digest))
	if err != nil {
		return err
	}
	r := img.Release
	if r.Project != project || r.Repository != repo || r.Source.Commit != p.Spec.Release || r.Number != p.Spec.Aliases.Numeric {
		return fault.New(fault.Validation, "%s@%s is release %d of %s/%s at %s, not the pointer's release %d of %s/%s at %s: refused",
			name, digest, r.Number, r.Repository, r.Project, r.Source.Commit, p.Spec.Aliases.Numeric, repo, project, p.Spec.Release)
	}
	fmt.Fprintf(log, "forge-cmp: %d bytes of resources\n", len(r.Resources))
	_, err = out.Write(r.Resources)
	return err
}

// readPointer reads release.yaml, refusing a link or anything that is
// not a regular file, and a file over deploying.MaxPointerBytes.
func readPointer(path string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fault.New(fault.Validation, "no %s here: %v (Argo CD runs the plugin in the pointer's directory)", release.PointerFile, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fault.New(fault.Validation, "%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > deploying.MaxPointerBytes {
		return nil, fault.New(fault.Validation, "%s is %d bytes, over the limit of %d", path, st.Size(), deploying.MaxPointerBytes)
	}
	return os.ReadFile(path)
}
