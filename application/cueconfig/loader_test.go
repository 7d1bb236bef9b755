package cueconfig

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/catalyst-forge/forge/domain/config"
)

const testRepo = `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: {
	build: {group: 1, timeout: "10m"}
	test: {group: 2, timeout: "15m", required: true}
}
publishers: {
	registry: {
		type: "docker"
		registry: "localhost:5000"
		credentials: {provider: "aws", secretName: "ci/registry", region: "eu-west-1"}
	}
	site: {type: "docs", bucket: "docs", credentials: {provider: "vault", path: "ci/docs", key: "token"}}
}
`

// loadProject loads src as svc/.forge/project.cue against testRepo.
func loadProject(t *testing.T, src string, extra ...string) (*config.Project, config.Problems) {
	t.Helper()
	fsys := fstest.MapFS{
		".forge/repo.cue":        {Data: []byte(testRepo)},
		"svc/.forge/project.cue": {Data: []byte(src)},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fsys[extra[i]] = &fstest.MapFile{Data: []byte(extra[i+1])}
	}
	l := NewLoader()
	rc, ps := l.LoadRepo(fsys)
	if rc == nil {
		t.Fatalf("test repository does not load: %v", ps)
	}
	return l.LoadProject(fsys, "svc", rc)
}

const header = "package project\n\nname: \"svc\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n"

// TestProjectErrors checks that each kind of mistake is reported once, at
// the user's file, line and column, with a message that says what is wrong.
func TestProjectErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string // the full "file:line:col: message" prefix of the first error
	}{
		{"unknown top-level field", header + "colour: \"red\"\n",
			"svc/.forge/project.cue:5:1: colour: field not allowed"},
		{"unknown step field", header + "ci: phases: build: b: {action: \"earthly\", target: \"+b\", run: \"x\"}\n",
			"svc/.forge/project.cue:5:57: ci.phases.build.b.run: field not allowed"},
		{"wrong type", header + "ci: phases: build: b: {action: \"earthly\", target: \"+b\", priority: \"high\"}\n",
			"svc/.forge/project.cue:5:67: ci.phases.build.b.priority: conflicting values \"high\" and int"},
		{"unknown action", header + "ci: phases: build: b: {action: \"make\", target: \"all\"}\n",
			"svc/.forge/project.cue:5:32: ci.phases.build.b.action: \"make\" is not allowed; use one of \"earthly\", \"script\""},
		{"missing required field", header + "ci: phases: build: b: {action: \"earthly\"}\n",
			"svc/.forge/project.cue:5:20: ci.phases.build.b.target: field is required but not present"},
		{"missing name", "package project\n\nci: phases: test: t: {action: \"script\", run: \"true\"}\n",
			"svc/.forge/project.cue:1:1: name: field is required but not present"},
		{"incomplete value", header + "release: enabled: bool\n",
			"svc/.forge/project.cue:5:10: release.enabled: incomplete value bool"},
		{"bad trigger", header + "release: on: [{tags: true}]\n",
			"svc/.forge/project.cue:5:16: release.on[0].tags: field not allowed"},
		{"bad step timeout", header + "ci: phases: build: b: {action: \"script\", run: \"x\", timeout: \"soon\"}\n",
			`svc/.forge/project.cue:5:20: step "b" of phase "build" timeout: "soon" is not a duration`},
		{"bad branch regex", header + "release: on: [{branch: \"release/(\"}]\n",
			`svc/.forge/project.cue:5:15: release trigger branch "release/(" is not a valid regular expression`},
		{"two producers", header + "artifacts: a: {type: \"binary\", producer: {earthly: target: \"+a\", script: {run: \"x\", output: \"a\"}}}\n",
			`svc/.forge/project.cue:5:32: artifact "a" must have exactly one producer, found 2`},
		{"no producer", header + "artifacts: a: {type: \"binary\", producer: {}}\n",
			`svc/.forge/project.cue:5:32: artifact "a" must have exactly one producer, found 0`},
		{"unknown artifact type", header + "artifacts: a: {type: \"wheel\", producer: earthly: target: \"+a\"}\n",
			`svc/.forge/project.cue:5:22: artifacts.a.type: "wheel" is not allowed; use one of "archive", "binary", "container"`},
		{"resource without kind", header + "deployment: resources: [{apiVersion: \"v1\", metadata: name: \"x\"}]\n",
			"svc/.forge/project.cue:5:25: deployment.resources[0].kind: field is required but not present"},
		{"resource without name", header + "deployment: resources: [{apiVersion: \"v1\", kind: \"Pod\"}, {apiVersion: \"v1\", kind: \"Pod\", metadata: {}}]\n",
			"svc/.forge/project.cue:5:25: deployment.resources[0].metadata: field is required but not present"},
		{"resource metadata without name", header + "deployment: resources: [{apiVersion: \"v1\", kind: \"Pod\", metadata: {labels: a: \"b\"}}]\n",
			"svc/.forge/project.cue:5:57: deployment.resources[0].metadata.name: field is required but not present"},
		{"resource kind not a string", header + "deployment: resources: [{apiVersion: \"v1\", kind: 3, metadata: name: \"x\"}]\n",
			"svc/.forge/project.cue:5:44: deployment.resources[0].kind: must be a string"},
		{"resource not a struct", header + "deployment: resources: [\"Pod\"]\n",
			"svc/.forge/project.cue:5:25: deployment.resources[0]: a resource must be a struct"},
		{"resources not a list", header + "deployment: resources: {a: 1}\n",
			"svc/.forge/project.cue:5:13: deployment.resources: must be a list of resources, got struct"},
		{"unknown deployment field", header + "deployment: resoures: []\n",
			"svc/.forge/project.cue:5:13: deployment.resoures: field not allowed"},
		{"deployment not a struct", header + "deployment: \"web\"\n",
			"svc/.forge/project.cue:5:1: deployment: must be a struct holding resources, got string"},
		{"incomplete resource value", header + "deployment: resources: [{apiVersion: \"v1\", kind: \"Pod\", metadata: name: \"x\", spec: replicas: int}]\n",
			"svc/.forge/project.cue:5:94: deployment.resources[0].spec.replicas: incomplete value int"},
		{"secret without provider fields", header + "ci: phases: build: b: {action: \"script\", run: \"x\", secrets: [{provider: \"kubernetes\", namespace: \"ci\"}]}\n",
			"svc/.forge/project.cue:5:62: ci.phases.build.b.secrets[0].secretName: field is required but not present"},
		{"aws secret without name", header + "ci: phases: build: b: {action: \"script\", run: \"x\", secrets: [{provider: \"aws\", region: \"eu\"}]}\n",
			`svc/.forge/project.cue:5:62: step "b" of phase "build" secret: provider "aws" needs secretName (or its alias path)`},
		{"aws secret with both", header + "ci: phases: build: b: {action: \"script\", run: \"x\", secrets: [{provider: \"aws\", path: \"a\", secretName: \"b\"}]}\n",
			`svc/.forge/project.cue:5:62: step "b" of phase "build" secret: give secretName or its alias path, not both`},
		{"field of another provider", header + "ci: phases: build: b: {action: \"script\", run: \"x\", secrets: [{provider: \"env\", name: \"X\", path: \"p\"}]}\n",
			"svc/.forge/project.cue:5:91: ci.phases.build.b.secrets[0].path: field not allowed"},
		{"syntax error", header + "ci: phases: build: {\n",
			"svc/.forge/project.cue:5:22: expected '}', found 'EOF'"},
		{"missing package", "name: \"svc\"\n",
			"svc/.forge/project.cue:1:1: missing package clause"},
		{"repo package outside the root", "package repo\n\nforgeVersion: \"v1.0.0\"\n",
			"svc/.forge/project.cue:1:9: project.cue must declare `package project`, not `package repo`"},
		{"foreign import", "package project\n\nimport \"example.com/schemas\"\n\nname: \"svc\"\n",
			`svc/.forge/project.cue:3:8: import "example.com/schemas": forge configuration can import only CUE's standard library`},
		{"undefined phase", header + "ci: phases: lint: l: {action: \"script\", run: \"x\"}\n",
			`svc/.forge/project.cue:5:13: phase "lint" is not defined in .forge/repo.cue (defined phases: build, test)`},
		{"undefined publisher", header + "artifacts: a: {type: \"binary\", producer: earthly: target: \"+a\", publishers: pypi: {}}\n",
			`svc/.forge/project.cue:5:77: artifact "a": publisher "pypi" is not defined in .forge/repo.cue (defined publishers: registry, site)`},
		{"required phase missing", "package project\n\nname: \"svc\"\nci: phases: build: b: {action: \"script\", run: \"x\"}\n",
			`svc/.forge/project.cue:3:1: project "svc" has no steps in phase "test", which .forge/repo.cue marks required`},
		{"name not kebab-case", "package project\n\nname: \"SvcName\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:3:1: project name "SvcName" is not kebab-case: use lowercase letters and digits in words joined by single hyphens (e.g. "svc-name")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ps := loadProject(t, c.src)
			if p != nil || !ps.HasErrors() {
				t.Fatalf("loaded %+v with problems %v; want an error", p, ps)
			}
			errs, _ := ps.Split()
			if got := errs[0].Error(); !strings.HasPrefix(got, c.want) {
				t.Errorf("first error:\n got %s\nwant %s…\n(all: %v)", got, c.want, errs)
			}
		})
	}
}

// TestAttributeForms checks that @repo and @artifact work in the spec's
// value position, with and without a blank, and in CUE's native form, and
// that positions after a rewritten attribute stay right.
func TestAttributeForms(t *testing.T) {
	cases := []struct {
		name, line string
		timeout    string
		refCol     int
	}{
		{"value position", `ci: phases: build: b: {action: "script", run: "x", timeout: @repo(path="phases.build.timeout")}`, "10m", 0},
		{"value position without blank", `ci: phases: build: b: {action: "script", run: "x", timeout:@repo(path="phases.build.timeout")}`, "10m", 0},
		{"value position after a tab", "ci: phases: build: b: {action: \"script\", run: \"x\", timeout:\t@repo(\"phases.test.timeout\")}", "15m", 0},
		{"native form", `ci: phases: build: b: {action: "script", run: "x", timeout: string @repo(path="phases.build.timeout")}`, "10m", 0},
		{"native form with a matching value", `ci: phases: build: b: {action: "script", run: "x", timeout: "10m" @repo(path="phases.build.timeout")}`, "10m", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ps := loadProject(t, header+c.line+"\n")
			if p == nil {
				t.Fatalf("did not load: %v", ps)
			}
			if got := p.Phases["build"][0].Timeout; got != c.timeout {
				t.Errorf("timeout = %q, want %q", got, c.timeout)
			}
		})
	}

	t.Run("conflicting native value", func(t *testing.T) {
		_, ps := loadProject(t, header+`ci: phases: build: b: {action: "script", run: "x", timeout: "1m" @repo(path="phases.build.timeout")}`+"\n")
		if len(ps) == 0 || !strings.HasPrefix(ps[0].Error(), `svc/.forge/project.cue:5:61: ci.phases.build.b.timeout: conflicting values "10m" and "1m"`) {
			t.Errorf("problems = %v", ps)
		}
	})

	refLine := `deployment: resources: [{apiVersion: "v1", kind: "Pod", metadata: name: "p", spec: {image:@artifact("web.uri"), tag: @artifact("web.tag"), digest: string @artifact("web.digest"), bad: 1 & "x"}}]`
	art := `artifacts: web: {type: "container", producer: earthly: target: "+img"}`
	t.Run("artifact references", func(t *testing.T) {
		p, ps := loadProject(t, header+art+"\n"+refLine[:strings.Index(refLine, ", bad")]+"}}]\n")
		if p == nil {
			t.Fatalf("did not load: %v", ps)
		}
		want := []config.ArtifactRef{
			{Path: "deployment.resources[0].spec.image", Ref: "web.uri", Artifact: "web", Field: "uri", Pos: config.Position{File: "svc/.forge/project.cue", Line: 6, Column: 91}},
			{Path: "deployment.resources[0].spec.tag", Ref: "web.tag", Artifact: "web", Field: "tag", Pos: config.Position{File: "svc/.forge/project.cue", Line: 6, Column: 118}},
			{Path: "deployment.resources[0].spec.digest", Ref: "web.digest", Artifact: "web", Field: "digest", Pos: config.Position{File: "svc/.forge/project.cue", Line: 6, Column: 155}},
		}
		if !reflect.DeepEqual(p.ArtifactRefs, want) {
			t.Errorf("refs =\n%+v\nwant\n%+v", p.ArtifactRefs, want)
		}
		spec := p.Deployment.Resources[0].(map[string]any)["spec"].(map[string]any)
		if v, ok := spec["image"]; !ok || v != nil {
			t.Errorf("unresolved reference holds %v, want null", v)
		}
	})
	t.Run("columns after an inserted placeholder", func(t *testing.T) {
		// `image:@artifact(...)` needs one inserted byte; the error at `bad`
		// further along the line must still point at the user's column.
		_, ps := loadProject(t, header+art+"\n"+refLine+"\n")
		col := strings.Index(refLine, `1 & "x"`) + 1
		if len(ps) == 0 || ps[0].Pos.Line != 6 || ps[0].Pos.Column < col || ps[0].Pos.Column > col+4 {
			t.Errorf("problems = %v; want the conflict on line 6 near column %d", ps, col)
		}
	})
	for name, src := range map[string]string{
		"artifact outside deployment":   header + art + "\nrelease: on: [{branch: @artifact(\"web.uri\")}]\n",
		"artifact without field":        header + art + "\ndeployment: resources: [{apiVersion: \"v1\", kind: \"P\", metadata: name: \"p\", x: @artifact(\"web\")}]\n",
		"artifact under a pattern":      header + art + "\ndeployment: [string]: x: @artifact(\"web.uri\")\n",
		"repo with two arguments":       header + "ci: phases: build: b: {action: \"script\", run: \"x\", timeout: @repo(path=\"a\", other=\"b\")}\n",
		"repo with an unknown argument": header + "ci: phases: build: b: {action: \"script\", run: \"x\", timeout: @repo(file=\"a\")}\n",
		"repo into a list":              header + "ci: phases: build: b: {action: \"script\", run: \"x\", timeout: @repo(path=\"phases.build[0]\")}\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, ps := loadProject(t, src)
			if p != nil || !ps.HasErrors() || ps[0].Pos.Line == 0 {
				t.Errorf("loaded %v with %v; want a positioned error", p, ps)
			}
		})
	}
}

func TestRepoLoading(t *testing.T) {
	l := NewLoader()
	rc, ps := l.LoadRepo(fstest.MapFS{".forge/repo.cue": {Data: []byte(testRepo)}})
	if rc == nil || len(ps) != 0 {
		t.Fatalf("LoadRepo: %v", ps)
	}
	reg := rc.Repo.Publishers["registry"]
	if reg.Type != "docker" || reg.Settings["registry"] != "localhost:5000" || reg.Credentials == nil ||
		reg.Credentials.Provider != "aws" || reg.Credentials.Config["secretName"] != "ci/registry" {
		t.Errorf("publisher registry = %+v (credentials %+v)", reg, reg.Credentials)
	}
	if ph := rc.Repo.Phases["test"]; ph.Group != 2 || !ph.Required || ph.Timeout != "15m" || ph.Pos.Line != 7 {
		t.Errorf("phase test = %+v", ph)
	}

	bad := map[string]struct{ src, want string }{
		"major version": {strings.Replace(testRepo, "v1.0.0", "v2.0.0", 1),
			".forge/repo.cue:3:1: forgeVersion v2.0.0 is not supported: this forge implements schema v1.0.0"},
		"publisher type": {testRepo + "publishers: x: {type: \"ftp\"}\n",
			`.forge/repo.cue:17:23: publishers.x.type: "ftp" is not allowed`},
		"publisher missing field": {testRepo + "publishers: gh: {type: \"github\", owner: \"o\"}\n",
			".forge/repo.cue:17:13: publishers.gh.repo: field is required but not present"},
		"phase group": {testRepo + "phases: lint: group: 0\n",
			`.forge/repo.cue:17:9: phase "lint": group must be 1 or more, got 0`},
		"repo attribute in repo": {testRepo + "phases: lint: {group: 1, timeout: @repo(path=\"phases.build.timeout\")}\n",
			".forge/repo.cue:17:35: @repo is only allowed in project configuration"},
		"project package named repo.cue": {"package project\n", ".forge/repo.cue:1:9: repo.cue must declare `package repo`"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			rc, ps := NewLoader().LoadRepo(fstest.MapFS{".forge/repo.cue": {Data: []byte(c.src)}})
			if rc != nil || len(ps) == 0 || !strings.HasPrefix(ps[0].Error(), c.want) {
				t.Errorf("LoadRepo = %v, %v\nwant first problem %s…", rc, ps, c.want)
			}
		})
	}
	t.Run("newer minor warns", func(t *testing.T) {
		rc, ps := NewLoader().LoadRepo(fstest.MapFS{".forge/repo.cue": {Data: []byte(strings.Replace(testRepo, "v1.0.0", "v1.7.2", 1))}})
		if rc == nil || len(ps) != 1 || ps[0].Severity != config.SeverityWarning || !strings.Contains(ps[0].Message, "v1.7.2") {
			t.Errorf("LoadRepo = %v, %v; want a repository and one warning", rc, ps)
		}
	})
}

// TestModuleAndFiles covers the .forge directory as a CUE module, several
// files in one package, and files of the other forge package at the root.
func TestModuleAndFiles(t *testing.T) {
	module := "module: \"forge.local/svc@v0\"\nlanguage: version: \"v0.17.0\"\n"
	if p, ps := loadProject(t, header, "svc/.forge/cue.mod/module.cue", module); p == nil {
		t.Errorf("with cue.mod: %v", ps)
	}
	if _, ps := loadProject(t, header, "svc/.forge/cue.mod/module.cue", "module: {\n"); len(ps) == 0 || ps[0].Pos.File != "svc/.forge/cue.mod/module.cue" {
		t.Errorf("broken module.cue: %v", ps)
	}
	p, ps := loadProject(t, header, "svc/.forge/release.cue", "package project\n\nrelease: on: [{branch: \"main\"}]\n")
	if p == nil || len(p.Release.On) != 1 || p.Release.On[0].Pos.File != "svc/.forge/release.cue" {
		t.Errorf("second file: %+v %v", p, ps)
	}
	if _, ps := loadProject(t, header, "svc/.forge/extra.cue", "package other\n"); len(ps) == 0 || !strings.Contains(ps[0].Message, `unknown package "other"`) {
		t.Errorf("foreign package: %v", ps)
	}
	if _, ps := loadProject(t, header, "svc/.forge/extra.cue", "package project\n\nname: \"other\"\n"); len(ps) == 0 || !strings.Contains(ps[0].Message, "conflicting values") {
		t.Errorf("conflicting files: %v", ps)
	}
	// A root .forge may hold the repository and a project side by side.
	fsys := fstest.MapFS{
		".forge/repo.cue":    {Data: []byte(testRepo)},
		".forge/project.cue": {Data: []byte(header)},
	}
	l := NewLoader()
	rc, _ := l.LoadRepo(fsys)
	if p, ps := l.LoadProject(fsys, ".", rc); p == nil || p.Name != "svc" {
		t.Errorf("root project: %v", ps)
	}
	big := fstest.MapFS{".forge/repo.cue": {Data: []byte(testRepo + "// " + strings.Repeat("x", MaxFileBytes) + "\n")}}
	if rc, ps := l.LoadRepo(big); rc != nil || len(ps) == 0 || !strings.Contains(ps[0].Message, "limit") {
		t.Errorf("oversized file: %v", ps)
	}
}

func TestInterpolationIsNotMistakenForAttributes(t *testing.T) {
	src := header + "ci: phases: build: b: {action: \"script\", run: \"echo \\(name) \\((1+2)*3) @x(y)\", timeout: @repo(path=\"phases.build.timeout\")}\n"
	p, ps := loadProject(t, src)
	if p == nil {
		t.Fatalf("did not load: %v", ps)
	}
	if st := p.Phases["build"][0]; st.Run != "echo svc 9 @x(y)" || st.Timeout != "10m" {
		t.Errorf("step = %+v", st)
	}
}

func TestSchemaCompiles(t *testing.T) {
	if !strings.Contains(Schema(), "#Project") || NewLoader() == nil {
		t.Fatal("embedded schema is missing #Project")
	}
}

// TestUnsafeNames checks that phase and step names outside the safe set
// (config.CheckName) are errors at the name's file, line and column, in a
// project and in the repository configuration.
func TestUnsafeNames(t *testing.T) {
	long := strings.Repeat("a", config.MaxNameLength+1)
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"step with ..", header + "ci: phases: test: \"../../x\": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name "../../x" is not allowed: use lowercase letters`},
		{"step with a slash", header + "ci: phases: test: \"a/b\": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name "a/b" is not allowed`},
		{"empty step", header + "ci: phases: test: \"\": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name is empty`},
		{"control character", header + "ci: phases: test: \"a\\u0007b\": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name "a\ab" is not allowed`},
		{"unicode", header + "ci: phases: test: \"tést\": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name "tést" is not allowed`},
		{"too long", header + "ci: phases: test: " + long + ": {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:19: step name "` + long + `" is 64 characters long; the limit is 63`},
		{"phase with ..", header + "ci: phases: \"..\": t: {action: \"script\", run: \"true\"}\n",
			`svc/.forge/project.cue:5:13: phase name ".." is not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ps := loadProject(t, c.src)
			if p != nil || !ps.HasErrors() {
				t.Fatalf("loaded %+v with problems %v; want an error", p, ps)
			}
			errs, _ := ps.Split()
			if got := errs[0].Error(); !strings.HasPrefix(got, c.want) {
				t.Errorf("first error:\n got %s\nwant %s…\n(all: %v)", got, c.want, errs)
			}
		})
	}
	t.Run("repository phase", func(t *testing.T) {
		rc, ps := NewLoader().LoadRepo(fstest.MapFS{".forge/repo.cue": {Data: []byte(testRepo + "phases: \"a/../b\": group: 3\n")}})
		want := `.forge/repo.cue:17:9: phase name "a/../b" is not allowed`
		if rc != nil || len(ps) == 0 || !strings.HasPrefix(ps[0].Error(), want) {
			t.Errorf("LoadRepo = %v, %v\nwant first problem %s…", rc, ps, want)
		}
	})
}

// TestConfigurationIsNeverReadThroughLinks covers every place the loader
// reads configuration: the root .forge, a project's directory and .forge,
// its .cue files and its cue.mod.
func TestConfigurationIsNeverReadThroughLinks(t *testing.T) {
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
	}
	project := &fstest.MapFile{Data: []byte(header)}
	t.Run("root .forge", func(t *testing.T) {
		fsys := fstest.MapFS{"elsewhere/repo.cue": {Data: []byte(testRepo)}, ".forge": link("elsewhere")}
		rc, ps := NewLoader().LoadRepo(fsys)
		if rc != nil || len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), ".forge: .forge is a symbolic link") {
			t.Errorf("LoadRepo = %v, %v; want one error at the link", rc, ps)
		}
	})
	t.Run("repo.cue", func(t *testing.T) {
		fsys := fstest.MapFS{"elsewhere/repo.cue": {Data: []byte(testRepo)}, ".forge/repo.cue": link("../elsewhere/repo.cue")}
		rc, ps := NewLoader().LoadRepo(fsys)
		if rc != nil || len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), ".forge/repo.cue: .forge/repo.cue is a symbolic link") {
			t.Errorf("LoadRepo = %v, %v; want one error at the link", rc, ps)
		}
	})
	cases := []struct {
		name  string
		files fstest.MapFS
		dir   string
		want  string
	}{
		{"project directory", fstest.MapFS{"real/.forge/project.cue": project, "svc": link("real")}, "svc",
			"svc: svc is a symbolic link"},
		{"directory above the project", fstest.MapFS{"real/svc/.forge/project.cue": project, "team": link("real")}, "team/svc",
			"team: team is a symbolic link"},
		{"project .forge", fstest.MapFS{"real/project.cue": project, "svc/.forge": link("../real")}, "svc",
			"svc/.forge: svc/.forge is a symbolic link"},
		{"second file", fstest.MapFS{"svc/.forge/project.cue": project, "x.cue": {Data: []byte("package project\n")}, "svc/.forge/x.cue": link("../../x.cue")}, "svc",
			"svc/.forge/x.cue: svc/.forge/x.cue is a symbolic link"},
		{"cue.mod", fstest.MapFS{"svc/.forge/project.cue": project, "m/module.cue": {Data: []byte("module: \"a.b/c@v0\"\n")}, "svc/.forge/cue.mod": link("../../m")}, "svc",
			"svc/.forge/cue.mod: svc/.forge/cue.mod is a symbolic link"},
		{"module.cue", fstest.MapFS{"svc/.forge/project.cue": project, "module.cue": {Data: []byte("module: \"a.b/c@v0\"\n")}, "svc/.forge/cue.mod/module.cue": link("../../../module.cue")}, "svc",
			"svc/.forge/cue.mod/module.cue: svc/.forge/cue.mod/module.cue is a symbolic link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.files[".forge/repo.cue"] = &fstest.MapFile{Data: []byte(testRepo)}
			l := NewLoader()
			rc, ps := l.LoadRepo(c.files)
			if rc == nil {
				t.Fatalf("LoadRepo: %v", ps)
			}
			p, ps := l.LoadProject(c.files, c.dir, rc)
			if p != nil || len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), c.want+": forge never reads configuration through a link") {
				t.Errorf("LoadProject = %v, %v; want one error starting %q", p, ps, c.want)
			}
		})
	}
}
