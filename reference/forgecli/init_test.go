package forgecli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitInsideRepository(t *testing.T) {
	root := copyExample(t)
	// services/new-svc does not exist yet: init creates it, and still finds
	// the repository above it.
	t.Chdir(root)

	r := forge(t, "init", "new-svc", "--path", "services/new-svc")
	r.wantCode(t, ExitOK)
	equalLines(t, "stdout", lines(r.stdout), []string{
		"created services/new-svc/.forge/project.cue",
		"created services/new-svc/.forge/cue.mod/module.cue",
		"replace the placeholder steps of the required phases (test) with real ones, then run 'forge validate'",
	})
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}

	project := readFile(t, root, "services/new-svc/.forge/project.cue")
	for _, want := range []string{
		"package project\n",
		"name: \"new-svc\"\n",
		"\ttest: placeholder: {\n",
		"\t\taction: \"script\"\n",
		"\t\trun:    \"echo 'no test step for new-svc yet'\"\n",
	} {
		if !strings.Contains(project, want) {
			t.Errorf("project.cue does not contain %q:\n%s", want, project)
		}
	}
	// Only the required phase gets a placeholder.
	for _, phase := range []string{"build:", "check:"} {
		if strings.Contains(project, phase) {
			t.Errorf("project.cue has a step in the optional phase %s:\n%s", phase, project)
		}
	}
	module := readFile(t, root, "services/new-svc/.forge/cue.mod/module.cue")
	if !strings.Contains(module, "module: \"forge.local/new-svc@v0\"\n") || !strings.Contains(module, "language: version: ") {
		t.Errorf("module.cue:\n%s", module)
	}

	t.Run("validate passes with one more project", func(t *testing.T) {
		r := forge(t, "validate")
		r.wantCode(t, ExitOK)
		if want := "ok: .forge/repo.cue is valid (4 projects)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		out := discover(t)
		var paths []string
		for _, p := range out.Projects {
			paths = append(paths, p.Path)
		}
		equalLines(t, "project paths", paths, []string{"libs/greeting", "services/hello-api", "services/hello-web", "services/new-svc"})
	})

	t.Run("init again refuses", func(t *testing.T) {
		r := forge(t, "init", "new-svc", "--path", "services/new-svc")
		r.wantCode(t, ExitFailure)
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
		if want := "error: services/new-svc/.forge/project.cue already exists; init never overwrites a configuration\n"; r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
		if got := readFile(t, root, "services/new-svc/.forge/project.cue"); got != project {
			t.Errorf("project.cue changed:\n%s", got)
		}
		if got := readFile(t, root, "services/new-svc/.forge/cue.mod/module.cue"); got != module {
			t.Errorf("module.cue changed:\n%s", got)
		}
	})

	t.Run("init again with another name refuses", func(t *testing.T) {
		r := forge(t, "init", "other-name", "-p", "services/new-svc")
		r.wantCode(t, ExitFailure)
		if got := readFile(t, root, "services/new-svc/.forge/project.cue"); got != project {
			t.Errorf("project.cue changed:\n%s", got)
		}
	})
}

func TestInitFromProjectDirectory(t *testing.T) {
	root := copyExample(t)
	dir := filepath.Join(root, "services", "api")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	r := forge(t, "init", "api")
	r.wantCode(t, ExitOK)
	equalLines(t, "stdout", lines(r.stdout), []string{
		"created .forge/project.cue",
		"created .forge/cue.mod/module.cue",
		"replace the placeholder steps of the required phases (test) with real ones, then run 'forge validate'",
	})
	if !strings.Contains(readFile(t, dir, ".forge/project.cue"), "test: placeholder:") {
		t.Error("project.cue has no placeholder test step")
	}
	r = forge(t, "validate")
	r.wantCode(t, ExitOK)
	if !strings.HasSuffix(r.stdout, " is valid (4 projects)\n") {
		t.Errorf("stdout = %q, want the ok line for 4 projects", r.stdout)
	}
}

func TestInitInvalidName(t *testing.T) {
	root := copyExample(t)
	t.Chdir(root)
	before := snapshot(t, root)

	t.Run("new directory", func(t *testing.T) {
		r := forge(t, "init", "My_Service", "--path", "services/my-service")
		r.wantCode(t, ExitUsage)
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
		want := "error: project name \"My_Service\" is not kebab-case: use lowercase letters and digits in words joined by single hyphens (e.g. \"my-service\")\n"
		if r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
		if exists(root, "services/my-service") {
			t.Error("init created services/my-service")
		}
	})
	t.Run("working directory", func(t *testing.T) {
		dir := filepath.Join(root, "services", "hello-web")
		t.Chdir(dir)
		r := forge(t, "init", "My_Service")
		r.wantCode(t, ExitUsage)
		if !strings.Contains(r.stderr, "not kebab-case") {
			t.Errorf("stderr = %q, want the kebab-case message", r.stderr)
		}
	})
	equalLines(t, "files after the invalid inits", snapshot(t, root), before)
}

// snapshot lists every path under root, with the content of every file.
func snapshot(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		entry := filepath.ToSlash(rel)
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += " " + string(b)
		}
		out = append(out, entry)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInitOutsideRepository(t *testing.T) {
	dir := tempDir(t)
	noForgeAbove(t, dir)
	t.Chdir(dir)

	r := forge(t, "init", "lonely")
	r.wantCode(t, ExitOK)
	equalLines(t, "stdout", lines(r.stdout), []string{
		"created .forge/project.cue",
		"created .forge/cue.mod/module.cue",
	})
	if want := "note: . is not inside a forge repository (no .forge/repo.cue above it); the project is checked once it is\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	project := readFile(t, dir, ".forge/project.cue")
	if !strings.HasPrefix(project, "package project\n") || !strings.Contains(project, "name: \"lonely\"\n") {
		t.Errorf("project.cue:\n%s", project)
	}
	// Without a repository there are no required phases to scaffold.
	if strings.Contains(project, "ci:") || strings.Contains(project, "placeholder") {
		t.Errorf("project.cue has steps, want a minimal project:\n%s", project)
	}
	if !strings.Contains(readFile(t, dir, ".forge/cue.mod/module.cue"), "module: \"forge.local/lonely@v0\"") {
		t.Error("module.cue does not name the module")
	}

	t.Run("with --path to a new directory", func(t *testing.T) {
		r := forge(t, "init", "other", "--path", "nested/other")
		r.wantCode(t, ExitOK)
		equalLines(t, "stdout", lines(r.stdout), []string{
			"created nested/other/.forge/project.cue",
			"created nested/other/.forge/cue.mod/module.cue",
		})
		if !strings.HasPrefix(r.stderr, "note: nested/other is not inside a forge repository") {
			t.Errorf("stderr = %q, want the note", r.stderr)
		}
	})
}

func TestInitRefusesForgeDirectory(t *testing.T) {
	root := copyExample(t)
	t.Chdir(root)
	r := forge(t, "init", "inner", "--path", "libs/greeting/.forge")
	r.wantCode(t, ExitFailure)
	if want := "error: libs/greeting/.forge is inside a .forge directory; give the project's own directory\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if exists(root, "libs/greeting/.forge/.forge") {
		t.Error("init wrote inside .forge")
	}
}

func TestInitInvalidRepository(t *testing.T) {
	root := copyExample(t)
	setForgeVersion(t, root, "v2.0.0")
	if err := os.MkdirAll(filepath.Join(root, "svc"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	r := forge(t, "init", "svc", "--path", "svc")
	r.wantCode(t, ExitFailure)
	if !strings.HasPrefix(r.stderr, ".forge/repo.cue:5:1: forgeVersion v2.0.0 is not supported") ||
		!strings.HasSuffix(r.stderr, "error: the repository configuration is invalid; fix it before adding a project\n") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if exists(root, "svc/.forge") {
		t.Error("init wrote a configuration into an invalid repository")
	}
}

func TestInitQuotesPhaseNamesThatAreNotIdentifiers(t *testing.T) {
	root := tempDir(t)
	writeFile(t, root, ".forge/repo.cue", `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: {
	"2smoke": {group: 1, required: true}
	"unit-test": {group: 2, required: true}
	"if": {group: 3, required: true}
}
`)
	t.Chdir(root)
	r := forge(t, "init", "svc-one", "--path", "svc")
	r.wantCode(t, ExitOK)
	project := readFile(t, root, "svc/.forge/project.cue")
	for _, want := range []string{"\t\"2smoke\": placeholder: {", "\t\"unit-test\": placeholder: {", "\tif: placeholder: {"} {
		if !strings.Contains(project, want) {
			t.Errorf("project.cue does not contain %q:\n%s", want, project)
		}
	}
	forge(t, "validate").wantCode(t, ExitOK)
}
