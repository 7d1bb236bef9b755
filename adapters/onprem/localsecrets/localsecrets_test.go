package localsecrets_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/localsecrets"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
)

func TestResolve(t *testing.T) {
	ctx := context.Background()
	t.Setenv("FORGE_LOCALSECRETS_TEST", "from-env")
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref  config.SecretRef
		want string
		kind fault.Kind
	}{
		{config.SecretRef{Provider: "env", Config: map[string]any{"name": "FORGE_LOCALSECRETS_TEST"}}, "from-env", ""},
		{config.SecretRef{Provider: "file", Config: map[string]any{"path": file}}, "from-file", ""},
		{config.SecretRef{Provider: "env", Config: map[string]any{"name": "FORGE_LOCALSECRETS_UNSET"}}, "", fault.NotFound},
		{config.SecretRef{Provider: "file", Config: map[string]any{"path": file + ".missing"}}, "", fault.NotFound},
		{config.SecretRef{Provider: "env"}, "", fault.Validation},
		{config.SecretRef{Provider: "vault", Config: map[string]any{"path": "kv/x"}}, "", fault.Validation},
	} {
		got, err := localsecrets.Resolve(ctx, c.ref)
		switch {
		case c.kind == "" && (err != nil || got != c.want):
			t.Errorf("%s: %q, %v; want %q", c.ref.Provider, got, err, c.want)
		case c.kind != "" && !fault.Is(err, c.kind):
			t.Errorf("%s %v: err = %v, want %s", c.ref.Provider, c.ref.Config, err, c.kind)
		case err != nil && strings.Contains(err.Error(), "from-"):
			t.Errorf("an error shows a value: %v", err)
		}
	}
}
