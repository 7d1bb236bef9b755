package crossplane_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/catalyst-forge/forge/domain/infraref"
)

// environmentConfig is Crossplane's EnvironmentConfig.
type environmentConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Data map[string]any `json:"data"`
}

func readEnv(t *testing.T, path string) environmentConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e environmentConfig
	if err := sigsyaml.UnmarshalStrict(b, &e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if e.APIVersion != "apiextensions.crossplane.io/v1beta1" || e.Kind != "EnvironmentConfig" {
		t.Errorf("%s: %s %s", path, e.APIVersion, e.Kind)
	}
	return e
}

// dig reads a number at a path of nested maps; ok is false when absent.
func dig(m map[string]any, path ...string) (int, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return 0, false
		}
		cur = mm[p]
	}
	f, ok := cur.(float64)
	return int(f), ok
}

func value(n int, ok bool) infraref.Value[int] {
	if !ok {
		return infraref.Value[int]{}
	}
	return infraref.Of(n)
}

// TestEnvironmentConfigsAndTheirPrecedence: the two tiers of spec 08 —
// <env>/env.yml and <env>/<repository>-<project>/env.yml — are where and
// what spec 08 says, and the worked example of docs/operators.md holds: a
// Deployment's replicas come from the per-project override, else its
// spec, else the cluster default, else the composition's.
func TestEnvironmentConfigsAndTheirPrecedence(t *testing.T) {
	cluster := readEnv(t, "environments/prod/env.yml")
	if cluster.Metadata.Labels["forge.io/scope"] != "cluster" || cluster.Metadata.Labels["forge.io/environment"] != "prod" {
		t.Errorf("cluster tier labels %v", cluster.Metadata.Labels)
	}
	dirs, _ := filepath.Glob("environments/*/*/env.yml")
	if len(dirs) == 0 {
		t.Fatal("no per-project tier")
	}
	for _, path := range dirs {
		e := readEnv(t, path)
		project := filepath.Base(filepath.Dir(path))
		if e.Metadata.Labels["forge.io/project"] != project || e.Metadata.Labels["forge.io/scope"] != "project" {
			t.Errorf("%s: labels %v; the project label must be its directory, %s", path, e.Metadata.Labels, project)
		}
		repo, name, _ := strings.Cut(project, "-")
		if ns, err := infraref.Namespace(repo, name); err != nil || ns != project {
			t.Errorf("%s: %q is not a <repository>-<project> namespace (%v)", path, project, err)
		}
	}
	project := readEnv(t, "environments/prod/monorepo-myapp/env.yml")
	const compositionDefault = 1
	for _, c := range []struct {
		xr   string
		spec infraref.Value[int]
		want int
		from string
	}{
		{"myapp-web", infraref.Of(3), 5, "per-project override"},
		{"myapp-api", infraref.Of(3), 3, "XR spec"},
		{"myapp-admin", infraref.Value[int]{}, 2, "cluster default"},
	} {
		override := value(dig(project.Data, "overrides", c.xr, "replicas"))
		cluster := value(dig(cluster.Data, "defaults", "Deployment", "replicas"))
		got, from := infraref.Resolve(override, c.spec, cluster, infraref.Of(compositionDefault))
		if got != c.want || from != c.from {
			t.Errorf("%s: replicas %d from %s, want %d from %s", c.xr, got, from, c.want, c.from)
		}
	}
}
