package forgedev

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnapshotLeavesTheDataDirectoryOut: a data directory inside the
// directory run is not part of its snapshot (it is being written while
// the snapshot is made, and holds the snapshot itself).
func TestSnapshotLeavesTheDataDirectoryOut(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, p := range []string{filepath.Join(dir, "app", "main.go"), filepath.Join(data, "forge.db")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := resolve(context.Background(), dir, "", data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", src.remote, "ls-tree", "-r", "--name-only", src.commit).CombinedOutput()
	if err != nil {
		t.Fatalf("git ls-tree: %v: %s", err, out)
	}
	if got := strings.Fields(string(out)); len(got) != 1 || got[0] != "app/main.go" {
		t.Errorf("the snapshot holds %q, want only app/main.go", got)
	}
}
