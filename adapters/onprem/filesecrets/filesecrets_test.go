package filesecrets_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/filesecrets"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestOnlyFilesUnderTheRoots: a build reaches the files the operator put
// under the secret roots, and nothing else of the worker's: not a file
// elsewhere, not through a link or "..", not the worker's data directory
// even when it lies under a root, not a device or a huge file.
func TestOnlyFilesUnderTheRoots(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "secrets")
	data := filepath.Join(root, "forge-data") // the worker's own data, under a root by mistake
	outside := filepath.Join(base, "worker-token")
	for dir, files := range map[string]map[string]string{
		root: {"npm": "npm-value\n", "big": strings.Repeat("b", 2048)},
		data: {"dev-key.pem": "key-value"},
		base: {"worker-token": "token-value"},
	} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for link, target := range map[string]string{"to-token": outside, "to-data": filepath.Join(data, "dev-key.pem"), "to-npm": filepath.Join(root, "npm")} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	p := filesecrets.New(filesecrets.Options{Roots: []string{root}, Deny: []string{data}, MaxSize: 1024})
	for _, c := range []struct {
		path, want string
		kind       fault.Kind
	}{
		{filepath.Join(root, "npm"), "npm-value", ""},
		{filepath.Join(root, "to-npm"), "npm-value", ""},
		{outside, "is outside this worker's secret roots", fault.PermissionDenied},
		{filepath.Join(root, "..", "worker-token"), "is outside this worker's secret roots", fault.PermissionDenied},
		{filepath.Join(root, "to-token"), "is outside this worker's secret roots", fault.PermissionDenied},
		{filepath.Join(data, "dev-key.pem"), "one of the platform's own files", fault.PermissionDenied},
		{filepath.Join(root, "to-data"), "one of the platform's own files", fault.PermissionDenied},
		{"/etc/does-not-exist", "is outside this worker's secret roots", fault.PermissionDenied},
		{filepath.Join(root, "big"), "is larger than 1024 bytes", fault.Validation},
		{root, "is not a regular file", fault.Validation},
	} {
		got, err := p.Resolve(context.Background(), map[string]any{"path": c.path})
		if c.kind == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: %q, %v", c.path, got, err)
			}
			continue
		}
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "-value") {
			t.Errorf("%s: error %v (%s), want %s containing %q and no value", c.path, err, fault.KindOf(err), c.kind, c.want)
		}
	}
}

func TestNoRootsReadsNothing(t *testing.T) {
	_, err := filesecrets.New(filesecrets.Options{}).Resolve(context.Background(), map[string]any{"path": "/etc/hostname"})
	if !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "--secret-file-root") {
		t.Errorf("error = %v", err)
	}
}

func TestDevicesAreRefused(t *testing.T) {
	p := filesecrets.New(filesecrets.Options{Roots: []string{"/dev"}})
	_, err := p.Resolve(context.Background(), map[string]any{"path": "/dev/zero"})
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
}
