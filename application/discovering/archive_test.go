package discovering

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixture repositories live in testdata/*.txtar: a comment, then files,
// each introduced by a line "-- path --". Keeping them in archives lets a
// fixture hold .gitignore files and symbolic links without the outer
// repository's git acting on them. A file whose path ends in "@symlink"
// becomes a symbolic link (without the suffix) to the path it contains.

// writeArchive unpacks testdata/name.txtar into a new temporary directory.
func writeArchive(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for path, content := range parseArchive(string(data)) {
		full := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if link, ok := strings.CutSuffix(full, "@symlink"); ok {
			if err := os.Symlink(strings.TrimSpace(content), link); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(path, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// parseArchive splits a txtar archive into its files.
func parseArchive(s string) map[string]string {
	files := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			files[name] = body.String()
		}
		body.Reset()
	}
	for line := range strings.Lines(s) {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			name = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
	return files
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
