package cueconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
)

// chain returns hidden fields that double at each of n steps: _an has
// 2^n leaves.
func chain(n int) string {
	var b strings.Builder
	b.WriteString("_a0: {x: 1, y: 1}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "_a%d: {x: _a%d, y: _a%d}\n", i, i-1, i-1)
	}
	return b.String()
}

// doubling returns a project that exports chain(n): under 1 KB of source
// for n = 30, and 2^30 leaves.
func doubling(n int) string {
	return header + chain(n) + fmt.Sprintf("deployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: _a%d}]\n", n)
}

// withList is header with an import of CUE's list package.
const withList = "package project\n\nimport \"list\"\n\nname: \"svc\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n"

// TestHostileConfigurationFailsFast feeds the loader configuration that
// evaluates to far more than it says. Each must fail within the test's
// time with an error naming the file; before the guards, the first took
// more than 6 GB of memory and the second ran for minutes.
func TestHostileConfigurationFailsFast(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"doubling references", doubling(30),
			"svc/.forge/project.cue:1:1: the configuration expands to more than 1 MiB once its references are followed"},
		{"nested list.Range", withList +
			"deployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: [for i in list.Range(0, 100000, 1) for j in list.Range(0, 100000, 1) {i+j}]}]\n",
			"svc/.forge/project.cue:7:117: this comprehension iterates 10000000000 times with the ones around it; the limit is 100000"},
		{"nested comprehensions", strings.Replace(withList, "import \"list\"", "import L \"list\"", 1) +
			"_x: [for i in L.Range(0, 1000, 1) {[for j in L.Range(0, 1Ki, 1) {i}]}]\n",
			"svc/.forge/project.cue:7:37: this comprehension iterates 1024000 times"},
		{"list literal in a range", withList +
			"_x: [for i in list.Range(0, 0x7fffffff, 1) for j in [1, 2] {i}]\n",
			"svc/.forge/project.cue:7:6: this comprehension iterates 2147483647 times"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			p, ps := loadProject(t, c.src)
			if p != nil || !ps.HasErrors() || !strings.HasPrefix(ps[0].Error(), c.want) {
				t.Fatalf("LoadProject = %v, %v\nwant the error %s…", p, ps, c.want)
			}
			t.Logf("failed in %v", time.Since(start))
		})
	}
}

func TestGuardsLetOrdinaryConfigurationThrough(t *testing.T) {
	src := withList +
		"ci: phases: build: {for i in list.Range(0, 3, 1) {\"s\\(i)\": {action: \"script\", run: \"echo \\(i)\"}}}\n" +
		"deployment: resources: [for n in [\"a\", \"b\"] {apiVersion: \"v1\", kind: \"ConfigMap\", metadata: name: n, data: {for k in list.Range(10, 0, -2) {\"k\\(k)\": \"\\(k)\"}}, spec: _a8}]\n" +
		chain(8)
	p, ps := loadProject(t, src)
	if p == nil || len(p.Phases["build"]) != 3 || len(p.Deployment.Resources) != 2 {
		t.Fatalf("LoadProject = %+v, %v", p, ps)
	}
}

func TestLiteralSize(t *testing.T) {
	cases := map[string]int64{
		"list.Range(0, 10, 1)":     10,
		"list.Range(0, 10, 3)":     3,
		"list.Range(10, 0, -1)":    10,
		"list.Range(0, 10, -1)":    0,
		"list.Range(-5, 5, 1)":     10,
		"list.Range(0, 1_000, 1)":  1000,
		"list.Range(0, 2M, 1)":     2_000_000,
		"list.Range(0, 1Gi, 1)":    1 << 30,
		"list.Range(0, 0b1000, 1)": 8,
		"[1, 2, 3]":                3,
	}
	for expr, want := range cases {
		e, err := parser.ParseExpr("x.cue", expr)
		if err != nil {
			t.Fatal(err)
		}
		got := literalSize(e, "list")
		if got == nil || got.Int64() != want {
			t.Errorf("%s: size %v, want %d", expr, got, want)
		}
	}
	for _, expr := range []string{"list.Range(0, n, 1)", "other.Range(0, 10, 1)", "list.Repeat([1], 10)", "_xs", "list.Range(0, 10, 0)"} {
		e, err := parser.ParseExpr("x.cue", expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := literalSize(e, "list"); got != nil {
			t.Errorf("%s: size %v, want unknown", expr, got)
		}
	}
}

// TestExportMatchesMarshalJSON checks that the bounded export writes what
// CUE's own MarshalJSON writes, on every fixture configuration.
func TestExportMatchesMarshalJSON(t *testing.T) {
	files, _ := filepath.Glob("../discovering/testdata/*.txtar")
	srcs := []string{testRepo, doubling(6), header + "x: {\"a<b\": 1.5e3, \"\\u00e9\": [null, true, 'by\\x00tes', -0.0, 12345678901234567890]}\n"}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split(string(data), "\n-- ")[1:] {
			if _, body, ok := strings.Cut(part, " --\n"); ok && strings.HasPrefix(body, "package ") {
				srcs = append(srcs, body)
			}
		}
	}
	if len(srcs) < 10 {
		t.Fatalf("found %d configurations", len(srcs))
	}
	ctx := cuecontext.New()
	for i, src := range srcs {
		v := ctx.CompileString(src)
		want, err := v.MarshalJSON()
		if err != nil {
			continue // not concrete: the loader reports it before exporting
		}
		got, err := exportJSON(v)
		if err != nil || string(got) != string(want) {
			t.Errorf("configuration %d:\n got %s (%v)\nwant %s", i, got, err, want)
		}
	}
}
