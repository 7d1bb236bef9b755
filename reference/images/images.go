// Package images builds the OCI images of the platform's binaries without a
// Docker daemon (go-containerregistry): each binary is cross-compiled
// statically for linux (CGO off, -trimpath, no build ID) and laid, with
// the CA certificates and a passwd entry for the non-root user 65532, in
// one layer whose every file has the same owner and modification time
// (SOURCE_DATE_EPOCH, 0 by default), so the same source gives the same
// digests. forge-worker runs git and the steps' shell, so its image is
// laid on a base that has them (Options.WorkerBase); the others are FROM
// scratch. reference/cmd/forge-images and `make images` use it.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Binaries are the commands that have an image.
var Binaries = []string{"forge-api", "forge-worker", "forge-dispatcher", "forge-cmp"}

// needsBase lists the binaries whose image needs Options.WorkerBase.
var needsBase = []string{"forge-worker"}

// Options say what to build.
type Options struct {
	// ModuleDir is the repository's root (where go.mod is).
	ModuleDir string
	// Binaries to build (default: all of Binaries).
	Binaries []string
	// Arch is the CPU architecture (default amd64).
	Arch string
	// Version is set in the binaries (forgecli.Version) and labelled.
	Version string
	// Epoch is every file's and the image's time (SOURCE_DATE_EPOCH).
	Epoch time.Time
	// CABundle is the CA certificates file to include (default
	// /etc/ssl/certs/ca-certificates.crt).
	CABundle string
	// WorkerBase is the image forge-worker is laid on: one with git and a
	// POSIX shell (e.g. cgr.dev/chainguard/git:latest-dev); WorkerBaseImage,
	// when set, is used instead (tests).
	WorkerBase      string
	WorkerBaseImage v1.Image
	// Remote are the options to pull the base with.
	Remote []remote.Option
}

// Build cross-compiles the binaries and returns their images by binary.
// Errors: Validation (an unknown binary, no base for forge-worker, no CA
// bundle), Internal (the build failed, with go's output), Unavailable (the
// base could not be pulled).
func Build(ctx context.Context, o Options) (map[string]v1.Image, error) {
	if len(o.Binaries) == 0 {
		o.Binaries = Binaries
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.CABundle == "" {
		o.CABundle = "/etc/ssl/certs/ca-certificates.crt"
	}
	ca, err := os.ReadFile(o.CABundle)
	if err != nil {
		return nil, fault.New(fault.Validation, "the CA bundle %s cannot be read: %v", o.CABundle, err)
	}
	var base v1.Image
	for _, b := range o.Binaries {
		if !slices.Contains(Binaries, b) {
			return nil, fault.New(fault.Validation, "no image for %q: the images are %s", b, strings.Join(Binaries, ", "))
		}
		if slices.Contains(needsBase, b) && base == nil {
			if base, err = workerBase(o); err != nil {
				return nil, err
			}
		}
	}
	out := map[string]v1.Image{}
	tmp, err := os.MkdirTemp("", "forge-images")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "a build directory")
	}
	defer os.RemoveAll(tmp)
	for _, b := range o.Binaries {
		bin, err := compile(ctx, o, b, tmp)
		if err != nil {
			return nil, err
		}
		from := empty.Image
		if slices.Contains(needsBase, b) {
			from = base
		}
		img, err := assemble(o, b, bin, ca, from)
		if err != nil {
			return nil, err
		}
		out[b] = img
	}
	return out, nil
}

func workerBase(o Options) (v1.Image, error) {
	if o.WorkerBaseImage != nil {
		return o.WorkerBaseImage, nil
	}
	if o.WorkerBase == "" {
		return nil, fault.New(fault.Validation, "forge-worker runs git and the steps' shell: name a base image that has them (--worker-base, WORKER_BASE)")
	}
	ref, err := name.ParseReference(o.WorkerBase)
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "--worker-base %q", o.WorkerBase)
	}
	img, err := remote.Image(ref, append(o.Remote, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: o.Arch}))...)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "pulling the worker base %s", o.WorkerBase)
	}
	return img, nil
}

// compile builds one binary statically and reproducibly.
func compile(ctx context.Context, o Options, binary, dir string) ([]byte, error) {
	out := filepath.Join(dir, binary)
	ldflags := "-s -w -buildid= -X github.com/catalyst-forge/forge/reference/forgecli.Version=" + o.Version
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./reference/cmd/"+binary)
	cmd.Dir = o.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch, "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fault.New(fault.Internal, "building %s: %v\n%s", binary, err, msg)
	}
	return os.ReadFile(out)
}

// assemble lays the binary, the CA bundle and the user on from.
func assemble(o Options, binary string, bin, ca []byte, from v1.Image) (v1.Image, error) {
	layer, err := filesLayer(o.Epoch, []file{
		{path: "etc/", mode: 0o755, dir: true},
		{path: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nforge:x:65532:65532:forge:/home/forge:/sbin/nologin\n")},
		{path: "etc/group", mode: 0o644, data: []byte("root:x:0:\nforge:x:65532:\n")},
		{path: "etc/ssl/", mode: 0o755, dir: true},
		{path: "etc/ssl/certs/", mode: 0o755, dir: true},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{path: "home/", mode: 0o755, dir: true},
		{path: "home/forge/", mode: 0o755, dir: true, uid: 65532},
		{path: "tmp/", mode: 0o1777, dir: true},
		{path: "usr/", mode: 0o755, dir: true},
		{path: "usr/local/", mode: 0o755, dir: true},
		{path: "usr/local/bin/", mode: 0o755, dir: true},
		{path: "usr/local/bin/" + binary, mode: 0o755, data: bin},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(from, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "forge-images: " + binary, Created: v1.Time{Time: o.Epoch}}})
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "adding the layer of %s", binary)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "reading the config of %s", binary)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = "linux", o.Arch, v1.Time{Time: o.Epoch}
	cfg.Config.Entrypoint = []string{"/usr/local/bin/" + binary}
	cfg.Config.Cmd = nil
	cfg.Config.User = "65532:65532"
	cfg.Config.WorkingDir = "/home/forge"
	cfg.Config.Env = mergeEnv(cfg.Config.Env, "PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "HOME=/home/forge")
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   binary,
		"org.opencontainers.image.source":  "https://github.com/catalyst-forge/forge",
		"org.opencontainers.image.version": o.Version,
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "the config of %s", binary)
	}
	if from == empty.Image {
		img = mutate.MediaType(mutate.ConfigMediaType(img, types.OCIConfigJSON), types.OCIManifestSchema1)
	}
	return img, nil
}

// mergeEnv sets each NAME=value of set in env, replacing the base's.
func mergeEnv(env []string, set ...string) []string {
	out := slices.Clone(env)
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		out = append(out, kv)
	}
	return out
}

type file struct {
	path string
	mode int64
	dir  bool
	uid  int
	data []byte
}

// filesLayer writes files in order into one tar layer, every entry with
// the same time and no user names, so that the same files give the same
// bytes.
func filesLayer(epoch time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, ModTime: epoch, Uid: f.uid, Gid: f.uid, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "writing the layer")
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "writing the layer")
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the layer")
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "compressing the layer")
	}
	return layer, nil
}

// Push pushes each image to registry/<binary>:tag (nameOpts parse the
// names: name.Insecure for a plain-HTTP registry) and returns the pushed
// references with their digests, by binary.
func Push(ctx context.Context, imgs map[string]v1.Image, registry, tag string, nameOpts []name.Option, opts ...remote.Option) (map[string]string, error) {
	out := map[string]string{}
	keys := make([]string, 0, len(imgs))
	for k := range imgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, b := range keys {
		ref, err := name.ParseReference(strings.TrimSuffix(registry, "/")+"/"+b+":"+tag, nameOpts...)
		if err != nil {
			return nil, fault.Wrap(fault.Validation, err, "the image name of %s under %q", b, registry)
		}
		if err := remote.Write(ref, imgs[b], append(opts, remote.WithContext(ctx))...); err != nil {
			return nil, fault.Wrap(fault.Unavailable, err, "pushing %s", ref)
		}
		d, err := imgs[b].Digest()
		if err != nil {
			return nil, fault.Wrap(fault.Internal, err, "the digest of %s", b)
		}
		out[b] = fmt.Sprintf("%s@%s", ref.Context().Name(), d)
	}
	return out, nil
}
