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

// TestOwnSecretsAreOutOfTheBuildsReach: the worker reads its own secret
// (a signing key) through a registry that reads exactly it, and the
// builds' registry can no longer read it, even where their allow-lists
// would have let them.
func TestOwnSecretsAreOutOfTheBuildsReach(t *testing.T) {
	ctx := context.Background()
	t.Setenv("FORGE_SECRET_COSIGN", "key-from-env")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "cosign.key")
	if err := os.WriteFile(keyFile, []byte("key-from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := secretflags.Defaults()
	o.FileRoots = []string{dir}
	for _, c := range []struct {
		ref  config.SecretRef
		want string
	}{
		{config.SecretRef{Provider: "env", Config: map[string]any{"name": "FORGE_SECRET_COSIGN"}}, "key-from-env"},
		{config.SecretRef{Provider: "file", Config: map[string]any{"path": keyFile}}, "key-from-file"},
	} {
		own, builds, deny, err := secretflags.Own(ctx, o, c.ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := own.Resolve(ctx, c.ref); err != nil || v != c.want {
			t.Errorf("%s: own = %q, %v", c.ref.Provider, v, err)
		}
		// Without Own, the builds could read it: the default prefix and the
		// file root allow it.
		if open, _ := secretflags.Registry(ctx, o); open != nil {
			if v, _ := open.Resolve(ctx, c.ref); v != c.want {
				t.Fatalf("%s: the test's premise: builds could read it, got %q", c.ref.Provider, v)
			}
		}
		reg, err := secretflags.Registry(ctx, builds, deny...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Resolve(ctx, c.ref); !fault.Is(err, fault.PermissionDenied) {
			t.Errorf("%s: builds read the worker's own secret: %v", c.ref.Provider, err)
		}
	}
	o.Kubernetes.Namespaces = []string{"ci", "forge"}
	_, _, _, err := secretflags.Own(ctx, o, config.SecretRef{Provider: "kubernetes", Config: map[string]any{"namespace": "forge", "secretName": "cosign", "key": "k"}}, nil)
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "namespace forge, whose Secrets builds may read") {
		t.Errorf("a key in a namespace builds read: %v", err)
	}
}

func TestReportSecret(t *testing.T) {
	t.Setenv("FORGE_REPORT_SECRET", "")
	if s, err := secretflags.ReportSecret(""); s != nil || err != nil {
		t.Errorf("none given: %q, %v", s, err)
	}
	file := filepath.Join(t.TempDir(), "report.key")
	_ = os.WriteFile(file, []byte("0123456789abcdef0123\n"), 0o600)
	if s, err := secretflags.ReportSecret(file); string(s) != "0123456789abcdef0123" || err != nil {
		t.Errorf("from a file: %q, %v", s, err)
	}
	t.Setenv("FORGE_REPORT_SECRET", "from-the-environment-secret")
	if s, err := secretflags.ReportSecret(""); string(s) != "from-the-environment-secret" || err != nil {
		t.Errorf("from the environment: %q, %v", s, err)
	}
	t.Setenv("FORGE_REPORT_SECRET", "short")
	if _, err := secretflags.ReportSecret(""); !fault.Is(err, fault.Validation) {
		t.Errorf("a short secret: %v", err)
	}
	if _, err := secretflags.ReportSecret(file + ".missing"); !fault.Is(err, fault.Validation) {
		t.Errorf("a missing file: %v", err)
	}
}
