package publishing

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// produced is what a producer left in staging.
type produced struct {
	// fields are the producer's output fields of spec 04.
	fields map[string]any
	// image is the container, for container artifacts.
	image *stagedImage
	// file is the staged file of a binary or archive.
	file string
}

// produce runs the artifact's producer into staging. A producer that
// cannot run or fails is an error saying so in the user's terms.
func (s *Service) produce(ctx context.Context, req Request, staging string) (*produced, error) {
	p := req.Artifact.Producer
	var step ports.StepRequest
	kind := producerName(p)
	switch {
	case p.Script != nil:
		step = ports.StepRequest{Action: string(config.ActionScript), Run: p.Script.Run, Shell: p.Script.Shell}
	case p.Earthly != nil:
		run, err := earthlyArtifacts(p.Earthly)
		if err != nil {
			return nil, err
		}
		step = ports.StepRequest{Action: string(config.ActionScript), Run: run}
	default:
		return nil, errors.New("it has no producer")
	}
	step.Dir = filepath.Join(req.Dir, filepath.FromSlash(req.ProjectPath))
	step.Env = map[string]string{"FORGE_STAGING_DIR": staging, "FORGE_ARTIFACT": req.Name, "FORGE_ARTIFACT_TYPE": string(req.Artifact.Type)}
	maps.Copy(step.Env, req.Env)
	step.Output = req.Log
	res, err := s.Steps.Execute(ctx, step)
	if err != nil {
		return nil, fmt.Errorf("its %s producer could not run: %v", kind, err)
	}
	switch {
	case res.Cancelled:
		return nil, context.Cause(ctx)
	case res.TimedOut:
		return nil, fmt.Errorf("its %s producer timed out", kind)
	case !res.Succeeded():
		return nil, fmt.Errorf("its %s producer exited with code %d", kind, res.ExitCode)
	}
	if p.Script == nil {
		return collect(req.Artifact.Type, staging, "")
	}
	if out := p.Script.Output; out != "" {
		path := filepath.Join(req.Dir, filepath.FromSlash(req.ProjectPath), filepath.FromSlash(out))
		if !filepath.IsLocal(filepath.FromSlash(out)) {
			return nil, fmt.Errorf("its producer's output %q leaves the project directory", out)
		}
		return collect(req.Artifact.Type, staging, path)
	}
	return collect(req.Artifact.Type, staging, "")
}

// collect reads what the producer left, by artifact type: at output when
// the configuration names it, else in staging.
func collect(typ config.ArtifactType, staging, output string) (*produced, error) {
	if typ == config.ArtifactContainer {
		var (
			layout fs.FS
			where  string
			err    error
		)
		if output != "" {
			layout, where, err = namedLayout(output)
		} else {
			layout, where, err = openLayout(os.DirFS(staging))
			where = filepath.Join(staging, where)
		}
		if err != nil {
			return nil, err
		}
		img, err := readLayout(layout)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", filepath.Base(where), err)
		}
		size := img.desc.Size
		layers := 0
		for _, b := range img.blobs {
			size += b.Size
		}
		for _, m := range append([]ports.RawManifest{img.root}, img.children...) {
			var doc oci.Manifest
			if !oci.IsIndex(m.MediaType) && json.Unmarshal(m.Bytes, &doc) == nil {
				layers += len(doc.Layers)
			}
		}
		return &produced{image: img, fields: map[string]any{
			"location_type": "oci-layout", "path": where,
			"digest": string(img.desc.Digest), "size": size, "layers": layers, "media_type": img.root.MediaType,
		}}, nil
	}
	file := output
	if file == "" {
		var err error
		if file, err = onlyFile(staging); err != nil {
			return nil, err
		}
	} else if st, err := os.Lstat(file); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("its producer left no file at %s", filepath.Base(file))
	}
	digest, size, err := fileDigest(file)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"location_type": "file", "path": file, "digest": digest, "size": size}
	switch typ {
	case config.ArtifactBinary:
		fields["executable"] = filepath.Base(file)
		for k, v := range binaryFacts(file) {
			fields[k] = v
		}
	case config.ArtifactArchive:
		format, entries, err := archiveFacts(file)
		if err != nil {
			return nil, err
		}
		fields["format"], fields["entries"] = format, entries
	}
	return &produced{file: file, fields: fields}, nil
}

// onlyFile is the one regular file the producer left in staging.
func onlyFile(staging string) (string, error) {
	entries, err := os.ReadDir(staging)
	if err != nil {
		return "", err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, e.Name())
		}
	}
	if len(files) != 1 {
		return "", fmt.Errorf("its producer must leave exactly one file in $FORGE_STAGING_DIR, and left %d (%s)", len(files), strings.Join(files, ", "))
	}
	return filepath.Join(staging, files[0]), nil
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// binaryFacts reads the target of an ELF executable; other files (a
// script, a binary of another format) say nothing.
func binaryFacts(path string) map[string]any {
	f, err := elf.Open(path)
	if err != nil {
		return map[string]any{}
	}
	defer f.Close()
	arch := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm", elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x"}[f.Machine]
	static := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			static = false
		}
	}
	return map[string]any{"os": "linux", "arch": arch, "static": static}
}

// archiveFacts says an archive's format, from its name, and counts its
// entries.
func archiveFacts(path string) (string, int, error) {
	name := strings.ToLower(filepath.Base(path))
	open := func(wrap func(io.Reader) (io.Reader, error)) (int, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r, err := wrap(f)
		if err != nil {
			return 0, err
		}
		tr := tar.NewReader(r)
		n := 0
		for {
			if _, err := tr.Next(); err == io.EOF {
				return n, nil
			} else if err != nil {
				return 0, err
			}
			n++
		}
	}
	var (
		format string
		n      int
		err    error
	)
	switch {
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		format = "tar.gz"
		n, err = open(func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
	case strings.HasSuffix(name, ".tar.bz2"):
		format = "tar.bz2"
		n, err = open(func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil })
	case strings.HasSuffix(name, ".tar"):
		format = "tar"
		n, err = open(func(r io.Reader) (io.Reader, error) { return r, nil })
	case strings.HasSuffix(name, ".zip"):
		format = "zip"
		var z *zip.ReadCloser
		if z, err = zip.OpenReader(path); err == nil {
			n = len(z.File)
			z.Close()
		}
	default:
		return "", 0, fmt.Errorf("its archive %s is none of .tar.gz, .tgz, .tar.bz2, .tar, .zip", filepath.Base(path))
	}
	if err != nil {
		return "", 0, fmt.Errorf("its archive %s cannot be read as %s: %v", filepath.Base(path), format, err)
	}
	return format, n, nil
}

// earthlyTarget is an Earthly target reference: +name, or a directory or
// remote reference followed by +name.
var earthlyTarget = regexp.MustCompile(`^[A-Za-z0-9_./:@-]*\+[A-Za-z0-9_-]+$`)

// earthlyArtifacts is the command that runs an earthly producer: the
// target's saved artifacts (all of them, by the /* wildcard) are copied
// into the staging directory, where the same rules as for a script
// producer read them (an OCI layout for a container, since Earthly's
// SAVE IMAGE needs a Docker daemon; one file for a binary or an archive).
func earthlyArtifacts(e *config.EarthlyProducer) (string, error) {
	if !earthlyTarget.MatchString(e.Target) {
		return "", fmt.Errorf("earthly target %q is not a target reference (+name, or path+name)", e.Target)
	}
	cmd := []string{"exec", "earthly", "--ci", "--artifact", shellQuote(e.Target + "/*"), `"$FORGE_STAGING_DIR/"`}
	for _, a := range e.Args {
		cmd = append(cmd, shellQuote(a))
	}
	return strings.Join(cmd, " "), nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
