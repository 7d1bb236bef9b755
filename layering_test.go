package forge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// module is this repository's module path.
const module = "github.com/catalyst-forge/forge"

// layerRules lists, for each layer, the layers of this module it must never
// import (DESIGN.md, "Layers and the direction of imports").
var layerRules = map[string][]string{
	"domain":      {"ports", "application", "adapters", "transport", "reference", "conformance"},
	"ports":       {"application", "adapters", "transport", "reference", "conformance"},
	"application": {"adapters", "transport", "reference", "conformance"},
	"adapters":    {"transport", "reference", "application", "conformance"},
	"transport":   {"adapters", "reference", "conformance"},
	"conformance": {"application", "adapters", "transport", "reference"},
}

// layerOf returns the top-level folder of a package of this module, or "".
func layerOf(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		return ""
	}
	layer, _, _ := strings.Cut(rest, "/")
	return layer
}

// isStandard reports whether an import path belongs to the standard
// library: its first element has no dot.
func isStandard(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// testAllowed lists, per layer, what its tests may import beyond the
// layer's own rules: application tests run on the in-memory adapters
// (STYLE.md), adapter tests run the conformance suites, and transport tests
// serve real requests over real adapters.
var testAllowed = map[string][]string{
	"application": {module + "/adapters/memory/"},
	"adapters":    {module + "/conformance/"},
	"transport":   {module + "/adapters/"},
}

// argoCD is Argo CD's module: only the tests of forge-cmp may import it,
// to serve the plugin with Argo CD's own code (DESIGN.md, "Dependencies
// that fight"); no binary or library package links it.
const argoCD = "github.com/argoproj/argo-cd/"

// violations returns a message for every import of pkg that breaks the
// rules; tests says whether the imports are those of pkg's tests.
func violations(pkg string, imports []string, tests bool) []string {
	var out []string
	layer := layerOf(pkg)
imports:
	for _, imp := range imports {
		if strings.HasPrefix(imp, argoCD) && !(tests && pkg == module+"/reference/cmd/forge-cmp") {
			out = append(out, pkg+" imports "+imp+": only forge-cmp's tests may import Argo CD")
			continue
		}
		if tests {
			for _, prefix := range testAllowed[layer] {
				if strings.HasPrefix(imp, prefix) {
					continue imports
				}
			}
		}
		if layer == "domain" && !isStandard(imp) && layerOf(imp) != "domain" {
			out = append(out, pkg+" imports "+imp+": domain/ may import only the standard library and domain/")
			continue
		}
		for _, banned := range layerRules[layer] {
			if layerOf(imp) == banned {
				out = append(out, pkg+" imports "+imp+": "+layer+"/ must not import "+banned+"/")
			}
		}
	}
	return out
}

func TestViolationsCatchesBrokenRules(t *testing.T) {
	cases := []struct {
		pkg     string
		imports []string
		want    int
	}{
		{module + "/domain/config", []string{"fmt", module + "/domain/fault"}, 0},
		{module + "/domain/config", []string{"cuelang.org/go/cue"}, 1},
		{module + "/domain/config", []string{module + "/application/cueconfig"}, 1},
		{module + "/ports", []string{module + "/domain/config", "context"}, 0},
		{module + "/ports", []string{module + "/adapters/onprem/fsblob"}, 1},
		{module + "/application/discovering", []string{"cuelang.org/go/cue", module + "/domain/config"}, 0},
		{module + "/application/discovering", []string{module + "/transport/http"}, 1},
		{module + "/application/discovering", []string{module + "/reference/forgecli", module + "/adapters/aws/s3blob"}, 2},
		{module + "/adapters/onprem/fsblob", []string{module + "/ports", module + "/domain/fault"}, 0},
		{module + "/adapters/onprem/fsblob", []string{module + "/transport/http"}, 1},
		{module + "/reference/forgecli", []string{module + "/adapters/onprem/fsblob", module + "/transport/http"}, 0},
	}
	for _, c := range cases {
		if got := violations(c.pkg, c.imports, false); len(got) != c.want {
			t.Errorf("violations(%s, %v) = %q, want %d", c.pkg, c.imports, got, c.want)
		}
	}
	cmpPlugin := argoCD + "v2/cmpserver/plugin"
	if got := violations(module+"/reference/cmd/forge-cmp", []string{cmpPlugin}, true); len(got) != 0 {
		t.Errorf("forge-cmp's tests may import Argo CD: %q", got)
	}
	if got := violations(module+"/reference/cmd/forge-cmp", []string{cmpPlugin}, false); len(got) != 1 {
		t.Errorf("forge-cmp itself may not import Argo CD: %q", got)
	}
	if got := violations(module+"/reference/forgecmp", []string{cmpPlugin}, true); len(got) != 1 {
		t.Errorf("only forge-cmp's tests may import Argo CD: %q", got)
	}
	mem := module + "/adapters/memory/memstore"
	if got := violations(module+"/application/running", []string{mem}, true); len(got) != 0 {
		t.Errorf("application tests may use in-memory adapters: %q", got)
	}
	if got := violations(module+"/application/running", []string{mem}, false); len(got) != 1 {
		t.Errorf("application code may not import in-memory adapters: %q", got)
	}
	if got := violations(module+"/domain/config", []string{mem}, true); len(got) != 1 {
		t.Errorf("domain tests may not import adapters: %q", got)
	}
	suite := module + "/conformance/storetest"
	if got := violations(module+"/adapters/onprem/gormstore_test", []string{suite}, true); len(got) != 0 {
		t.Errorf("adapter tests may run conformance suites: %q", got)
	}
	if got := violations(module+"/adapters/onprem/gormstore", []string{suite}, false); len(got) != 1 {
		t.Errorf("adapter code may not import conformance suites: %q", got)
	}
	if got := violations(module+"/application/running", []string{module + "/adapters/onprem/gormstore"}, true); len(got) != 1 {
		t.Errorf("application tests may not use other adapters: %q", got)
	}
}

// TestLayering fails when any package of the module, or any of its tests,
// imports across the layer boundaries of DESIGN.md.
func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	packages := 0
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		packages++
		for _, v := range violations(p.ImportPath, p.Imports, false) {
			t.Error(v)
		}
		for _, v := range violations(p.ImportPath, append(p.TestImports, p.XTestImports...), true) {
			t.Error(v + " (in its tests)")
		}
	}
	if packages < 5 {
		t.Fatalf("go list found %d packages; expected the whole module", packages)
	}
}
