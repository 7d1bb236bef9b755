package publishing

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing/fstest"

	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// stagedImage is a container image a producer left in an OCI image
// layout: the manifest (or index) to publish, the manifests an index
// names, and every blob.
type stagedImage struct {
	root     ports.RawManifest
	desc     oci.Descriptor
	children []ports.RawManifest
	blobs    []ports.Blob
}

// maxLayoutTar bounds an image.tar read into memory.
const maxLayoutTar = 4 << 30

// namedLayout opens the layout at path: a directory, or a tar holding one.
func namedLayout(path string) (fs.FS, string, error) {
	st, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("its producer left no image at %s", filepath.Base(path))
	case st.IsDir():
		return os.DirFS(path), path, nil
	}
	layout, _, err := openLayout(dirOf{path})
	return layout, path, err
}

// dirOf is a file system holding one file, path, as "image.tar".
type dirOf struct{ path string }

func (d dirOf) Open(name string) (fs.File, error) {
	if name != "image.tar" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return os.Open(d.path)
}

// openLayout finds the image in staging: the layout directory "image",
// or the tar "image.tar" holding one.
func openLayout(staging fs.FS) (fs.FS, string, error) {
	if st, err := fs.Stat(staging, "image"); err == nil && st.IsDir() {
		sub, err := fs.Sub(staging, "image")
		return sub, "image", err
	}
	f, err := staging.Open("image.tar")
	if err != nil {
		return nil, "", errors.New("a container producer must leave an OCI image layout in $FORGE_STAGING_DIR/image or $FORGE_STAGING_DIR/image.tar")
	}
	defer f.Close()
	mem := fstest.MapFS{}
	tr := tar.NewReader(io.LimitReader(f, maxLayoutTar))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("image.tar: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(h.Name)
		if !fs.ValidPath(name) {
			return nil, "", fmt.Errorf("image.tar: entry %q leaves the layout", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, "", fmt.Errorf("image.tar: %w", err)
		}
		mem[name] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return mem, "image.tar", nil
}

// readLayout reads the one image of an OCI image layout.
func readLayout(layout fs.FS) (*stagedImage, error) {
	b, err := fs.ReadFile(layout, "index.json")
	if err != nil {
		return nil, errors.New("the OCI layout has no index.json")
	}
	var idx oci.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("the layout's index.json is not an OCI index: %v", err)
	}
	if len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("the layout's index.json names %d images; a container artifact is one image (or one index of images)", len(idx.Manifests))
	}
	img := &stagedImage{}
	seen := map[oci.Digest]bool{}
	root, err := readManifest(layout, idx.Manifests[0])
	if err != nil {
		return nil, err
	}
	img.root, img.desc = root, oci.DescriptorOf(root.MediaType, root.Bytes)
	manifests := []ports.RawManifest{root}
	if oci.IsIndex(root.MediaType) {
		var child oci.Index
		if err := json.Unmarshal(root.Bytes, &child); err != nil {
			return nil, fmt.Errorf("the image index is not JSON: %v", err)
		}
		manifests = nil
		for _, d := range child.Manifests {
			m, err := readManifest(layout, d)
			if err != nil {
				return nil, err
			}
			img.children = append(img.children, m)
			manifests = append(manifests, m)
		}
	}
	for _, m := range manifests {
		var doc oci.Manifest
		if err := json.Unmarshal(m.Bytes, &doc); err != nil {
			return nil, fmt.Errorf("an image manifest is not JSON: %v", err)
		}
		for _, d := range append([]oci.Descriptor{doc.Config}, doc.Layers...) {
			if seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
			p, err := blobPath(d.Digest)
			if err != nil {
				return nil, err
			}
			st, err := fs.Stat(layout, p)
			if err != nil || st.Size() != d.Size {
				return nil, fmt.Errorf("the layout lacks blob %s (%d bytes)", d.Digest, d.Size)
			}
			img.blobs = append(img.blobs, ports.Blob{Descriptor: oci.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size},
				Open: func() (io.ReadCloser, error) { return layout.Open(p) }})
		}
	}
	return img, nil
}

func blobPath(d oci.Digest) (string, error) {
	if _, err := oci.ParseDigest(string(d)); err != nil {
		return "", fmt.Errorf("the layout names %v", err)
	}
	return "blobs/sha256/" + d.Hex(), nil
}

// readManifest reads the manifest d describes and checks its digest.
func readManifest(layout fs.FS, d oci.Descriptor) (ports.RawManifest, error) {
	if !oci.IsManifest(d.MediaType) {
		return ports.RawManifest{}, fmt.Errorf("the layout names %s of media type %q, not an image manifest or index", d.Digest, d.MediaType)
	}
	p, err := blobPath(d.Digest)
	if err != nil {
		return ports.RawManifest{}, err
	}
	b, err := fs.ReadFile(layout, p)
	if err != nil {
		return ports.RawManifest{}, fmt.Errorf("the layout lacks manifest %s", d.Digest)
	}
	if oci.DigestOf(b) != d.Digest {
		return ports.RawManifest{}, fmt.Errorf("manifest %s of the layout does not match its digest", d.Digest)
	}
	return ports.RawManifest{MediaType: d.MediaType, Bytes: b}, nil
}
