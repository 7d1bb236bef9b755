package forgecli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// baseRepo is the repository configuration of the problem fixtures: phases
// build and test (test required) and one publisher, registry.
const baseRepo = `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"

phases: {
	build: {group: 1, timeout: "10m"}
	test: {group: 2, timeout: "5m", required: true}
}

publishers: registry: {
	type:     "docker"
	registry: "localhost:5000"
}
`

// wantProblem is one line `forge validate` must print: file:line:col: msg.
// token is the text that starts at line:col in the fixture, so a test
// also checks that the expected position is the intended one.
type wantProblem struct {
	file      string
	line, col int
	token     string
	msg       string
}

func (p wantProblem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.file, p.line, p.col, p.msg)
}

// problemCase is one repository with configuration problems.
type problemCase struct {
	name  string
	files map[string]string // slash path -> content; .forge/repo.cue defaults to baseRepo
	want  []wantProblem
}

var problemCases = []problemCase{
	{
		name: "unknown fields",
		files: map[string]string{"svc/unknown/.forge/project.cue": `package project

name: "unknown"
ci: phases: test: unit: {action: "script", run: "true", colour: "red"}
bogus: 1
`},
		want: []wantProblem{
			{"svc/unknown/.forge/project.cue", 4, 57, "colour", "ci.phases.test.unit.colour: field not allowed"},
			{"svc/unknown/.forge/project.cue", 5, 1, "bogus", "bogus: field not allowed"},
		},
	},
	{
		name: "step in undefined phase",
		files: map[string]string{"svc/phase/.forge/project.cue": `package project

name: "phase"
ci: phases: {
	test: unit: {action: "script", run: "true"}
	lint: vet: {action: "script", run: "go vet"}
}
`},
		want: []wantProblem{
			{"svc/phase/.forge/project.cue", 6, 2, "lint", `phase "lint" is not defined in .forge/repo.cue (defined phases: build, test)`},
		},
	},
	{
		name: "missing required phase",
		files: map[string]string{"svc/required/.forge/project.cue": `package project

// This project has no test step, and the repository requires one.
name: "required"
ci: phases: build: compile: {action: "script", run: "make"}
`},
		want: []wantProblem{
			{"svc/required/.forge/project.cue", 4, 1, `name: "required"`, `project "required" has no steps in phase "test", which .forge/repo.cue marks required`},
		},
	},
	{
		name: "bad project name",
		files: map[string]string{"svc/badname/.forge/project.cue": `package project

name: "Api_Service"
ci: phases: test: unit: {action: "script", run: "true"}
`},
		want: []wantProblem{
			{"svc/badname/.forge/project.cue", 3, 1, `name: "Api_Service"`, `project name "Api_Service" is not kebab-case: use lowercase letters and digits in words joined by single hyphens (e.g. "api-service")`},
		},
	},
	{
		name: "duplicate project names",
		files: map[string]string{
			"svc/dup-a/.forge/project.cue": `package project

name: "dup"
ci: phases: test: unit: {action: "script", run: "true"}
`,
			"svc/dup-b/.forge/project.cue": `package project

// The same name as svc/dup-a.
name: "dup"
ci: phases: test: unit: {action: "script", run: "true"}
`,
		},
		want: []wantProblem{
			{"svc/dup-a/.forge/project.cue", 3, 1, `name: "dup"`, `project name "dup" is also used by the project in svc/dup-b: project names must be unique`},
			{"svc/dup-b/.forge/project.cue", 4, 1, `name: "dup"`, `project name "dup" is also used by the project in svc/dup-a: project names must be unique`},
		},
	},
	{
		name: "repo reference to a missing path",
		files: map[string]string{"svc/repopath/.forge/project.cue": `package project

name: "repopath"
ci: phases: test: unit: {
	action:  "script"
	run:     "true"
	timeout: @repo(path="phases.deploy.timeout")
}
`},
		want: []wantProblem{
			{"svc/repopath/.forge/project.cue", 7, 11, `@repo(path="phases.deploy.timeout")`, `@repo(path="phases.deploy.timeout"): the repository configuration has no field phases.deploy`},
		},
	},
	{
		name: "artifact reference in value position",
		files: map[string]string{"svc/art-value/.forge/project.cue": `package project

name: "art-value"
ci: phases: test: unit: {action: "script", run: "true"}
artifacts: web: {
	type: "container"
	producer: earthly: target: "+image"
	publishers: registry: tags: ["latest"]
}
deployment: resources: [{
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: "web"
	spec: containers: [{
		name:  "web"
		image: @artifact("nope.uri")
	}]
}]
`},
		want: []wantProblem{
			{"svc/art-value/.forge/project.cue", 16, 10, `@artifact("nope.uri")`, `@artifact("nope.uri") names artifact "nope", which project "art-value" does not declare (declared artifacts: web)`},
		},
	},
	{
		name: "artifact reference written CUE-natively",
		files: map[string]string{"svc/art-native/.forge/project.cue": `package project

name: "art-native"
ci: phases: test: unit: {action: "script", run: "true"}
deployment: resources: [{
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: "web"
	spec: containers: [{
		name:  "web"
		image: string @artifact("nope.uri")
	}]
}]
`},
		want: []wantProblem{
			{"svc/art-native/.forge/project.cue", 11, 17, `@artifact("nope.uri")`, `@artifact("nope.uri") names artifact "nope", which project "art-native" does not declare (declared artifacts: none)`},
		},
	},
	{
		// Each attribute directly after a colon makes the loader insert one
		// byte in front of it; the later columns of the line must still be
		// the user's.
		name: "artifact references without a space, several on one line",
		files: map[string]string{"svc/art-nospace/.forge/project.cue": `package project

name: "art-nospace"
ci: phases: test: unit: {action: "script", run: "true"}
artifacts: web: {
	type: "container"
	producer: earthly: target: "+image"
}
deployment: resources: [{
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: "web"
	spec: containers: [{
		image:@artifact("nope.uri"), pullPolicy: "Always", digest:@artifact("web.digest"), tag:@artifact("nope.tag")
	}]
}]
`},
		want: []wantProblem{
			{"svc/art-nospace/.forge/project.cue", 14, 9, `@artifact("nope.uri")`, `@artifact("nope.uri") names artifact "nope", which project "art-nospace" does not declare (declared artifacts: web)`},
			{"svc/art-nospace/.forge/project.cue", 14, 90, `@artifact("nope.tag")`, `@artifact("nope.tag") names artifact "nope", which project "art-nospace" does not declare (declared artifacts: web)`},
		},
	},
	{
		// A schema error after a value-position attribute on the same line.
		name: "unknown field after an attribute without a space",
		files: map[string]string{"svc/shifted/.forge/project.cue": `package project

name: "shifted"
ci: phases: test: unit: {action: "script", timeout:@repo(path="phases.test.timeout"), run: "true", colour: "red"}
`},
		want: []wantProblem{
			{"svc/shifted/.forge/project.cue", 4, 100, "colour", "ci.phases.test.unit.colour: field not allowed"},
		},
	},
	{
		name: "unknown publisher",
		files: map[string]string{"svc/publisher/.forge/project.cue": `package project

name: "publisher"
ci: phases: test: unit: {action: "script", run: "true"}
artifacts: cli: {
	type: "binary"
	producer: script: {run: "make", output: "bin/cli"}
	publishers: {
		registry: tags: ["latest"]
		github: asset: "cli"
	}
}
`},
		want: []wantProblem{
			{"svc/publisher/.forge/project.cue", 10, 3, "github", `artifact "cli": publisher "github" is not defined in .forge/repo.cue (defined publishers: registry)`},
		},
	},
	{
		name: "unknown field in the repository configuration",
		files: map[string]string{
			".forge/repo.cue": strings.Replace(baseRepo, "required: true", "requird: true", 1),
			"svc/fine/.forge/project.cue": `package project

name: "fine"
ci: phases: test: unit: {action: "script", run: "true"}
`,
		},
		want: []wantProblem{
			{".forge/repo.cue", 8, 34, "requird", "phases.test.requird: field not allowed"},
		},
	},
}

// writeRepo writes the files of c (and baseRepo unless c has its own
// .forge/repo.cue) under root.
func writeRepo(t *testing.T, root string, files map[string]string) {
	t.Helper()
	if _, ok := files[".forge/repo.cue"]; !ok {
		writeFile(t, root, ".forge/repo.cue", baseRepo)
	}
	for rel, content := range files {
		writeFile(t, root, rel, content)
	}
}

// checkPositions checks that every expected position points at its token
// in the fixture, so the numbers in the table are right for the fixture.
func checkPositions(t *testing.T, files map[string]string, want []wantProblem) {
	t.Helper()
	for _, p := range want {
		content, ok := files[p.file]
		if !ok && p.file == ".forge/repo.cue" {
			content, ok = baseRepo, true
		}
		if !ok {
			t.Fatalf("test table: no fixture %s", p.file)
		}
		ls := strings.Split(content, "\n")
		if p.line < 1 || p.line > len(ls) || p.col < 1 || p.col > len(ls[p.line-1]) ||
			!strings.HasPrefix(ls[p.line-1][p.col-1:], p.token) {
			t.Fatalf("test table: %s:%d:%d does not point at %q in the fixture", p.file, p.line, p.col, p.token)
		}
	}
}

func sortProblems(ps []wantProblem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		if a.col != b.col {
			return a.col < b.col
		}
		return a.msg < b.msg
	})
}

func problemLines(ps []wantProblem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestValidateProblems(t *testing.T) {
	for _, c := range problemCases {
		t.Run(c.name, func(t *testing.T) {
			checkPositions(t, c.files, c.want)
			root := tempDir(t)
			writeRepo(t, root, c.files)
			t.Chdir(root)

			r := forge(t, "validate")
			r.wantCode(t, ExitFailure)
			equalLines(t, "stdout", lines(r.stdout), problemLines(c.want))
			if want := plural(len(c.want), "problem") + " found\n"; r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
		})
	}
}

// allProblems merges the project fixtures of every case that uses the base
// repository configuration into one repository.
func allProblems(t *testing.T) (map[string]string, []wantProblem) {
	t.Helper()
	files := map[string]string{}
	var want []wantProblem
	for _, c := range problemCases {
		if _, ok := c.files[".forge/repo.cue"]; ok {
			continue
		}
		for rel, content := range c.files {
			if _, dup := files[rel]; dup {
				t.Fatalf("test table: %s is in two cases", rel)
			}
			files[rel] = content
		}
		want = append(want, c.want...)
	}
	sortProblems(want)
	return files, want
}

func TestValidateReportsEveryProblemInFileOrder(t *testing.T) {
	files, want := allProblems(t)
	checkPositions(t, files, want)
	// One valid project, which validate counts.
	files["libs/ok/.forge/project.cue"] = "package project\n\nname: \"ok\"\nci: phases: test: unit: {action: \"script\", run: \"true\"}\n"
	root := tempDir(t)
	writeRepo(t, root, files)
	t.Chdir(root)

	r := forge(t, "validate", ".")
	r.wantCode(t, ExitFailure)
	equalLines(t, "stdout", lines(r.stdout), problemLines(want))
	if want := plural(len(want), "problem") + " found\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

// validateJSON is the document `forge validate --output json` prints.
type validateJSON struct {
	Valid    bool `json:"valid"`
	Projects int  `json:"projects"`
	Errors   []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
	Warnings []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"warnings"`
}

func decodeValidateJSON(t *testing.T, out string) validateJSON {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, out)
	}
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	sort.Strings(got)
	equalLines(t, "top-level keys", got, []string{"errors", "projects", "valid", "warnings"})
	for _, k := range []string{"errors", "warnings"} {
		if string(keys[k]) == "null" {
			t.Errorf("%s is null, want a list", k)
		}
	}
	var doc validateJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestValidateJSON(t *testing.T) {
	t.Run("problems", func(t *testing.T) {
		files, want := allProblems(t)
		root := tempDir(t)
		writeRepo(t, root, files)
		t.Chdir(root)

		r := forge(t, "validate", "--output", "json")
		r.wantCode(t, ExitFailure)
		if r.stderr != "" {
			t.Errorf("stderr = %q, want nothing with --output json", r.stderr)
		}
		doc := decodeValidateJSON(t, r.stdout)
		if doc.Valid {
			t.Error("valid = true, want false")
		}
		var got []string
		for _, e := range doc.Errors {
			got = append(got, fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message))
		}
		equalLines(t, "errors", got, problemLines(want))
		if len(doc.Warnings) != 0 {
			t.Errorf("warnings = %+v, want none", doc.Warnings)
		}
	})
	t.Run("valid with a warning", func(t *testing.T) {
		root := copyExample(t)
		setForgeVersion(t, root, "v1.5.0")
		t.Chdir(root)

		r := forge(t, "validate", "-o", "json")
		r.wantCode(t, ExitOK)
		if r.stderr != "" {
			t.Errorf("stderr = %q, want nothing with --output json", r.stderr)
		}
		doc := decodeValidateJSON(t, r.stdout)
		if !doc.Valid || doc.Projects != 3 || len(doc.Errors) != 0 {
			t.Errorf("valid = %v, projects = %d, errors = %+v; want true, 3, none", doc.Valid, doc.Projects, doc.Errors)
		}
		if len(doc.Warnings) != 1 {
			t.Fatalf("warnings = %+v, want one", doc.Warnings)
		}
		w := doc.Warnings[0]
		if w.File != ".forge/repo.cue" || w.Line != 5 || w.Column != 1 ||
			!strings.Contains(w.Message, "v1.5.0") || !strings.Contains(w.Message, "v1.0.0") {
			t.Errorf("warning = %+v, want .forge/repo.cue:5:1 naming v1.5.0 and v1.0.0", w)
		}
	})
}

func TestValidateExample(t *testing.T) {
	t.Run("absolute dir", func(t *testing.T) {
		root := copyExample(t)
		r := forge(t, "validate", root)
		r.wantCode(t, ExitOK)
		if want := "ok: " + filepath.Join(root, ".forge", "repo.cue") + " is valid (3 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if r.stderr != "" {
			t.Errorf("stderr = %q, want nothing", r.stderr)
		}
	})
	t.Run("working directory", func(t *testing.T) {
		root := copyExample(t)
		t.Chdir(root)
		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		if want := "ok: .forge/repo.cue is valid (3 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if r.stderr != "" {
			t.Errorf("stderr = %q, want nothing", r.stderr)
		}
	})
	t.Run("git-ignored directories are not walked", func(t *testing.T) {
		root := copyExample(t)
		// dist/ is in the example's .gitignore: this broken project is skipped.
		writeFile(t, root, "services/hello-api/dist/.forge/project.cue", "package project\n\nname: \"Broken_\"\nbogus: 1\n")
		t.Chdir(root)
		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		if want := "ok: .forge/repo.cue is valid (3 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
	})
}

// setForgeVersion rewrites the forgeVersion of root's repo.cue (the example
// declares it on line 5, column 1).
func setForgeVersion(t *testing.T, root, version string) {
	t.Helper()
	src := readFile(t, root, ".forge/repo.cue")
	if got := strings.Split(src, "\n")[4]; got != `forgeVersion: "v1.0.0"` {
		t.Fatalf("line 5 of the example repo.cue is %q, want the forgeVersion", got)
	}
	writeFile(t, root, ".forge/repo.cue", strings.Replace(src, `forgeVersion: "v1.0.0"`, fmt.Sprintf("forgeVersion: %q", version), 1))
}

func TestValidateForgeVersion(t *testing.T) {
	t.Run("newer minor version warns", func(t *testing.T) {
		root := copyExample(t)
		setForgeVersion(t, root, "v1.5.0")
		t.Chdir(root)

		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		if want := "ok: .forge/repo.cue is valid (3 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		want := ".forge/repo.cue:5:1: warning: forgeVersion v1.5.0 is newer than the schema this forge implements (v1.0.0): fields added after v1.0.0 are not checked; upgrade forge\n"
		if r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	})
	t.Run("other major version fails", func(t *testing.T) {
		root := copyExample(t)
		setForgeVersion(t, root, "v2.0.0")
		t.Chdir(root)

		r := forge(t, "validate")
		r.wantCode(t, ExitFailure)
		want := ".forge/repo.cue:5:1: forgeVersion v2.0.0 is not supported: this forge implements schema v1.0.0 (major version 1); use a forge release for major version 2\n"
		if r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if want := "1 problem found\n"; r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	})
}

func TestValidateFromProjectSubdirectory(t *testing.T) {
	root := copyExample(t)
	t.Run("valid", func(t *testing.T) {
		t.Chdir(filepath.Join(root, "services", "hello-api"))
		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		// The root is above the working directory, so it prints absolute.
		if want := "ok: " + filepath.Join(root, ".forge", "repo.cue") + " is valid (3 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
	})
	t.Run("from inside .forge", func(t *testing.T) {
		t.Chdir(filepath.Join(root, "libs", "greeting", ".forge"))
		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		if !strings.HasSuffix(r.stdout, string(filepath.Separator)+filepath.Join(".forge", "repo.cue")+" is valid (3 projects)\n") {
			t.Errorf("stdout = %q, want the ok line", r.stdout)
		}
	})
	t.Run("problem in a sibling project", func(t *testing.T) {
		bad := "package project\n\nname: \"bad\"\nci: phases: test: unit: {action: \"script\", run: \"true\"}\nbogus: 1\n"
		writeFile(t, root, "services/bad/.forge/project.cue", bad)
		defer os.RemoveAll(filepath.Join(root, "services", "bad"))
		t.Chdir(filepath.Join(root, "libs", "greeting"))
		r := forge(t, "validate")
		r.wantCode(t, ExitFailure)
		want := filepath.Join(root, "services", "bad", ".forge", "project.cue") + ":5:1: bogus: field not allowed\n"
		if r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
	})
}

func TestNotAForgeRepository(t *testing.T) {
	dir := tempDir(t)
	noForgeAbove(t, dir)
	// A project configuration alone does not make a repository.
	writeFile(t, dir, "svc/.forge/project.cue", "package project\n\nname: \"svc\"\n")

	for _, cmd := range []string{"validate", "discover"} {
		t.Run(cmd+" DIR", func(t *testing.T) {
			r := forge(t, cmd, dir)
			r.wantCode(t, ExitFailure)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			want := "error: not a forge repository: no .forge/repo.cue in " + dir + " or any parent directory (create one, or pass the repository directory)\n"
			if r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
		})
		t.Run(cmd+" in working directory", func(t *testing.T) {
			t.Chdir(filepath.Join(dir, "svc"))
			r := forge(t, cmd)
			r.wantCode(t, ExitFailure)
			want := "error: not a forge repository: no .forge/repo.cue in . or any parent directory (create one, or pass the repository directory)\n"
			if r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		missing := filepath.Join(dir, "nowhere")
		r := forge(t, "validate", missing)
		r.wantCode(t, ExitFailure)
		if want := "error: " + missing + " is not a directory\n"; r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	})
}
