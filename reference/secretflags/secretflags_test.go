package secretflags_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

func TestFlagsAndEnvironment(t *testing.T) {
	t.Setenv("FORGE_SECRETS_ENV_ALLOW", "NPM_TOKEN,PYPI_TOKEN")
	t.Setenv("FORGE_SECRETS_FILE_ROOTS", "/run/secrets")
	var o secretflags.Options
	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	secretflags.Flags(f, &o)
	if err := f.Parse([]string{"--secret-env-prefix", "CI_,BUILD_"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.EnvNames, ",") != "NPM_TOKEN,PYPI_TOKEN" || strings.Join(o.EnvPrefixes, ",") != "CI_,BUILD_" || strings.Join(o.FileRoots, ",") != "/run/secrets" {
		t.Errorf("options = %+v", o)
	}
	var d secretflags.Options
	f = pflag.NewFlagSet("t", pflag.ContinueOnError)
	t.Setenv("FORGE_SECRETS_ENV_ALLOW", "")
	t.Setenv("FORGE_SECRETS_FILE_ROOTS", "")
	secretflags.Flags(f, &d)
	if err := f.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.EnvPrefixes, ",") != strings.Join(secretflags.Defaults().EnvPrefixes, ",") || len(d.FileRoots) != 0 || len(d.EnvNames) != 0 {
		t.Errorf("defaults = %+v", d)
	}
}

// TestRegistryKeepsTheWorkersFiles: a root that holds the worker's own
// files (a careless --secret-file-root /) still never gives them out.
func TestRegistryKeepsTheWorkersFiles(t *testing.T) {
	base := t.TempDir()
	token := filepath.Join(base, "token")
	cache := filepath.Join(base, "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{token, filepath.Join(cache, "x"), filepath.Join(base, "ok")} {
		if err := os.WriteFile(f, []byte("v"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r, err := secretflags.Registry(context.Background(), secretflags.Options{FileRoots: []string{"/"}}, cache, token)
	if err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]fault.Kind{token: fault.PermissionDenied, filepath.Join(cache, "x"): fault.PermissionDenied, filepath.Join(base, "ok"): ""} {
		_, err := r.Resolve(context.Background(), config.SecretRef{Provider: "file", Config: map[string]any{"path": path}})
		if fault.KindOf(err) != kind && !(kind == "" && err == nil) {
			t.Errorf("%s: %v, want %q", path, err, kind)
		}
	}
	if got := strings.Join(r.Names(), ","); got != "aws,env,file,kubernetes,vault" {
		t.Errorf("providers = %s", got)
	}
}
