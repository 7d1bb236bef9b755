package publishing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"cuelang.org/go/mod/modfile"
	"cuelang.org/go/mod/module"
	"cuelang.org/go/mod/modzip"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// The media types of CUE's module registry protocol: a module is an OCI
// manifest whose config has the module artifact type, with the module's
// zip and its cue.mod/module.cue as layers.
const (
	MediaTypeCUEModule     = "application/vnd.cue.module.v1+json"
	MediaTypeCUEModuleFile = "application/vnd.cue.modulefile.v1"
)

// cue publishes an archive holding a CUE module (cue.mod/module.cue at
// its root) as version (the project configuration's, a canonical semver
// such as v1.2.0) to <registry>[/<namespace>]/<module path>:<version>, as
// `cue mod publish` would, so that `cue mod get` with
// CUE_REGISTRY=<registry>[/<namespace>] fetches it. The module zip is
// made and checked by CUE's own modzip, so what it accepts is what CUE
// accepts. A version that exists with the same content is left alone;
// with other content it is an error, since module versions never change.
func (s *Service) cue(ctx context.Context, req Request, repoCfg config.Publisher, projectCfg map[string]any, p *produced) (map[string]any, bool, error) {
	format, _ := p.fields["format"].(string)
	if req.Artifact.Type != config.ArtifactArchive || format == "" {
		return nil, false, fmt.Errorf("cue publishes archive artifacts holding a CUE module, and %s is a %s", req.Name, req.Artifact.Type)
	}
	version, _ := projectCfg["version"].(string)
	if version == "" {
		return nil, false, errors.New(`the project's cue publisher settings need version (such as "v1.2.0")`)
	}
	dir, err := os.MkdirTemp("", "forge-cue-module-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	if err := extract(p.file, format, dir); err != nil {
		return nil, false, err
	}
	modFile, err := os.ReadFile(filepath.Join(dir, "cue.mod", "module.cue"))
	if err != nil {
		return nil, false, errors.New("the archive holds no cue.mod/module.cue at its root")
	}
	mf, err := modfile.Parse(modFile, "cue.mod/module.cue")
	if err != nil {
		return nil, false, fmt.Errorf("its cue.mod/module.cue: %v", err)
	}
	mv, err := module.NewVersion(mf.QualifiedModule(), version)
	if err != nil {
		return nil, false, fmt.Errorf("module %s version %s: %v", mf.QualifiedModule(), version, err)
	}
	var zipped bytes.Buffer
	if err := modzip.CreateFromDir(&zipped, mv, dir); err != nil {
		return nil, false, fmt.Errorf("CUE refuses the module: %v", err)
	}
	host, _ := repoCfg.Settings["registry"].(string)
	if s.Override != "" {
		host = s.Override
	}
	if host == "" {
		return nil, false, errors.New("the publisher names no registry")
	}
	namespace, _ := repoCfg.Settings["namespace"].(string)
	prefix := strings.Trim(path.Join(host, strings.Trim(namespace, "/")), "/")
	repo := prefix + "/" + mv.BasePath()
	ref := repo + ":" + version

	cfg := ports.BytesBlob(MediaTypeCUEModule, []byte("{}"))
	blobs := []ports.Blob{cfg, ports.BytesBlob("application/zip", zipped.Bytes()), ports.BytesBlob(MediaTypeCUEModuleFile, modFile)}
	manifest, err := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, Config: cfg.Descriptor,
		Layers: []oci.Descriptor{blobs[1].Descriptor, blobs[2].Descriptor}})
	if err != nil {
		return nil, false, err
	}
	digest := oci.DigestOf(manifest)
	fields := map[string]any{"uri": ref + "@" + string(digest), "module": mv.BasePath(), "version": version,
		"registry": prefix, "digest": string(digest)}
	reg, err := s.Registry(ctx, host, repoCfg.Credentials)
	if err != nil {
		return nil, false, err
	}
	switch d, err := reg.Resolve(ctx, ref); {
	case err == nil && d.Digest == digest:
		return fields, true, nil
	case err == nil:
		return nil, false, fmt.Errorf("module %s@%s exists with other content (%s); a module version never changes", mv.BasePath(), version, d.Digest)
	case !fault.Is(err, fault.NotFound):
		return nil, false, err
	}
	for _, b := range blobs {
		if err := reg.PushBlob(ctx, repo, b); err != nil {
			return nil, false, err
		}
	}
	if _, err := reg.PushManifest(ctx, ref, ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: manifest}); err != nil {
		return nil, false, err
	}
	return fields, false, nil
}

// extract writes an archive's regular files under dir, refusing entries
// that would leave it.
func extract(file, format, dir string) error {
	return eachEntry(file, format, func(name string, size int64, r io.Reader) error {
		clean, err := entryPath(name, size)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("the archive's entry %q: %v", name, err)
		}
		_, err = io.Copy(f, io.LimitReader(r, maxDocsEntry))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}
