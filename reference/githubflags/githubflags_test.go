package githubflags_test

import (
	"context"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/githubflags"
)

func TestReporterFromFlags(t *testing.T) {
	ctx := context.Background()
	if r, err := githubflags.Reporter(ctx, githubflags.Options{}, nil); r != nil || err != nil {
		t.Errorf("no credentials: %v, %v; want no reporter", r, err)
	}
	t.Setenv("FORGE_TEST_GH_TOKEN", "ghp_x")
	if r, err := githubflags.Reporter(ctx, githubflags.Options{TokenRef: `{"provider":"env","name":"FORGE_TEST_GH_TOKEN"}`}, nil); r == nil || err != nil {
		t.Errorf("a token reference: %v, %v", r, err)
	}
	for name, c := range map[string]struct {
		o    githubflags.Options
		kind fault.Kind
		want string
	}{
		"both":             {githubflags.Options{TokenRef: `{"provider":"env","name":"X"}`, AppID: "1"}, fault.Validation, "not both"},
		"half an App":      {githubflags.Options{AppID: "1", AppKeyRef: `{"provider":"env","name":"X"}`}, fault.Validation, "--github-installation-id"},
		"not JSON":         {githubflags.Options{TokenRef: "ghp_inline"}, fault.Validation, "is not a secret reference in JSON"},
		"a missing secret": {githubflags.Options{TokenRef: `{"provider":"env","name":"FORGE_TEST_GH_NONE"}`}, fault.NotFound, "--github-token-ref"},
		"a bad API URL":    {githubflags.Options{TokenRef: `{"provider":"env","name":"FORGE_TEST_GH_TOKEN"}`, API: "ftp://x"}, fault.Validation, "http(s)://"},
	} {
		_, err := githubflags.Reporter(ctx, c.o, nil)
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s with %q", name, err, c.kind, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "ghp_") {
			t.Errorf("%s: the error shows a token: %v", name, err)
		}
	}
}
