package crossplane_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"

	sprig "github.com/Masterminds/sprig/v3"
	"go.yaml.in/yaml/v3"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// This file renders the catalog's Compositions the way Crossplane runs
// their pipeline, with stand-ins for the three published functions, since
// neither their packages nor Crossplane can run here:
//
//   - environment: function-environment-configs v0.6.0's Selector sources
//     (label matchers of type Value and FromCompositeFieldPath, Multiple
//     mode with minMatch/maxMatch, sorted by name) and its merge (data
//     deep-merged in source order, later wins);
//   - render: function-go-templating v0.9.2's template engine — Go's
//     text/template with sprig v3.3.0 (less env and expandenv), toYaml,
//     fromYaml and include — over the request as protojson gives it, and
//     its handling of the documents (ExtraResources, ClaimConditions, the
//     XR's own kind for its status, composed resources by the
//     composition-resource-name annotation);
//   - Crossplane itself: the XR a claim makes (labels claim-name and
//     claim-namespace), extra resources matched by kind and labels, the
//     pipeline re-run until its requirements settle.
//
// docs/operators.md records a run of the same examples through the real
// `crossplane render` and the three functions built from their sources.

// object is a Kubernetes object as JSON gives it.
type object = map[string]any

// rendered is what a pipeline made of one XR.
type rendered struct {
	composed   map[string]object // by composition resource name
	outputs    map[string]any    // the XR's status.outputs
	conditions []object          // ClaimConditions
	required   map[string]object // the last ExtraResources requirements
}

// cluster is the state the stand-in reads: XRs (with their status) and
// EnvironmentConfigs.
type cluster struct {
	xrs  []object
	envs []object
}

// xrOf makes the composite a claim gives, as Crossplane names and labels it.
func xrOf(claim object) object {
	meta := claim["metadata"].(map[string]any)
	xr := deepCopy(claim)
	xr["kind"] = "X" + claim["kind"].(string)
	xr["metadata"] = map[string]any{
		"name": meta["name"].(string) + "-x7k2p",
		"labels": map[string]any{
			"crossplane.io/claim-name":      meta["name"],
			"crossplane.io/claim-namespace": meta["namespace"],
			"crossplane.io/composite":       meta["name"].(string) + "-x7k2p",
		},
	}
	return xr
}

func deepCopy(o object) object {
	b, _ := json.Marshal(o)
	var out object
	_ = json.Unmarshal(b, &out)
	return out
}

// fieldPathSegment is one segment of a field path: a name, or a key in
// brackets (which may hold dots).
var fieldPathSegment = regexp.MustCompile(`\[([^\]]+)\]|([^.\[\]]+)`)

// fieldPath reads a Crossplane field path of the forms a.b and a[key].
func fieldPath(o object, path string) (any, bool) {
	var cur any = o
	for _, seg := range fieldPathSegment.FindAllStringSubmatch(path, -1) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg[1]+seg[2]]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func labelsOf(o object) map[string]any {
	l, _ := fieldPath(o, "metadata.labels")
	m, _ := l.(map[string]any)
	return m
}

// environment is the stand-in for function-environment-configs.
func (c *cluster) environment(t *testing.T, xr object, input any) object {
	t.Helper()
	var in struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			EnvironmentConfigs []struct {
				Type     string `json:"type"`
				Selector struct {
					Mode        string `json:"mode"`
					MinMatch    *int   `json:"minMatch"`
					MaxMatch    *int   `json:"maxMatch"`
					MatchLabels []struct {
						Type               string  `json:"type"`
						Key                string  `json:"key"`
						Value              *string `json:"value"`
						ValueFromFieldPath *string `json:"valueFromFieldPath"`
					} `json:"matchLabels"`
				} `json:"selector"`
			} `json:"environmentConfigs"`
		} `json:"spec"`
	}
	if err := decodeStrict(input, &in); err != nil {
		t.Fatalf("environment input: %v", err)
	}
	if in.APIVersion != "environmentconfigs.fn.crossplane.io/v1beta1" || in.Kind != "Input" {
		t.Fatalf("environment input is %s %s", in.APIVersion, in.Kind)
	}
	merged := object{}
	for _, src := range in.Spec.EnvironmentConfigs {
		if src.Type != "Selector" || src.Selector.Mode != "Multiple" {
			t.Fatalf("the stand-in knows Selector sources in Multiple mode, not %s %s", src.Type, src.Selector.Mode)
		}
		want := map[string]string{}
		for _, m := range src.Selector.MatchLabels {
			switch {
			case m.Type == "Value" && m.Value != nil:
				want[m.Key] = *m.Value
			case m.Type == "FromCompositeFieldPath" && m.ValueFromFieldPath != nil:
				v, ok := fieldPath(xr, *m.ValueFromFieldPath)
				if !ok {
					t.Fatalf("the XR has no %s", *m.ValueFromFieldPath)
				}
				want[m.Key] = fmt.Sprint(v)
			default:
				t.Fatalf("label matcher %+v", m)
			}
		}
		var found []object
		for _, e := range c.envs {
			l := labelsOf(e)
			ok := true
			for k, v := range want {
				ok = ok && l[k] == v
			}
			if ok {
				found = append(found, e)
			}
		}
		sort.Slice(found, func(i, j int) bool {
			a, _ := fieldPath(found[i], "metadata.name")
			b, _ := fieldPath(found[j], "metadata.name")
			return fmt.Sprint(a) < fmt.Sprint(b)
		})
		if src.Selector.MinMatch != nil && len(found) < *src.Selector.MinMatch {
			t.Fatalf("fewer EnvironmentConfigs than minMatch")
		}
		if src.Selector.MaxMatch != nil && len(found) > *src.Selector.MaxMatch {
			found = found[:*src.Selector.MaxMatch]
		}
		for _, e := range found {
			data, _ := e["data"].(map[string]any)
			merged = mergeMaps(merged, data)
		}
	}
	merged["apiVersion"], merged["kind"] = "internal.crossplane.io/v1alpha1", "Environment"
	return merged
}

func mergeMaps(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// engine is function-go-templating's template engine.
func engine(t *testing.T, text string) *template.Template {
	t.Helper()
	tpl := template.New("manifests")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v any) (string, error) {
		b, err := yaml.Marshal(v)
		return string(b), err
	}
	funcs["fromYaml"] = func(s string) (any, error) {
		var v any
		err := yaml.Unmarshal([]byte(s), &v)
		return v, err
	}
	funcs["include"] = func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := tpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	tpl.Funcs(funcs)
	if _, err := tpl.Parse(text); err != nil {
		t.Fatalf("the template does not parse: %v", err)
	}
	return tpl
}

const resourceName = "gotemplating.fn.crossplane.io/composition-resource-name"

// render runs a Composition's pipeline for one XR: the environment, then
// the template until its extra-resource requirements settle (Crossplane
// calls a function again while they change).
func (c *cluster) render(t *testing.T, comp composition, xr object, observed map[string]object) rendered {
	t.Helper()
	if len(comp.Spec.Pipeline) != 3 || comp.Spec.Pipeline[0].FunctionRef.Name != fnEnvironment ||
		comp.Spec.Pipeline[1].FunctionRef.Name != fnTemplating || comp.Spec.Pipeline[2].FunctionRef.Name != fnReady {
		t.Fatalf("%s: pipeline %+v", comp.Metadata.Name, comp.Spec.Pipeline)
	}
	env := c.environment(t, xr, comp.Spec.Pipeline[0].Input)
	var in goTemplate
	if err := decodeStrict(comp.Spec.Pipeline[1].Input, &in); err != nil || in.Source != "Inline" {
		t.Fatalf("%s: go-templating input: %v %s", comp.Metadata.Name, err, in.Source)
	}
	tpl := engine(t, in.Inline.Template)
	obs := map[string]any{}
	for name, o := range observed {
		obs[name] = map[string]any{"resource": o}
	}
	extra := map[string]any{}
	var last rendered
	for round := 0; round < 5; round++ {
		req := map[string]any{
			"observed": map[string]any{"composite": map[string]any{"resource": xr}, "resources": obs},
			"desired":  map[string]any{"composite": map[string]any{"resource": map[string]any{}}},
			"context":  map[string]any{"apiextensions.crossplane.io/environment": env},
		}
		if len(extra) > 0 {
			req["extraResources"] = extra
		}
		req = deepCopy(req) // numbers as protojson and encoding/json give them
		var out bytes.Buffer
		if err := tpl.Execute(&out, req); err != nil {
			t.Fatalf("%s: %v", comp.Metadata.Name, err)
		}
		last = c.documents(t, comp, xr, out.Bytes())
		next := map[string]any{}
		for key, sel := range last.required {
			var items []any
			for _, o := range c.xrs {
				if o["apiVersion"] != sel["apiVersion"] || o["kind"] != sel["kind"] {
					continue
				}
				ok := true
				for k, v := range sel["matchLabels"].(map[string]any) {
					ok = ok && labelsOf(o)[k] == v
				}
				if ok {
					items = append(items, map[string]any{"resource": o})
				}
			}
			next[key] = map[string]any{"items": items}
		}
		if fmt.Sprint(next) == fmt.Sprint(extra) {
			return last
		}
		extra = next
	}
	t.Fatalf("%s: requirements did not settle", comp.Metadata.Name)
	return last
}

// documents reads the rendered stream as function-go-templating does.
func (c *cluster) documents(t *testing.T, comp composition, xr object, out []byte) rendered {
	t.Helper()
	r := rendered{composed: map[string]object{}, required: map[string]object{}}
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 1024)
	for {
		var doc object
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: the rendered stream does not decode: %v\n%s", comp.Metadata.Name, err, out)
		}
		if doc == nil {
			continue
		}
		doc = deepCopy(doc)
		meta, _ := doc["metadata"].(map[string]any)
		annotations, _ := meta["annotations"].(map[string]any)
		name, named := annotations[resourceName].(string)
		switch {
		case doc["apiVersion"] == "meta.gotemplating.fn.crossplane.io/v1alpha1":
			switch doc["kind"] {
			case "ExtraResources":
				for k, v := range doc["requirements"].(map[string]any) {
					r.required[k] = v.(map[string]any)
				}
			case "ClaimConditions":
				for _, cnd := range doc["conditions"].([]any) {
					r.conditions = append(r.conditions, cnd.(map[string]any))
				}
			default:
				t.Fatalf("%s: meta kind %v", comp.Metadata.Name, doc["kind"])
			}
		case doc["apiVersion"] == xr["apiVersion"] && doc["kind"] == xr["kind"] && !named:
			if out, ok := fieldPath(doc, "status.outputs"); ok {
				r.outputs = out.(map[string]any)
			}
		case named:
			if _, dup := r.composed[name]; dup {
				t.Fatalf("%s: two resources named %s", comp.Metadata.Name, name)
			}
			delete(annotations, resourceName)
			if len(annotations) == 0 {
				delete(meta, "annotations")
			}
			if len(meta) == 0 {
				delete(doc, "metadata")
			}
			r.composed[name] = doc
		default:
			t.Fatalf("%s: a %v %v without the %s annotation", comp.Metadata.Name, doc["apiVersion"], doc["kind"], resourceName)
		}
	}
	return r
}

// readComposition reads a generated Composition strictly.
func readComposition(t *testing.T, path string) composition {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c composition
	if err := sigsyaml.UnmarshalStrict(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// readObjects reads every document of a YAML file.
func readObjects(t *testing.T, path string) []object {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 1024)
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if o != nil {
			out = append(out, deepCopy(o))
		}
	}
	return out
}

// compositionFor finds the profile's Composition of a claim kind.
func compositionFor(t *testing.T, p provider, claimKind string) composition {
	t.Helper()
	for _, k := range kinds {
		if k.claim == claimKind {
			return readComposition(t, compositionPath(p, k.plural))
		}
	}
	t.Fatalf("no Composition for %s", claimKind)
	return composition{}
}

// renderAll renders every claim of the files in a cluster holding the
// EnvironmentConfigs, rendering again until every XR's outputs settle
// (a consumer sees its producers' status as Crossplane's next reconcile
// would). It returns the renders by claim name.
func renderAll(t *testing.T, p provider, envs []object, files ...string) map[string]rendered {
	t.Helper()
	var claims []object
	for _, f := range files {
		claims = append(claims, readObjects(t, f)...)
	}
	c := &cluster{envs: envs}
	xrs := make([]object, len(claims))
	for i, claim := range claims {
		xrs[i] = xrOf(claim)
	}
	c.xrs = xrs
	out := map[string]rendered{}
	for round := 0; round < 4; round++ {
		changed := false
		for i, claim := range claims {
			comp := compositionFor(t, p, claim["kind"].(string))
			r := c.render(t, comp, xrs[i], nil)
			name, _ := fieldPath(claim, "metadata.name")
			if fmt.Sprint(out[name.(string)].outputs) != fmt.Sprint(r.outputs) || fmt.Sprint(out[name.(string)].composed) != fmt.Sprint(r.composed) {
				changed = true
			}
			out[name.(string)] = r
			if r.outputs != nil {
				xrs[i]["status"] = map[string]any{"outputs": r.outputs}
			}
		}
		if !changed {
			return out
		}
	}
	t.Fatal("the example's outputs did not settle")
	return nil
}

// environments reads the worked example's two tiers.
func environments(t *testing.T) []object {
	t.Helper()
	return append(readObjects(t, "environments/prod/env.yml"), readObjects(t, "environments/prod/monorepo-myapp/env.yml")...)
}

// manifest returns the Kubernetes object a provider-kubernetes Object
// carries, after checking the Object's own fields strictly.
func manifest(t *testing.T, where string, o object) object {
	t.Helper()
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			ForProvider struct {
				Manifest object `json:"manifest"`
			} `json:"forProvider"`
			Readiness struct {
				Policy string `json:"policy"`
			} `json:"readiness"`
			ProviderConfigRef struct {
				Name string `json:"name"`
			} `json:"providerConfigRef"`
		} `json:"spec"`
	}
	if err := decodeStrict(o, &obj); err != nil {
		t.Fatalf("%s: not a provider-kubernetes Object: %v", where, err)
	}
	if obj.APIVersion != "kubernetes.crossplane.io/v1alpha2" || obj.Kind != "Object" || obj.Spec.ProviderConfigRef.Name == "" ||
		!map[string]bool{"SuccessfulCreate": true, "DeriveFromObject": true, "AllTrue": true}[obj.Spec.Readiness.Policy] {
		t.Errorf("%s: Object %s %s readiness %q provider config %q", where, obj.APIVersion, obj.Kind, obj.Spec.Readiness.Policy, obj.Spec.ProviderConfigRef.Name)
	}
	return obj.Spec.ForProvider.Manifest
}

// decodeStrict decodes v, as encoding/json gives it, into a typed
// struct, unknown fields failing.
func decodeStrict(v, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sigsyaml.UnmarshalStrict(b, into)
}

// strict decodes a manifest into its typed struct, unknown fields failing.
func strict(t *testing.T, where string, m object, into any) {
	t.Helper()
	if err := decodeStrict(m, into); err != nil {
		t.Errorf("%s: %s %s does not decode strictly: %v", where, m["apiVersion"], m["kind"], err)
	}
}

// keysOf lists a map's keys, sorted, for messages.
func keysOf[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
