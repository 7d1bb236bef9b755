package infraref_test

import (
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/infraref"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want infraref.Ref
		err  string
	}{
		{in: "outputs/assets/arn", want: infraref.Ref{Kind: infraref.Outputs, XR: "assets", Key: "arn"}},
		{in: "connections/assets/accessKeyId", want: infraref.Ref{Kind: infraref.Connections, XR: "assets", Key: "accessKeyId"}},
		{in: "secrets/myapp-secrets/database/password", want: infraref.Ref{Kind: infraref.Secrets, XR: "myapp-secrets", Item: "database", Key: "password"}},
		{in: "configs/app-settings/main", want: infraref.Ref{Kind: infraref.Configs, XR: "app-settings", Item: "main"}},
		{in: "configs/app-settings/features/enabled", want: infraref.Ref{Kind: infraref.Configs, XR: "app-settings", Item: "features", Key: "enabled"}},
		{in: "backend-repo-storage::outputs/shared-assets/arn", want: infraref.Ref{Namespace: "backend-repo-storage", Kind: infraref.Outputs, XR: "shared-assets", Key: "arn"}},
		{in: "platform::outputs/shared-config/api-endpoint", want: infraref.Ref{Namespace: "platform", Kind: infraref.Outputs, XR: "shared-config", Key: "api-endpoint"}},

		{in: "outputs/assets", err: "outputs references are outputs/<xr>/<key>"},
		{in: "outputs/assets/arn/extra", err: "outputs references are outputs/<xr>/<key>"},
		{in: "connections/assets", err: "connections/<xr>/<key>"},
		{in: "secrets/myapp-secrets", err: "secrets/<xr>/<item>[/<key>]"},
		{in: "secrets/a/b/c/d", err: "secrets/<xr>/<item>[/<key>]"},
		{in: "env/FOO", err: "a reference starts with outputs/, connections/, secrets/ or configs/"},
		{in: "platform::secrets/x/y/z", err: "only outputs/ may be read across namespaces"},
		{in: "backend-repo-storage::connections/bucket/key", err: "only outputs/ may be read across namespaces"},
		{in: "backend-repo-storage::configs/app/main", err: "only outputs/ may be read across namespaces"},
		{in: "::outputs/a/b", err: "the namespace before :: must be platform or <repository>-<project>"},
		{in: "Backend_Repo::outputs/a/b", err: "the namespace before :: must be"},
		{in: "outputs/Assets/arn", err: `"Assets" is not an XR name`},
		{in: "outputs/assets/", err: `"" is not a key`},
		{in: "secrets/app/Database/password", err: "is not a secret or config name"},
	} {
		got, err := infraref.Parse(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Parse(%q) = %+v, %v; want an error with %q", c.in, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		case c.err == "" && got.String() != c.in:
			t.Errorf("Parse(%q).String() = %q", c.in, got.String())
		}
	}
	if r, _ := infraref.Parse("outputs/a/b"); !r.Inlined() {
		t.Error("outputs are inlined")
	}
	if r, _ := infraref.Parse("connections/a/b"); r.Inlined() {
		t.Error("connections are referenced, never inlined")
	}
}

func TestNamespace(t *testing.T) {
	for _, c := range []struct{ repo, project, want, err string }{
		{"backend-repo", "api", "backend-repo-api", ""},
		{"acme/monorepo", "auth-service", "monorepo-auth-service", ""},
		{"acme/Mono", "api", "mono-api", ""},
		{"acme/mono", strings.Repeat("p", 60), "", "not a DNS label of at most 63 characters"},
		{"acme/mono.repo", "api", "", "not a DNS label"},
	} {
		got, err := infraref.Namespace(c.repo, c.project)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Namespace(%q, %q) = %q, %v; want %q %q", c.repo, c.project, got, err, c.want, c.err)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	none := infraref.Value[int]{}
	for _, c := range []struct {
		name                                 string
		override, spec, cluster, composition infraref.Value[int]
		want                                 int
		from                                 string
	}{
		{"all set: the override wins", infraref.Of(5), infraref.Of(3), infraref.Of(2), infraref.Of(1), 5, "per-project override"},
		{"no override: the XR spec", none, infraref.Of(3), infraref.Of(2), infraref.Of(1), 3, "XR spec"},
		{"only defaults: the cluster's", none, none, infraref.Of(2), infraref.Of(1), 2, "cluster default"},
		{"nothing but the composition", none, none, none, infraref.Of(1), 1, "composition default"},
		{"an override of zero is an override", infraref.Of(0), infraref.Of(3), none, infraref.Of(1), 0, "per-project override"},
		{"nothing at all", none, none, none, none, 0, ""},
	} {
		got, from := infraref.Resolve(c.override, c.spec, c.cluster, c.composition)
		if got != c.want || from != c.from {
			t.Errorf("%s: %d from %q, want %d from %q", c.name, got, from, c.want, c.from)
		}
	}
}
