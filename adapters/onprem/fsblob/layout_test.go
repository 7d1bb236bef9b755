package fsblob

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key  string
		want string // part of the message; "" for a valid key
	}{
		{"a", ""},
		{"pipeline-runs/r1/logs/test/api/unit.log", ""},
		{".hidden/..dots/...", ""},
		{"a..b/c.", ""},
		{"name.o/name.d/name.ho/name.hd/name.tmp", ""},
		{"ünï/日本/ключ with spaces+%41", ""},
		{strings.Repeat("k", 1024), ""},
		{"", "empty"},
		{"/a", "starts with a slash"},
		{"/", "starts with a slash"},
		{"a/", "empty segment"},
		{"a//b", "empty segment"},
		{"a/./b", `"." segment`},
		{".", `"." segment`},
		{"a/..", `".." segment`},
		{"../etc/passwd", `".." segment`},
		{`a\b`, "backslash"},
		{"a\x00b", "NUL"},
		{strings.Repeat("k", 1025), "1025 bytes long"},
		{strings.Repeat("ab/", 341) + "cd", "1025 bytes long"},
	}
	for _, tt := range tests {
		err := ports.ValidateObjectKey(tt.key)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ports.ValidateObjectKey(%.40q) = %v, want nil", tt.key, err)
		case tt.want != "" && !fault.Is(err, fault.Validation):
			t.Errorf("ports.ValidateObjectKey(%.40q) = %v, want a Validation error", tt.key, err)
		case tt.want != "" && !strings.Contains(err.Error(), tt.want):
			t.Errorf("ports.ValidateObjectKey(%.40q) = %q, want it to say %q", tt.key, err, tt.want)
		}
	}
}

func TestValidateContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"":                          true,
		"text/plain; charset=utf-8": true,
		"a\tb":                      true,
		"text/html\r\nX-Evil: 1":    false,
		"a\x00":                     false,
		"a\x7f":                     false,
		strings.Repeat("x", 1025):   false,
	} {
		if err := ports.ValidateContentType(ct); (err == nil) != ok {
			t.Errorf("ports.ValidateContentType(%.30q) = %v, want ok %v", ct, err, ok)
		}
	}
}

func TestObjectPath(t *testing.T) {
	long := strings.Repeat("x", 254)
	tests := []struct {
		key, dir, file string
	}{
		{"a", "", "a.o"},
		{"a/b", "a.d", "a.d/b.o"},
		{"a/b/c", "a.d/b.d", "a.d/b.d/c.o"},
		{"x.d/y.o", "x.d.d", "x.d.d/y.o.o"},
		{strings.Repeat("x", 253) + "/y", strings.Repeat("x", 253) + ".d", strings.Repeat("x", 253) + ".d/y.o"},
		{long + "/" + long, hashName(long) + ".hd", hashName(long) + ".hd/" + hashName(long) + ".ho"},
	}
	for _, tt := range tests {
		dir, file := objectPath(tt.key)
		if dir != tt.dir || file != tt.file {
			t.Errorf("objectPath(%.30q) = %q, %q; want %q, %q", tt.key, dir, file, tt.dir, tt.file)
		}
	}
}

func TestClassifyKeepsKindsApart(t *testing.T) {
	// Whatever the segment, the name of a directory and of a file never
	// classify as each other, and give the segment back.
	for _, seg := range []string{"a", "a.o", "a.d", "a.ho", "a.tmp", ".", "..x", "x.", strings.Repeat("y", 300)} {
		if k, got := classify(dirName(seg)); (k != dirEntry || got != seg) && k != hashedDirEntry {
			t.Errorf("classify(dirName(%q)) = %v, %q", seg, k, got)
		}
		if k, got := classify(leafName(seg)); (k != leafEntry || got != seg) && k != hashedLeafEntry {
			t.Errorf("classify(leafName(%q)) = %v, %q", seg, k, got)
		}
	}
	for _, name := range []string{".0123abcd.tmp", "signing.key", "noext", ".o"} {
		if k, _ := classify(name); k != otherEntry {
			t.Errorf("classify(%q) = %v, want otherEntry", name, k)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	h := header{Key: "a/b", ContentType: "text/plain"}
	b := append(encodeHeader(h), "content"...)
	got, off, err := readHeader(bytes.NewReader(b))
	if err != nil || got != h || string(b[off:]) != "content" {
		t.Errorf("readHeader = %+v, %d, %v", got, off, err)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"foreign":   []byte("just some file that is long enough"),
		"truncated": encodeHeader(h)[:prefixLen+3],
		"bad json":  append([]byte(magic+"\x00\x00\x00\x02"), "{x"...),
		"too long":  []byte(magic + "\xff\xff\xff\xff"),
	} {
		if _, _, err := readHeader(bytes.NewReader(bad)); err == nil {
			t.Errorf("readHeader(%s) succeeded", name)
		}
	}
}

func newTestStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := New(dir, WithSigning(nil, "http://forge.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

func mustPut(t *testing.T, s *Store, key, content string) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, strings.NewReader(content), ports.PutOptions{}); err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
}

func listAll(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	objs, _, err := s.List(context.Background(), prefix, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestLayoutOnDisk(t *testing.T) {
	s, dir := newTestStore(t)
	mustPut(t, s, "a/b", "b")
	mustPut(t, s, "a/b/c", "c")
	for _, p := range []string{"objects/a.d/b.o", "objects/a.d/b.d/c.o"} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fi.Mode().Perm() != filePerm {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), os.FileMode(filePerm))
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "signing.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("signing.key: %v, %v; want mode 0600", fi, err)
	}
}

func TestLongSegmentsAreHashedAndListedInOrder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	long := strings.Repeat("m", 600)
	keys := []string{
		strings.Repeat("k", 1024), // the longest key, one segment
		"d/" + long,               // a long file name
		"d/" + long + "/x",        // a long directory name
		"d/" + long + "!",
		"d/m",
		"d/n",
	}
	for _, k := range keys {
		mustPut(t, s, k, "content of "+k[len(k)-1:])
	}
	want := []string{"d/m", "d/" + long, "d/" + long + "!", "d/" + long + "/x", "d/n", strings.Repeat("k", 1024)}
	if got := listAll(t, s, ""); !equal(got, want) {
		t.Errorf("List = %.60q…, want %.60q…", got, want)
	}
	if got := listAll(t, s, "d/"+long+"/"); !equal(got, []string{"d/" + long + "/x"}) {
		t.Errorf("List under the long directory = %.60q", got)
	}
	objs, more, err := s.List(ctx, "d/", "d/"+long+"!", 1)
	if err != nil || !more || len(objs) != 1 || objs[0].Key != "d/"+long+"/x" {
		t.Errorf("List after a long key = %+v, %v, %v", objs, more, err)
	}
	rc, _, err := s.Get(ctx, "d/"+long+"/x", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	if b, _ := io.ReadAll(rc); string(b) != "content of x" {
		t.Errorf("Get = %q", b)
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	s, dir := newTestStore(t)
	ctx := context.Background()
	mustPut(t, s, "runs/r1/logs/a.log", "a")
	mustPut(t, s, "runs/r2/logs/b.log", "b")
	if err := s.Delete(ctx, "runs/r1/logs/a.log"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "objects/runs.d/r1.d")); !os.IsNotExist(err) {
		t.Errorf("runs.d/r1.d still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "objects/runs.d/r2.d/logs.d/b.log.o")); err != nil {
		t.Errorf("the neighbour is gone: %v", err)
	}
}

func TestLeftoverFilesAreNotListed(t *testing.T) {
	s, dir := newTestStore(t)
	mustPut(t, s, "a/b", "b")
	// A crash between write and rename leaves a temporary file; other
	// tools may leave files of their own.
	for _, name := range []string{"objects/a.d/.0123abcd.tmp", "objects/a.d/README", "objects/stray.o"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := listAll(t, s, ""); !equal(got, []string{"a/b"}) {
		t.Errorf("List = %q, want only a/b", got)
	}
	_, err := s.Stat(context.Background(), "stray")
	if !fault.Is(err, fault.Internal) {
		t.Errorf("Stat of a file that is no object = %v, want Internal", err)
	}
}

func TestSymlinksAreRefused(t *testing.T) {
	s, dir := newTestStore(t)
	ctx := context.Background()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.o"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "inside/x", "x")
	links := map[string]string{
		"objects/out.d":    outside,                                   // a directory outside the store
		"objects/alias.d":  filepath.Join(dir, "objects", "inside.d"), // a directory inside it
		"objects/file.o":   filepath.Join(dir, "objects", "inside.d", "x.o"),
		"objects/secret.o": filepath.Join(outside, "secret.o"),
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"out/secret", "alias/x", "file", "secret"} {
		if _, _, err := s.Get(ctx, key, 0); !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("Get %q = %v, want Internal about a symlink", key, err)
		}
		if _, err := s.Put(ctx, key+"/new", strings.NewReader("n"), ports.PutOptions{}); key != "file" && key != "secret" && err == nil {
			t.Errorf("Put below %q through a symlink succeeded", key)
		}
		if err := s.Delete(ctx, key); !fault.Is(err, fault.Internal) {
			t.Errorf("Delete %q = %v, want Internal", key, err)
		}
	}
	// file/new and secret/new are keys of their own (file.d/new.o), next
	// to the links; nothing is listed through a link.
	if got := listAll(t, s, ""); !equal(got, []string{"file/new", "inside/x", "secret/new"}) {
		t.Errorf("List = %q, want file/new, inside/x and secret/new (symlinks are not followed)", got)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "secret.o")); err != nil || string(b) != "outside" {
		t.Errorf("the file outside the store changed: %q, %v", b, err)
	}
}
