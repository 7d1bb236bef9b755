package packaging

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzUntarResources: whatever the bytes of a resources layer, reading it
// never panics, and what it accepts is one regular file resources.yaml
// within the size limit.
func FuzzUntarResources(f *testing.F) {
	for _, entries := range [][]*tar.Header{
		{{Name: ResourcesFile, Typeflag: tar.TypeReg, Size: 5, Mode: 0o644}},
		{{Name: "../../etc/passwd", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644}},
		{{Name: ResourcesFile, Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}},
		{{Name: ResourcesFile, Typeflag: tar.TypeLink, Linkname: "x"}},
		{{Name: "/abs", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644}, {Name: ResourcesFile, Typeflag: tar.TypeReg, Size: 5}},
		{{Name: ResourcesFile, Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			_ = tw.WriteHeader(h)
			if h.Typeflag == tar.TypeReg {
				_, _ = tw.Write([]byte("kind\n")[:h.Size])
			}
		}
		_ = tw.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, layer []byte) {
		out, err := untarResources(layer)
		if err != nil {
			return
		}
		if len(out) > MaxResourcesSize {
			t.Fatalf("accepted %d bytes, over the limit", len(out))
		}
		tr := tar.NewReader(bytes.NewReader(layer))
		h, herr := tr.Next()
		if herr != nil || h.Name != ResourcesFile || h.Typeflag != tar.TypeReg {
			t.Fatalf("accepted a layer whose first entry is %+v (%v)", h, herr)
		}
	})
}
