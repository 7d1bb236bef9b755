package forgedev

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/publishflags"
)

// Signing key files under the data directory: tracking images are signed
// with the private one; `cosign verify --key` takes the public one.
const (
	signingKeyFile = "cosign.key"
	publicKeyFile  = "cosign.pub"
)

// startRegistry serves an OCI registry on a loopback port for as long as
// the platform runs, its blobs under the data directory, unless addr
// names one to use instead. It returns the registry's host:port.
func (p *platform) startRegistry(addr string) (string, error) {
	if addr != "" {
		return addr, nil
	}
	blobs := filepath.Join(p.data, "registry", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("starting the local registry: %w", err)
	}
	srv := &http.Server{Handler: registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)), registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	p.stopRegistry = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return ln.Addr().String(), nil
}

// reportSecretFile holds the secret the run report keys are made with.
const reportSecretFile = "report.key"

// reportSecret returns the data directory's report secret, making one the
// first time.
func reportSecret(data string) ([]byte, error) {
	path := filepath.Join(data, reportSecretFile)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, secret, 0o600); err != nil {
		return nil, err
	}
	return secret, nil
}

// signingKey returns the key file under data, making a key pair there
// the first time.
func signingKey(data string) (string, error) {
	private := filepath.Join(data, signingKeyFile)
	if _, err := os.Stat(private); err == nil {
		return private, nil
	}
	priv, pub, err := signing.GenerateKey()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(data, publicKeyFile), pub, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(private, priv, 0o600); err != nil {
		return "", err
	}
	return private, nil
}

// publishOptions say how the in-process workers publish: every image
// goes to the registry at host, tracking images under host/tracking,
// signed with the data directory's key; docs go to the data directory's
// docs/<bucket>.
func (p *platform) publishOptions(host string) (publishflags.Options, error) {
	key, err := signingKey(p.data)
	if err != nil {
		return publishflags.Options{}, fmt.Errorf("making the signing key: %w", err)
	}
	p.registry = host
	return publishflags.Options{Tracking: host + "/tracking", Override: host, SigningKey: key,
		DocsDir: filepath.Join(p.data, "docs")}, nil
}

// runArtifacts reads the outcome of every artifact a finished run built.
func runArtifacts(ctx context.Context, objects ports.ObjectStore, run *pipeline.Run) []artifact.Output {
	var out discovery.Output
	if json.Unmarshal(run.DiscoveryOutput, &out) != nil {
		return nil
	}
	var list []artifact.Output
	for _, p := range out.Projects {
		if !p.ReleaseTriggered {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(p.Artifacts)) {
			rc, _, err := objects.Get(ctx, orchestrating.ArtifactKey(run.ID, p.Name, name), 0)
			if err != nil {
				continue
			}
			var a artifact.Output
			err = json.NewDecoder(rc).Decode(&a)
			rc.Close()
			if err == nil {
				list = append(list, a)
			}
		}
	}
	return list
}
