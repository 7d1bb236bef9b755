package publishing_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// bucket is an in-memory object store holding what the docs publisher
// writes (Put, Get); it counts writes.
type bucket struct {
	mu      sync.Mutex
	objects map[string][]byte
	types   map[string]string
	puts    int
}

func (b *bucket) Put(_ context.Context, key string, r io.Reader, o ports.PutOptions) (ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return ports.ObjectInfo{}, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key], b.types[key] = data, o.ContentType
	b.puts++
	return ports.ObjectInfo{Key: key, Size: int64(len(data))}, nil
}

func (b *bucket) Get(_ context.Context, key string, _ int64) (io.ReadCloser, ports.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.objects[key]
	if !ok {
		return nil, ports.ObjectInfo{}, fault.New(fault.NotFound, "%s", key)
	}
	return io.NopCloser(bytes.NewReader(data)), ports.ObjectInfo{Key: key, Size: int64(len(data))}, nil
}

func (b *bucket) Stat(context.Context, string) (ports.ObjectInfo, error) {
	return ports.ObjectInfo{}, fault.New(fault.Unavailable, "not used by the docs publisher")
}
func (b *bucket) Delete(context.Context, string) error {
	return fault.New(fault.Unavailable, "not used by the docs publisher")
}
func (b *bucket) List(context.Context, string, string, int) ([]ports.ObjectInfo, bool, error) {
	return nil, false, fault.New(fault.Unavailable, "not used by the docs publisher")
}
func (b *bucket) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", fault.New(fault.Unavailable, "not used by the docs publisher")
}

func tgz(t *testing.T, entries []tar.Header, contents map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		h.Size = int64(len(contents[h.Name]))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(contents[h.Name]))
	}
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

func TestDocsPublisher(t *testing.T) {
	site := tgz(t, []tar.Header{{Name: "./", Typeflag: tar.TypeDir}, {Name: "./index.html", Typeflag: tar.TypeReg}, {Name: "./css/site.css", Typeflag: tar.TypeReg}},
		map[string]string{"./index.html": "<title>hello</title>", "./css/site.css": "body{}"})
	slip := tgz(t, []tar.Header{{Name: "../../etc/passwd", Typeflag: tar.TypeReg}}, map[string]string{"../../etc/passwd": "x"})
	link := tgz(t, []tar.Header{{Name: "escape", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}, nil)
	write := func(b []byte) func(string) int {
		return func(staging string) int { _ = os.WriteFile(filepath.Join(staging, "site.tar.gz"), b, 0o644); return 0 }
	}
	f := newFixture(t, producers{"site": write(site), "slip": write(slip), "link": write(link)})
	store := &bucket{objects: map[string][]byte{}, types: map[string]string{}}
	f.svc.Objects = func(_ context.Context, p config.Publisher) (ports.ObjectStore, func(), error) {
		if p.Settings["bucket"] != "docs-bucket" {
			return nil, nil, fault.New(fault.NotFound, "no bucket %v", p.Settings["bucket"])
		}
		return store, func() {}, nil
	}
	ctx := context.Background()
	build := func(run string) artifact.Publication {
		r := request("site", config.Artifact{Type: config.ArtifactArchive, Producer: config.Producer{Script: &config.ScriptProducer{Run: run}},
			Publishers: map[string]map[string]any{"docs": {}}})
		r.Publishers["docs"] = config.Publisher{Type: "docs", Settings: map[string]any{"bucket": "docs-bucket", "prefix": "sites"}}
		out, err := f.svc.Build(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return out.Publishers["docs"]
	}
	pub := build("site")
	if pub.Status != artifact.Published || pub.Fields["uri"] != "s3://docs-bucket/sites/hello/site/" || pub.Fields["files"] != 2 {
		t.Fatalf("docs = %+v", pub)
	}
	if string(store.objects["sites/hello/site/index.html"]) != "<title>hello</title>" || store.types["sites/hello/site/index.html"] != "text/html; charset=utf-8" ||
		string(store.objects["sites/hello/site/css/site.css"]) != "body{}" {
		t.Errorf("bucket = %v", store.types)
	}
	puts := store.puts
	if pub = build("site"); pub.Status != artifact.Present || store.puts != puts {
		t.Errorf("second publication = %+v after %d more writes; want present, none", pub, store.puts-puts)
	}
	for run, want := range map[string]string{"slip": `entry "../../etc/passwd" leaves its directory`, "link": `entry "escape" is not a regular file`} {
		if pub = build(run); pub.Status != artifact.Failed || !strings.Contains(pub.Error, want) {
			t.Errorf("%s: %+v, want %q", run, pub, want)
		}
	}
}
