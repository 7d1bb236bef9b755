package discovering

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
)

func discover(t *testing.T, fixture string, git discovery.GitContext) (*Result, error) {
	t.Helper()
	dir := writeArchive(t, fixture)
	return (&Service{}).Discover(context.Background(), os.DirFS(dir), git)
}

func TestDiscoverFixtures(t *testing.T) {
	cases := []struct {
		fixture  string
		git      discovery.GitContext
		projects []string // "path=name", by path
		errors   []string // exact "file:line:col: message" prefixes, sorted
		warnings []string // substrings, in order
		release  []string
	}{
		{
			fixture:  "basic",
			git:      discovery.GitContext{Branch: "main"},
			projects: []string{".=root-tools", "libs/common=common", "services/api=api"},
			release:  []string{"api"}, // common matches main but has release.enabled: false
		},
		{
			fixture: "ignored",
			projects: []string{
				"app=app",                   // node_modules below it is ignored at any depth
				"tools/legacy=tools-legacy", // services/.gitignore does not reach tools/
				"vendor/keep=vendored-keep", // re-included by !/vendor/keep/
			},
		},
		{
			fixture:  "symlinked",
			projects: []string{"services/api=api"},
			warnings: []string{
				"other/.forge: skipped: other/.forge is a symbolic link",
				"third/.forge/project.cue: skipped: project.cue is a symbolic link",
			},
		},
		{
			fixture:  "nested",
			projects: []string{"outer=outer", "outer/inner=inner"},
			errors:   []string{"svc/.forge/sub/.forge: nested .forge directory inside svc/.forge"},
		},
		{
			fixture:  "duplicate",
			projects: []string{"c=single"},
			errors: []string{
				`a/.forge/project.cue:3:1: project name "twin" is also used by the project in b: project names must be unique`,
				`b/.forge/project.cue:3:1: project name "twin" is also used by the project in a: project names must be unique`,
			},
		},
		{
			fixture:  "invalid",
			projects: []string{"good=good"},
			errors: []string{
				`bad-name/.forge/project.cue:3:1: project name "Bad_Name" is not kebab-case`,
				`bad-phase/.forge/project.cue:6:2: phase "deploy" is not defined in .forge/repo.cue (defined phases: build, check, publish, test)`,
				`bad-publisher/.forge/project.cue:8:14: artifact "bin": publisher "nowhere" is not defined in .forge/repo.cue (defined publishers: registry)`,
				`bad-ref/.forge/project.cue:5:90: @artifact("missing.uri") names artifact "missing", which project "bad-ref" does not declare`,
				`bad-repo-ref/.forge/project.cue:7:11: @repo(path="phases.test.deadline"): the repository configuration has no field phases.test.deadline`,
				`no-required/.forge/project.cue:3:1: project "no-required" has no steps in phase "test", which .forge/repo.cue marks required`,
				`syntax/.forge/project.cue:4:40: missing ',' in struct literal`,
				`unknown-field/.forge/project.cue:4:54: ci.phases.test.t.colour: field not allowed`,
				"wrong-package/.forge/project.cue:1:9: project.cue must declare `package project`, not `package repo`",
			},
		},
		{fixture: "empty", projects: nil},
		{
			fixture:  "newer-minor",
			git:      discovery.GitContext{Tag: "v2.1.0"},
			projects: []string{"api=api", "web=web"},
			warnings: []string{".forge/repo.cue:3:1: forgeVersion v1.4.0 is newer than the schema this forge implements (v1.0.0)"},
			release:  []string{"api"}, // tag-all: every project but web, which opted out
		},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			res, err := discover(t, c.fixture, c.git)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			var got []string
			for _, p := range res.Projects {
				got = append(got, p.Path+"="+p.Name)
			}
			if !slices.Equal(got, c.projects) {
				t.Errorf("projects = %q, want %q", got, c.projects)
			}
			errs, warnings := res.Problems.Split()
			if len(errs) != len(c.errors) {
				t.Errorf("got %d errors, want %d:\n%s", len(errs), len(c.errors), errs.Error())
			}
			for i := range min(len(errs), len(c.errors)) {
				if !strings.HasPrefix(errs[i].Error(), c.errors[i]) {
					t.Errorf("error %d = %q\nwant prefix %q", i, errs[i].Error(), c.errors[i])
				}
			}
			if len(warnings) != len(c.warnings) {
				t.Errorf("got %d warnings, want %d:\n%s", len(warnings), len(c.warnings), warnings.Error())
			}
			for i := range min(len(warnings), len(c.warnings)) {
				if !strings.Contains(warnings[i].Error(), c.warnings[i]) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i].Error(), c.warnings[i])
				}
			}
			if len(res.Output.Errors) != len(c.errors) {
				t.Errorf("output lists %d errors, want %d", len(res.Output.Errors), len(c.errors))
			}
			if want := c.release; !slices.Equal(res.Output.ReleaseProjects, append([]string{}, want...)) {
				t.Errorf("releaseProjects = %q, want %q", res.Output.ReleaseProjects, want)
			}
			if res.Output.ReleaseEnabled != (len(c.release) > 0) {
				t.Errorf("releaseEnabled = %v with release projects %q", res.Output.ReleaseEnabled, c.release)
			}
		})
	}
}

func TestDiscoverRepositoryErrors(t *testing.T) {
	cases := []struct {
		fixture string
		kind    fault.Kind
		message string
	}{
		{"not-forge", fault.NotFound, "not a forge repository: .forge/repo.cue not found"},
		{"bad-repo", fault.Validation, `.forge/repo.cue:4:20: tagging.strategy: "every-commit" is not allowed; use one of "monorepo", "tag-all"`},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			res, err := discover(t, c.fixture, discovery.GitContext{})
			if res != nil || err == nil {
				t.Fatalf("Discover = %v, %v; want an error", res, err)
			}
			if got := fault.KindOf(err); got != c.kind {
				t.Errorf("kind = %s, want %s (%v)", got, c.kind, err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not contain %q", err, c.message)
			}
		})
	}
	t.Run("problems are reachable", func(t *testing.T) {
		_, err := discover(t, "bad-repo", discovery.GitContext{})
		ps, ok := Problems(err)
		if !ok || len(ps) != 1 || ps[0].Pos.Line != 4 || ps[0].Pos.Column != 20 {
			t.Fatalf("Problems(err) = %v, %v; want one problem at 4:20", ps, ok)
		}
	})
}

// TestDiscoverOutputJSON checks the contract of the output document on the
// basic fixture: keys, step order, artifacts, references and triggers.
func TestDiscoverOutputJSON(t *testing.T) {
	res, err := discover(t, "basic", discovery.GitContext{Branch: "release/1.4", Commit: "abc1234"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Output)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"errors", "phaseGroups", "projects", "releaseEnabled", "releaseProjects", "repository"}
	if !slices.Equal(keys, want) {
		t.Fatalf("top-level keys = %q, want %q", keys, want)
	}

	var out struct {
		Repository struct {
			ForgeVersion string                    `json:"forgeVersion"`
			Tagging      map[string]string         `json:"tagging"`
			Phases       map[string]map[string]any `json:"phases"`
			Publishers   map[string]map[string]any `json:"publishers"`
		} `json:"repository"`
		Projects []struct {
			Name             string                      `json:"name"`
			Path             string                      `json:"path"`
			Phases           map[string][]map[string]any `json:"phases"`
			ReleaseTriggered bool                        `json:"releaseTriggered"`
			Artifacts        map[string]map[string]any   `json:"artifacts"`
			ArtifactRefs     []map[string]any            `json:"artifactRefs"`
		} `json:"projects"`
		PhaseGroups []discovery.PhaseGroup `json:"phaseGroups"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Repository.ForgeVersion != "v1.0.0" || out.Repository.Tagging["strategy"] != "monorepo" {
		t.Errorf("repository = %+v", out.Repository)
	}
	if got := out.Repository.Publishers["registry"]; got["type"] != "docker" || got["registry"] != "localhost:5000" ||
		!reflect.DeepEqual(got["credentials"], map[string]any{"provider": "aws", "path": "ci/registry"}) {
		t.Errorf("publisher registry = %v", got)
	}
	if got := out.Repository.Phases["test"]; got["group"] != 2.0 || got["required"] != true || got["timeout"] != "15m" {
		t.Errorf("phase test = %v", got)
	}
	wantGroups := []discovery.PhaseGroup{{Group: 1, Phases: []string{"build", "check"}}, {Group: 2, Phases: []string{"test"}}, {Group: 3, Phases: []string{"publish"}}}
	if !reflect.DeepEqual(out.PhaseGroups, wantGroups) {
		t.Errorf("phaseGroups = %+v, want %+v", out.PhaseGroups, wantGroups)
	}

	api := out.Projects[2]
	if api.Name != "api" || api.Path != "services/api" {
		t.Fatalf("third project = %s at %s, want api at services/api", api.Name, api.Path)
	}
	var order []string
	for _, st := range api.Phases["build"] {
		order = append(order, st["name"].(string))
	}
	if want := []string{"compile", "docs", "lint", "zz"}; !slices.Equal(order, want) {
		t.Errorf("build steps in order %q, want %q", order, want)
	}
	unit := api.Phases["test"][0]
	if unit["timeout"] != "15m" {
		t.Errorf("@repo(path=\"phases.test.timeout\") resolved to %v, want 15m", unit["timeout"])
	}
	if unit["target"] != "+test" || unit["action"] != "earthly" || !reflect.DeepEqual(unit["args"], []any{"--ci"}) {
		t.Errorf("unit step = %v", unit)
	}
	wantSecret := []any{map[string]any{"provider": "vault", "path": "ci/api", "key": "token", "env": "API_TOKEN"}}
	if !reflect.DeepEqual(unit["secrets"], wantSecret) {
		t.Errorf("unit secrets = %v, want %v", unit["secrets"], wantSecret)
	}
	if !api.ReleaseTriggered {
		t.Errorf("api is not triggered by branch release/1.4 (trigger release/.*)")
	}
	wantRefs := []map[string]any{{"path": "deployment.resources[0].spec.image", "ref": "api.publishers.registry.uri", "artifact": "api", "field": "publishers.registry.uri",
		"position": map[string]any{"file": "services/api/.forge/project.cue", "line": float64(28), "column": float64(15)}}}
	if !reflect.DeepEqual(api.ArtifactRefs, wantRefs) {
		t.Errorf("artifactRefs = %v, want %v", api.ArtifactRefs, wantRefs)
	}
	if a := api.Artifacts["api"]; a["type"] != "container" ||
		!reflect.DeepEqual(a["producer"], map[string]any{"earthly": map[string]any{"target": "+image", "args": []any{"--push"}}}) ||
		!reflect.DeepEqual(a["publishers"], map[string]any{"registry": map[string]any{"tags": []any{"latest"}}}) {
		t.Errorf("artifact api = %v", a)
	}
	common := out.Projects[1]
	if common.ReleaseTriggered || len(common.ArtifactRefs) != 0 || common.ArtifactRefs == nil {
		t.Errorf("common: triggered=%v refs=%v; want not triggered and an empty list", common.ReleaseTriggered, common.ArtifactRefs)
	}
	if st := common.Phases["test"][0]; st["shell"] != "bash -e" || st["run"] != "go test ./..." {
		t.Errorf("common test step = %v", st)
	}
}

func TestDiscoverReleaseTriggersByGitContext(t *testing.T) {
	cases := []struct {
		git  discovery.GitContext
		want []string
	}{
		{discovery.GitContext{}, []string{}},
		{discovery.GitContext{Branch: "main"}, []string{"api"}},
		{discovery.GitContext{Branch: "mainline"}, []string{}},
		{discovery.GitContext{Branch: "release/2.0"}, []string{"api"}},
		{discovery.GitContext{Tag: "api/v1.2.3"}, []string{"api"}},
		{discovery.GitContext{Tag: "v1.2.3"}, []string{}}, // monorepo: bare tags release nothing
		{discovery.GitContext{Tag: "common/v1.0.0"}, []string{}},
	}
	dir := writeArchive(t, "basic")
	for _, c := range cases {
		res, err := (&Service{}).Discover(context.Background(), os.DirFS(dir), c.git)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Output.ReleaseProjects, c.want) {
			t.Errorf("%+v: releaseProjects = %q, want %q", c.git, res.Output.ReleaseProjects, c.want)
		}
	}
}

func TestDiscoverOutputLimit(t *testing.T) {
	// 40 projects with a 30 KB step each make an output over 1 MB.
	dir := writeArchive(t, "empty")
	big := strings.Repeat("x", 30<<10)
	for i := range 40 {
		name := "p" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		writeFile(t, dir, name+"/.forge/project.cue", "package project\nname: \""+name+"\"\nci: phases: test: t: {action: \"script\", run: \""+big+"\"}\n")
	}
	_, err := (&Service{}).Discover(context.Background(), os.DirFS(dir), discovery.GitContext{})
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Fatalf("Discover = %v; want a validation error about the 1 MB limit", err)
	}
}

func TestDiscoverHonoursCancellation(t *testing.T) {
	dir := writeArchive(t, "basic")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Service{}).Discover(ctx, os.DirFS(dir), discovery.GitContext{}); err != context.Canceled {
		t.Fatalf("Discover with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestDiscoverProblemsCarryPositions(t *testing.T) {
	res, err := discover(t, "invalid", discovery.GitContext{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Output.Errors {
		if e.Path == "" || e.Line == 0 || e.Column == 0 {
			t.Errorf("output error without a full position: %+v", e)
		}
	}
}

// TestLinksLeavingTheRepositoryAreNeverFollowed uses real symbolic links
// on disk, each leading out of the repository (repo/ in the fixture).
func TestLinksLeavingTheRepositoryAreNeverFollowed(t *testing.T) {
	t.Run("root .forge", func(t *testing.T) {
		dir := writeArchive(t, "linked-outside")
		res, err := (&Service{}).Discover(context.Background(), os.DirFS(filepath.Join(dir, "repo")), discovery.GitContext{})
		if res != nil || !fault.Is(err, fault.Validation) {
			t.Fatalf("Discover = %v, %v; want a validation error", res, err)
		}
		ps, _ := Problems(err)
		want := ".forge: .forge is a symbolic link: forge never reads configuration through a link"
		if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), want) {
			t.Errorf("problems = %v, want one starting %q", ps, want)
		}
	})
	t.Run("files in a project", func(t *testing.T) {
		dir := writeArchive(t, "linked-files")
		res, err := (&Service{}).Discover(context.Background(), os.DirFS(filepath.Join(dir, "repo")), discovery.GitContext{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Projects) != 1 || res.Projects[0].Name != "good" {
			t.Errorf("projects = %v, want only good", res.Projects)
		}
		errs, _ := res.Problems.Split()
		want := []string{
			"file/.forge/extra.cue: file/.forge/extra.cue is a symbolic link: forge never reads configuration through a link",
			"module/.forge/cue.mod: module/.forge/cue.mod is a symbolic link: forge never reads configuration through a link",
		}
		if len(errs) != len(want) {
			t.Fatalf("errors = %v, want %d", errs, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(errs[i].Error(), w) {
				t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), w)
			}
		}
	})
}
