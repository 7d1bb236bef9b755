// Package crossplane_test checks the Crossplane catalog of spec 08: every
// XRD decodes strictly, with a structural schema as the API server
// requires of a CRD, and every example claim validates against its XRD's
// schema, its references well-formed and naming XRs that exist.
package crossplane_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/catalyst-forge/forge/domain/infraref"
)

// xrd is Crossplane's CompositeResourceDefinition (apiextensions.crossplane.io/v1),
// the fields the catalog uses, with Kubernetes' own types for names and
// schemas.
type xrd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group                 string                                         `json:"group"`
		Names                 apiextensionsv1.CustomResourceDefinitionNames  `json:"names"`
		ClaimNames            *apiextensionsv1.CustomResourceDefinitionNames `json:"claimNames"`
		ConnectionSecretKeys  []string                                       `json:"connectionSecretKeys"`
		DefaultCompositionRef *struct {
			Name string `json:"name"`
		} `json:"defaultCompositionRef"`
		Versions []struct {
			Name          string `json:"name"`
			Served        bool   `json:"served"`
			Referenceable bool   `json:"referenceable"`
			Schema        struct {
				OpenAPIV3Schema apiextensionsv1.JSONSchemaProps `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// catalog reads every XRD, by claim kind, with its internal schema.
func catalog(t *testing.T) map[string]*apiextensions.JSONSchemaProps {
	t.Helper()
	all, err := filepath.Glob("xrds/*.yaml")
	var files []string
	for _, f := range all {
		if filepath.Base(f) != "kustomization.yaml" {
			files = append(files, f)
		}
	}
	if err != nil || len(files) != 8 {
		t.Fatalf("xrds: %v, %v; want the eight XRDs of spec 08", files, err)
	}
	out := map[string]*apiextensions.JSONSchemaProps{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var x xrd
		if err := sigsyaml.UnmarshalStrict(b, &x); err != nil {
			t.Errorf("%s does not decode strictly: %v", f, err)
			continue
		}
		if x.APIVersion != "apiextensions.crossplane.io/v1" || x.Kind != "CompositeResourceDefinition" || x.Spec.ClaimNames == nil ||
			x.Metadata.Name != x.Spec.Names.Plural+"."+x.Spec.Group || x.Spec.Group != "forge.io" || len(x.Spec.Versions) != 1 {
			t.Errorf("%s: %s %s %+v", f, x.APIVersion, x.Metadata.Name, x.Spec.Names)
			continue
		}
		v := x.Spec.Versions[0]
		if !v.Served || !v.Referenceable {
			t.Errorf("%s: version %s must be served and referenceable", f, v.Name)
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			t.Fatal(err)
		}
		s, err := schema.NewStructural(&internal)
		if err != nil {
			t.Errorf("%s: the schema is not structural: %v", f, err)
			continue
		}
		if errs := schema.ValidateStructural(field.NewPath("openAPIV3Schema"), s); len(errs) > 0 {
			t.Errorf("%s: the schema is not structural: %v", f, errs.ToAggregate())
		}
		if _, ok := internal.Properties["status"].Properties["outputs"]; !ok {
			t.Errorf("%s: no status.outputs for other resources to read", f)
		}
		out[x.Spec.ClaimNames.Kind] = &internal
	}
	return out
}

func TestXRDsAreStructural(t *testing.T) {
	got := catalog(t)
	for _, kind := range []string{"Deployment", "Stateful", "Job", "CronJob", "Network", "Secrets", "ConfigMaps", "Storage"} {
		if got[kind] == nil {
			t.Errorf("no XRD whose claims are %s", kind)
		}
	}
}

// TestExamplesValidate validates every example claim against its XRD's
// schema, as the API server would, and checks its references.
func TestExamplesValidate(t *testing.T) {
	schemas := catalog(t)
	files, _ := filepath.Glob("examples/*.yaml")
	// testdata/edge.yaml holds what forge render refuses, for the
	// compositions' own checks.
	files = append(files, "testdata/elsewhere.yaml", "testdata/defaults.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		claims := readObjects(t, f)
		names := map[string]bool{}
		for _, c := range claims {
			names[c["metadata"].(map[string]any)["name"].(string)] = true
		}
		for _, c := range claims {
			kind, _ := c["kind"].(string)
			where := f + ": " + kind + " " + c["metadata"].(map[string]any)["name"].(string)
			s, ok := schemas[kind]
			if !ok || c["apiVersion"] != "forge.io/v1" {
				t.Errorf("%s: no XRD for %v %s", where, c["apiVersion"], kind)
				continue
			}
			validator, _, err := validation.NewSchemaValidator(s)
			if err != nil {
				t.Fatal(err)
			}
			if errs := validation.ValidateCustomResource(nil, c, validator); len(errs) > 0 {
				t.Errorf("%s does not validate: %v", where, errs.ToAggregate())
			}
			for _, ref := range sources(c) {
				r, err := infraref.Parse(ref)
				if err != nil {
					t.Errorf("%s: %v", where, err)
				} else if r.Namespace == "" && !names[r.XR] {
					t.Errorf("%s reads %s, an XR the example does not make", where, ref)
				}
			}
		}
	}
	// A mount from no reference, or from an output, is refused by the
	// schema.
	for _, source := range []string{"files/app.yaml", "outputs/dns/port"} {
		mount := map[string]any{"apiVersion": "forge.io/v1", "kind": "Deployment", "metadata": map[string]any{"name": "x"},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "i",
				"mounts": []any{map[string]any{"mountPath": "/etc/x", "source": source}}}}}}
		v, _, _ := validation.NewSchemaValidator(schemas["Deployment"])
		if errs := validation.ValidateCustomResource(nil, mount, v); len(errs) == 0 {
			t.Errorf("a mount of %s passed the schema", source)
		}
	}
	// And a claim the schema must refuse.
	bad := map[string]any{"apiVersion": "forge.io/v1", "kind": "Deployment", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "i", "env": map[string]any{"A": map[string]any{"source": "vault/x"}}}}}}
	validator, _, _ := validation.NewSchemaValidator(schemas["Deployment"])
	if errs := validation.ValidateCustomResource(nil, bad, validator); len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), "source") {
		t.Errorf("a source that is no reference passed the schema: %v", errs)
	}
}

// sources returns every string under a "source" key.
func sources(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "source" {
				out = append(out, s)
			} else {
				out = append(out, sources(val)...)
			}
		}
	case []any:
		for _, e := range x {
			out = append(out, sources(e)...)
		}
	}
	return out
}
