// Package observability_test checks the reference Grafana dashboard and
// Prometheus alert rules: both load strictly, every expression is
// well-formed as far as brackets and functions go, and every metric they
// name is one the platform's processes export (prommetrics.Names, which
// prommetrics' own tests check against a real scrape).
package observability_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/adapters/onprem/prommetrics"
)

type dashboard struct {
	UID           string            `json:"uid"`
	Title         string            `json:"title"`
	Tags          []string          `json:"tags"`
	Timezone      string            `json:"timezone"`
	SchemaVersion int               `json:"schemaVersion"`
	Version       int               `json:"version"`
	Editable      bool              `json:"editable"`
	Refresh       string            `json:"refresh"`
	Time          map[string]string `json:"time"`
	Templating    struct {
		List []map[string]any `json:"list"`
	} `json:"templating"`
	Annotations map[string]any `json:"annotations"`
	Panels      []panel        `json:"panels"`
}

type panel struct {
	ID          int                      `json:"id"`
	Type        string                   `json:"type"`
	Title       string                   `json:"title"`
	Collapsed   bool                     `json:"collapsed"`
	Datasource  map[string]any           `json:"datasource"`
	GridPos     struct{ X, Y, W, H int } `json:"gridPos"`
	FieldConfig map[string]any           `json:"fieldConfig"`
	Options     map[string]any           `json:"options"`
	Panels      []panel                  `json:"panels"`
	Targets     []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// metricName matches the names of the platform's metric families.
var metricName = regexp.MustCompile(`\b(?:forge|go|process)_[a-z0-9_]+\b`)

// call matches a name applied to parentheses: a function, an aggregation
// or its by/without clause.
var call = regexp.MustCompile(`\b([a-z_]+)\s*\(`)

var promqlFunctions = []string{"sum", "max", "min", "avg", "count", "rate", "increase", "histogram_quantile", "by", "without"}

// checkExpr fails unless expr is balanced, calls only known functions and
// names at least one metric, each of which is exported.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, r := range expr {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				t.Errorf("%s: unbalanced %q in %s", where, r, expr)
				return
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 || inString {
		t.Errorf("%s: unclosed brackets or quotes in %s", where, expr)
	}
	for _, m := range call.FindAllStringSubmatch(expr, -1) {
		if !slices.Contains(promqlFunctions, m[1]) {
			t.Errorf("%s: unknown function %s in %s", where, m[1], expr)
		}
	}
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s names no metric of the platform: %s", where, expr)
	}
	exported := prommetrics.Names()
	for _, n := range names {
		if !slices.Contains(exported, n) {
			t.Errorf("%s names %s, which no process exports (prommetrics.Names)", where, n)
		}
	}
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the dashboard does not load strictly: %v", err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	ids := map[int]bool{}
	targets := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q lies outside the 24-column grid: %+v", p.Title, p.GridPos)
		}
		switch p.Type {
		case "row":
		case "timeseries":
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				checkExpr(t, "panel "+strings.TrimSpace(p.Title), q.Expr)
				targets++
			}
		default:
			t.Errorf("panel %q is a %s; the dashboard uses timeseries and rows", p.Title, p.Type)
		}
	}
	t.Logf("%d panels, %d queries", len(d.Panels), targets)
}

func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r rules
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the rules do not load strictly: %v", err)
	}
	seen := map[string]bool{}
	for _, g := range r.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q is empty", g.Name)
		}
		for _, rule := range g.Rules {
			if rule.Alert == "" || seen[rule.Alert] {
				t.Errorf("alert name %q is empty or given twice", rule.Alert)
			}
			seen[rule.Alert] = true
			if _, err := time.ParseDuration(rule.For); err != nil {
				t.Errorf("%s: for %q is not a duration", rule.Alert, rule.For)
			}
			if !slices.Contains([]string{"page", "warn", "info"}, rule.Labels["severity"]) || rule.Annotations["summary"] == "" {
				t.Errorf("%s needs a severity (page, warn, info) and a summary", rule.Alert)
			}
			checkExpr(t, "alert "+rule.Alert, rule.Expr)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no alert rules")
	}
}
