package crossplane_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// update rewrites the generated Compositions from their templates:
// go test ./reference/crossplane -run TestCompositionsAreGenerated -update
var update = flag.Bool("update", false, "rewrite compositions/ from compositions/templates/")

// provider is one infrastructure profile of the catalog: the labels its
// Compositions carry and the composition defaults its templates read as
// $provider. The profiles differ only in these values (spec 01).
type provider struct {
	name   string
	values string // a sprig dict expression
}

var providers = []provider{
	{"aws", `dict "name" "aws" "secretStore" "aws-secrets-manager" "storageClass" "gp3" "veleroNamespace" "velero" "gateway" (dict "name" "forge" "namespace" "envoy-gateway-system")`},
	{"onprem", `dict "name" "onprem" "secretStore" "vault" "storageClass" "standard" "veleroNamespace" "velero" "gateway" (dict "name" "forge" "namespace" "envoy-gateway-system")`},
}

// kinds maps each claim kind to its template and its XRD's plural.
var kinds = []struct{ claim, template, plural string }{
	{"Deployment", "deployment", "xdeployments"},
	{"Stateful", "stateful", "xstatefuls"},
	{"Job", "job", "xjobs"},
	{"CronJob", "cronjob", "xcronjobs"},
	{"Network", "network", "xnetworks"},
	{"Secrets", "secrets", "xsecrets"},
	{"ConfigMaps", "configmaps", "xconfigmaps"},
	{"Storage", "storage", "xstorages"},
}

// The composition functions every Composition's pipeline runs, as the
// Function packages in functions.yaml name them.
const (
	fnEnvironment = "function-environment-configs"
	fnTemplating  = "function-go-templating"
	fnReady       = "function-auto-ready"
)

// composition is Crossplane's Composition (apiextensions.crossplane.io/v1)
// in Pipeline mode, the fields the catalog uses.
type composition struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Kind       string `yaml:"kind" json:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name" json:"name"`
		Labels map[string]string `yaml:"labels" json:"labels"`
	} `yaml:"metadata" json:"metadata"`
	Spec struct {
		CompositeTypeRef struct {
			APIVersion string `yaml:"apiVersion" json:"apiVersion"`
			Kind       string `yaml:"kind" json:"kind"`
		} `yaml:"compositeTypeRef" json:"compositeTypeRef"`
		Mode     string         `yaml:"mode" json:"mode"`
		Pipeline []pipelineStep `yaml:"pipeline" json:"pipeline"`
	} `yaml:"spec" json:"spec"`
}

type pipelineStep struct {
	Step        string `yaml:"step" json:"step"`
	FunctionRef struct {
		Name string `yaml:"name" json:"name"`
	} `yaml:"functionRef" json:"functionRef"`
	Input any `yaml:"input,omitempty" json:"input,omitempty"`
}

// goTemplate is function-go-templating's input.
type goTemplate struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Kind       string `yaml:"kind" json:"kind"`
	Source     string `yaml:"source" json:"source"`
	Inline     struct {
		Template string `yaml:"template" json:"template"`
	} `yaml:"inline" json:"inline"`
}

// environmentInput is function-environment-configs' input: both tiers of
// spec 08 by label, each optional (no EnvironmentConfig: the
// composition's defaults), the per-project tier last so that it wins.
const environmentInput = `apiVersion: environmentconfigs.fn.crossplane.io/v1beta1
kind: Input
spec:
  environmentConfigs:
  - type: Selector
    selector:
      mode: Multiple
      minMatch: 0
      maxMatch: 1
      matchLabels:
      - type: Value
        key: forge.io/scope
        value: cluster
  - type: Selector
    selector:
      mode: Multiple
      minMatch: 0
      maxMatch: 1
      matchLabels:
      - type: Value
        key: forge.io/scope
        value: project
      - type: FromCompositeFieldPath
        key: forge.io/project
        valueFromFieldPath: metadata.labels[crossplane.io/claim-namespace]
`

// generate writes the Composition of one kind for one provider.
func generate(t *testing.T, p provider, k struct{ claim, template, plural string }) []byte {
	t.Helper()
	helpers, err := os.ReadFile("compositions/templates/helpers.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("compositions/templates/" + k.template + ".tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var c composition
	c.APIVersion, c.Kind = "apiextensions.crossplane.io/v1", "Composition"
	c.Metadata.Name = k.plural + ".forge.io"
	c.Metadata.Labels = map[string]string{"provider": p.name, "forge.io/catalog": "spec-08"}
	c.Spec.CompositeTypeRef.APIVersion, c.Spec.CompositeTypeRef.Kind = "forge.io/v1", "X"+k.claim
	c.Spec.Mode = "Pipeline"
	var env any
	if err := yaml.Unmarshal([]byte(environmentInput), &env); err != nil {
		t.Fatal(err)
	}
	var tmpl goTemplate
	tmpl.APIVersion, tmpl.Kind, tmpl.Source = "gotemplating.fn.crossplane.io/v1beta1", "GoTemplate", "Inline"
	tmpl.Inline.Template = fmt.Sprintf("{{- $provider := %s -}}\n%s\n%s", p.values, strings.TrimSpace(string(helpers)), strings.TrimSpace(string(body))) + "\n"
	c.Spec.Pipeline = []pipelineStep{
		{Step: "environment", Input: env},
		{Step: "render", Input: tmpl},
		{Step: "ready"},
	}
	c.Spec.Pipeline[0].FunctionRef.Name = fnEnvironment
	c.Spec.Pipeline[1].FunctionRef.Name = fnTemplating
	c.Spec.Pipeline[2].FunctionRef.Name = fnReady
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated from compositions/templates/%s.tmpl for the %s profile: edit the\n# template and run make compositions\n", k.template, p.name)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compositionPath(p provider, plural string) string {
	return filepath.Join("compositions", p.name, plural+".yaml")
}

// TestCompositionsAreGenerated: every Composition under compositions/ is
// what its template gives (run with -update to rewrite them), and none
// is there that no template makes.
func TestCompositionsAreGenerated(t *testing.T) {
	want := map[string]bool{}
	for _, p := range providers {
		for _, k := range kinds {
			path := compositionPath(p, k.plural)
			want[path] = true
			b := generate(t, p, k)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("%s is not what its template gives (%v): run make compositions", path, err)
			}
		}
	}
	found, _ := filepath.Glob("compositions/*/*.yaml")
	for _, f := range found {
		if !want[f] && filepath.Base(f) != "kustomization.yaml" {
			t.Errorf("%s is made by no template", f)
		}
	}
}

// function is Crossplane's Function package (pkg.crossplane.io/v1).
type function struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Package string `json:"package"`
	} `json:"spec"`
}

// TestProfilesInstallTheCatalog builds both profiles of the catalog with
// the kustomize API: each holds the eight XRDs, the three Function
// packages pinned to a release, and one Composition per XRD, named as the
// XRD's defaultCompositionRef, for its composite type, labelled with its
// provider.
func TestProfilesInstallTheCatalog(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), p.name)
			if err != nil {
				t.Fatal(err)
			}
			xrds := map[string]xrd{}
			comps := map[string]composition{}
			fns := map[string]function{}
			for _, r := range res.Resources() {
				b, err := r.AsYAML()
				if err != nil {
					t.Fatal(err)
				}
				switch r.GetKind() {
				case "CompositeResourceDefinition":
					var x xrd
					if err := sigsyaml.UnmarshalStrict(b, &x); err != nil {
						t.Fatalf("%s: %v", r.GetName(), err)
					}
					xrds[x.Metadata.Name] = x
				case "Composition":
					var c composition
					if err := sigsyaml.UnmarshalStrict(b, &c); err != nil {
						t.Fatalf("%s: %v", r.GetName(), err)
					}
					comps[c.Metadata.Name] = c
				case "Function":
					var f function
					if err := sigsyaml.UnmarshalStrict(b, &f); err != nil {
						t.Fatalf("%s: %v", r.GetName(), err)
					}
					fns[f.Metadata.Name] = f
				default:
					t.Errorf("unexpected %s %s", r.GetKind(), r.GetName())
				}
			}
			if len(xrds) != 8 || len(comps) != 8 {
				t.Fatalf("%d XRDs and %d Compositions, want 8 of each", len(xrds), len(comps))
			}
			for _, name := range []string{fnEnvironment, fnTemplating, fnReady} {
				f, ok := fns[name]
				if !ok || f.APIVersion != "pkg.crossplane.io/v1" ||
					!strings.HasPrefix(f.Spec.Package, "xpkg.upbound.io/crossplane-contrib/"+name+":v") {
					t.Errorf("Function %s: %+v; want the published package at a pinned version", name, f)
				}
			}
			names := make([]string, 0, len(xrds))
			for n := range xrds {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				x := xrds[n]
				ref := ""
				if x.Spec.DefaultCompositionRef != nil {
					ref = x.Spec.DefaultCompositionRef.Name
				}
				c, ok := comps[ref]
				if !ok {
					t.Errorf("XRD %s: defaultCompositionRef %q names no Composition of the profile", n, ref)
					continue
				}
				if c.Spec.CompositeTypeRef.APIVersion != x.Spec.Group+"/"+x.Spec.Versions[0].Name || c.Spec.CompositeTypeRef.Kind != x.Spec.Names.Kind {
					t.Errorf("Composition %s composes %+v, not XRD %s's %s", ref, c.Spec.CompositeTypeRef, n, x.Spec.Names.Kind)
				}
				if c.Metadata.Labels["provider"] != p.name || c.Spec.Mode != "Pipeline" {
					t.Errorf("Composition %s: labels %v, mode %s", ref, c.Metadata.Labels, c.Spec.Mode)
				}
				for _, s := range c.Spec.Pipeline {
					if _, ok := fns[s.FunctionRef.Name]; !ok {
						t.Errorf("Composition %s step %s runs %s, which the profile does not install", ref, s.Step, s.FunctionRef.Name)
					}
				}
			}
		})
	}
}
