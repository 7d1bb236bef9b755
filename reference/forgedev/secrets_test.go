package forgedev

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// TestStepSecretsEndToEnd runs a step that declares an env secret and a
// file secret through forge dev run: the step gets both values (it checks
// their hashes, so the repository never holds them), prints them, finds
// them masked in its log ("tok""en=" keeps the marker out of the
// repository's own files), and neither value is found anywhere in the data
// directory afterwards: not in the database, the NATS storage, the object
// store, the git cache, or the layers of the images the same run pushed
// (the run's registry keeps its blobs under the data directory).
func TestStepSecretsEndToEnd(t *testing.T) {
	envValue, fileValue := canary(t), canary(t)
	t.Setenv("FORGE_SECRET_E2E_NPM", envValue)
	roots := t.TempDir()
	secretFile := filepath.Join(roots, "db-password")
	if err := os.WriteFile(secretFile, []byte(fileValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := example(t)
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, fmt.Sprintf(`run: """
			test "$(printf %%s "$NPM_TOKEN" | sha256sum | cut -c1-64)" = %q || { echo "env secret wrong"; exit 3; }
			test "$(printf %%s "$DB_PASSWORD" | sha256sum | cut -c1-64)" = %q || { echo "file secret wrong"; exit 4; }
			echo "tok""en=$NPM_TOKEN password=$DB_PASSWORD"
			"""
		secrets: [
			{provider: "env", name: "FORGE_SECRET_E2E_NPM", env: "NPM_TOKEN"},
			{provider: "file", path: %q, env: "DB_PASSWORD"},
		]`, sum(envValue), sum(fileValue), secretFile))
	data := t.TempDir()
	var progress bytes.Buffer
	o := Options{Dir: dir, Data: data, Progress: &progress, Secrets: secretflags.Defaults()}
	o.Secrets.FileRoots = []string{roots}
	out, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess {
		t.Fatalf("run %s: %s\n%v\n%s", out.Run.Status, out.Run.Reason, out.FailedLogs, progress.String())
	}
	log := ""
	scanned := 0
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for _, v := range []string{envValue, fileValue} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("a secret value is stored in %s", path)
			}
		}
		if i := bytes.Index(b, []byte("token=")); i >= 0 {
			log = string(b[i:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(log, "token=*** password=***") {
		t.Errorf("the step's log shows %q, want both values masked", log)
	}
	if len(out.Artifacts) != 3 || out.Artifacts[1].Publishers["registry"].Status != "published" {
		t.Errorf("the run pushed no image to scan: %+v", out.Artifacts)
	}
	blobs, _ := os.ReadDir(filepath.Join(data, "registry", "blobs"))
	if scanned < 10 || len(blobs) == 0 || !strings.Contains(progress.String(), "✓ check/greeting/syntax") {
		t.Errorf("scanned %d files; progress:\n%s", scanned, progress.String())
	}
	if strings.Contains(progress.String(), envValue) || strings.Contains(progress.String(), fileValue) {
		t.Error("the progress output shows a secret value")
	}
}

// TestStepSecretsThatAreNotAllowed: a step asking for a variable that is
// not allowed, or a file outside the secret roots (here the data
// directory's own database), fails with the reason in its log and no
// value anywhere.
func TestStepSecretsThatAreNotAllowed(t *testing.T) {
	t.Setenv("E2E_NOT_ALLOWED", canary(t))
	data := t.TempDir()
	for _, c := range []struct{ ref, want string }{
		{`{provider: "env", name: "E2E_NOT_ALLOWED"}`, "env secret: E2E_NOT_ALLOWED is not allowed on this worker (allowed: FORGE_SECRET_*)"},
		{fmt.Sprintf(`{provider: "file", path: %q}`, filepath.Join(data, "forge.db")), "one of the platform's own files and is never given to builds"},
		{`{provider: "file", path: "relative/secret"}`, `secret provider "file": field path: invalid value "relative/secret"`},
	} {
		dir := example(t)
		edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run: "true"
		secrets: [`+c.ref+`]`)
		o := Options{Dir: dir, Data: data, Secrets: secretflags.Defaults()}
		o.Secrets.FileRoots = []string{data}
		out, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if out.Run.Status != pipeline.StatusFailed {
			t.Errorf("%s: run %s, want failed", c.ref, out.Run.Status)
		}
		if got := out.FailedLogs["check/greeting/syntax"]; !strings.Contains(got, c.want) {
			t.Errorf("%s: log tail %q, want %q", c.ref, got, c.want)
		}
	}
}

func canary(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "canary-" + hex.EncodeToString(b)
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
