package publishing

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/ports"
)

// docsMarker is the object, beside the files a docs publisher wrote,
// that records which archive they came from; it is written last.
const docsMarker = ".forge-artifact.json"

// maxDocsEntry bounds one file of a docs archive.
const maxDocsEntry = 1 << 30

// docs extracts an archive artifact into a bucket, under
// <publisher prefix>/<prefix> (the project configuration's prefix,
// "<project>/<artifact>" by default). The same archive there already
// (its marker names the digest) is left alone. Entries that would leave
// the prefix (absolute paths, "..") and links are refused.
func (s *Service) docs(ctx context.Context, req Request, repoCfg config.Publisher, projectCfg map[string]any, p *produced) (map[string]any, bool, error) {
	format, _ := p.fields["format"].(string)
	if req.Artifact.Type != config.ArtifactArchive || format == "" {
		return nil, false, fmt.Errorf("docs publishes archive artifacts, and %s is a %s", req.Name, req.Artifact.Type)
	}
	if s.Objects == nil {
		return nil, false, errors.New("this worker publishes no docs")
	}
	bucket, _ := repoCfg.Settings["bucket"].(string)
	if bucket == "" {
		return nil, false, errors.New("the publisher names no bucket")
	}
	base, _ := repoCfg.Settings["prefix"].(string)
	sub, _ := projectCfg["prefix"].(string)
	if sub == "" {
		sub = req.Project + "/" + req.Name
	}
	prefix := strings.Trim(path.Join(strings.Trim(base, "/"), strings.Trim(sub, "/")), "/")
	if prefix == "" || prefix == "." || strings.HasPrefix(prefix, "..") {
		return nil, false, fmt.Errorf("prefix %q leaves the bucket's root", sub)
	}
	store, release, err := s.Objects(ctx, repoCfg)
	if err != nil {
		return nil, false, err
	}
	defer release()
	digest, _ := p.fields["digest"].(string)
	fields := map[string]any{"uri": "s3://" + bucket + "/" + prefix + "/", "bucket": bucket, "key": prefix + "/"}
	if marked(ctx, store, prefix+"/"+docsMarker) == digest {
		return fields, true, nil
	}
	n := 0
	err = eachEntry(p.file, format, func(name string, size int64, r io.Reader) error {
		clean, err := entryPath(name, size)
		if err != nil {
			return err
		}
		if clean == docsMarker {
			return fmt.Errorf("the archive's entry %q is the publisher's own marker", name)
		}
		n++
		_, err = store.Put(ctx, prefix+"/"+clean, io.LimitReader(r, maxDocsEntry), ports.PutOptions{ContentType: contentType(clean)})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	marker, _ := json.Marshal(map[string]any{"digest": digest, "project": req.Project, "artifact": req.Name, "commit": req.CommitSHA, "files": n})
	if _, err := store.Put(ctx, prefix+"/"+docsMarker, bytes.NewReader(marker), ports.PutOptions{ContentType: "application/json"}); err != nil {
		return nil, false, err
	}
	fields["files"] = n
	return fields, false, nil
}

// marked returns the digest a docs marker records, "" when there is none.
func marked(ctx context.Context, store ports.ObjectStore, key string) string {
	rc, _, err := store.Get(ctx, key, 0)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var m struct{ Digest string }
	if json.NewDecoder(io.LimitReader(rc, 1<<16)).Decode(&m) != nil {
		return ""
	}
	return m.Digest
}

// entryPath is an archive entry's path, cleaned, or an error when it
// would leave the archive's directory or is too large.
func entryPath(name string, size int64) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if clean == "." || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("the archive's entry %q leaves its directory", name)
	}
	if size > maxDocsEntry {
		return "", fmt.Errorf("the archive's entry %q is larger than 1 GiB", name)
	}
	return clean, nil
}

// eachEntry calls f for every regular file of an archive; links and
// other special entries are refused.
func eachEntry(file, format string, f func(name string, size int64, r io.Reader) error) error {
	if format == "zip" {
		z, err := zip.OpenReader(file)
		if err != nil {
			return err
		}
		defer z.Close()
		for _, e := range z.File {
			if e.FileInfo().IsDir() {
				continue
			}
			if !e.Mode().IsRegular() {
				return fmt.Errorf("the archive's entry %q is not a regular file", e.Name)
			}
			rc, err := e.Open()
			if err != nil {
				return err
			}
			err = f(e.Name, int64(e.UncompressedSize64), rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	var r io.Reader = fh
	switch format {
	case "tar.gz":
		if r, err = gzip.NewReader(fh); err != nil {
			return err
		}
	case "tar.bz2":
		r = bzip2.NewReader(fh)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
			if err := f(h.Name, h.Size, tr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("the archive's entry %q is not a regular file", h.Name)
		}
	}
}

// contentType guesses a web content type from a file's extension.
func contentType(name string) string {
	types := map[string]string{".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
		".js": "text/javascript; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
		".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
		".woff2": "font/woff2", ".ico": "image/x-icon", ".pdf": "application/pdf", ".md": "text/markdown; charset=utf-8"}
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
