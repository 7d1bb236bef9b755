package forgecli

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// discoverJSON is the part of the discovery output the tests read.
type discoverJSON struct {
	Repository struct {
		ForgeVersion string `json:"forgeVersion"`
		Tagging      struct {
			Strategy string `json:"strategy"`
		} `json:"tagging"`
	} `json:"repository"`
	Projects []struct {
		Name             string `json:"name"`
		Path             string `json:"path"`
		ReleaseTriggered bool   `json:"releaseTriggered"`
		Phases           map[string][]struct {
			Name     string `json:"name"`
			Priority int    `json:"priority"`
		} `json:"phases"`
	} `json:"projects"`
	PhaseGroups []struct {
		Group  int      `json:"group"`
		Phases []string `json:"phases"`
	} `json:"phaseGroups"`
	ReleaseEnabled  bool     `json:"releaseEnabled"`
	ReleaseProjects []string `json:"releaseProjects"`
	Errors          []struct {
		Path    string `json:"path"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
}

// discover runs `forge discover --output json` with args and decodes it.
func discover(t *testing.T, args ...string) discoverJSON {
	t.Helper()
	r := forge(t, append([]string{"discover", "--output", "json"}, args...)...)
	r.wantCode(t, ExitOK)
	var out discoverJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("discover output is not JSON: %v\n%s", err, r.stdout)
	}
	if out.ReleaseProjects == nil {
		t.Errorf("releaseProjects is null, want a list")
	}
	if out.ReleaseEnabled != (len(out.ReleaseProjects) > 0) {
		t.Errorf("releaseEnabled = %v with releaseProjects %v", out.ReleaseEnabled, out.ReleaseProjects)
	}
	return out
}

func TestDiscoverJSONShape(t *testing.T) {
	root := copyExample(t)
	gitInit(t, root)

	r := forge(t, "discover", root, "--output", "json")
	r.wantCode(t, ExitOK)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, r.stdout)
	}
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	sort.Strings(got)
	equalLines(t, "top-level keys", got,
		[]string{"errors", "phaseGroups", "projects", "releaseEnabled", "releaseProjects", "repository"})
	if string(keys["errors"]) != "[]" {
		t.Errorf("errors = %s, want []", keys["errors"])
	}

	out := discover(t, root)
	if out.Repository.ForgeVersion != "v1.0.0" || out.Repository.Tagging.Strategy != "monorepo" {
		t.Errorf("repository = %+v, want forgeVersion v1.0.0 and tagging monorepo", out.Repository)
	}
	var paths, names []string
	for _, p := range out.Projects {
		paths = append(paths, p.Path)
		names = append(names, p.Name)
		if strings.Contains(p.Path, `\`) {
			t.Errorf("project path %q has a backslash, want / separators", p.Path)
		}
	}
	equalLines(t, "project paths", paths, []string{"libs/greeting", "services/hello-api", "services/hello-web"})
	equalLines(t, "project names", names, []string{"greeting", "hello-api", "hello-web"})
	if !sort.StringsAreSorted(paths) {
		t.Errorf("projects are not sorted by path: %v", paths)
	}

	var groups []string
	for _, g := range out.PhaseGroups {
		groups = append(groups, strings.Join(append([]string{string(rune('0' + g.Group))}, g.Phases...), " "))
	}
	equalLines(t, "phase groups", groups, []string{"1 build check", "2 test"})

	// hello-api's build steps run by priority: compile (10) before verify (0).
	var steps []string
	for _, st := range out.Projects[1].Phases["build"] {
		steps = append(steps, st.Name)
	}
	equalLines(t, "hello-api build steps", steps, []string{"compile", "verify"})
}

func TestDiscoverProjectsSortedByPath(t *testing.T) {
	root := copyExample(t)
	// Name order and path order differ: "aaa" lives last by path.
	writeFile(t, root, "zz/tools/.forge/project.cue", "package project\n\nname: \"aaa\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n")
	writeFile(t, root, "apps/zed/.forge/project.cue", "package project\n\nname: \"zed\"\nci: phases: test: t: {action: \"script\", run: \"true\"}\n")
	out := discover(t, root)
	var paths []string
	for _, p := range out.Projects {
		paths = append(paths, p.Path+"="+p.Name)
	}
	equalLines(t, "projects", paths, []string{
		"apps/zed=zed", "libs/greeting=greeting", "services/hello-api=hello-api",
		"services/hello-web=hello-web", "zz/tools=aaa",
	})
}

func TestDiscoverReleaseTriggers(t *testing.T) {
	root := copyExample(t)
	gitInit(t, root)
	// HEAD on a branch that triggers nothing, so each flag decides alone.
	git(t, root, "checkout", "-q", "-b", "work")

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"HEAD on branch work", nil, []string{}},
		{"branch main", []string{"--branch", "main"}, []string{"hello-api", "hello-web"}},
		{"branch feature/x", []string{"--branch", "feature/x"}, []string{}},
		{"project tag", []string{"--tag", "hello-api/v1.2.0"}, []string{"hello-api"}},
		{"tag of another project", []string{"--tag", "greeting/v1.0.0"}, []string{}},
		{"bare tag under monorepo tagging", []string{"--tag", "v1.2.0"}, []string{}},
		{"branch and tag", []string{"--branch", "main", "--tag", "hello-api/v1.2.0"}, []string{"hello-api", "hello-web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := discover(t, append([]string{root}, tt.args...)...)
			equalLines(t, "releaseProjects", out.ReleaseProjects, tt.want)
			for _, p := range out.Projects {
				want := false
				for _, n := range tt.want {
					want = want || n == p.Name
				}
				if p.ReleaseTriggered != want {
					t.Errorf("project %s releaseTriggered = %v, want %v", p.Name, p.ReleaseTriggered, want)
				}
			}
		})
	}
}

func TestDiscoverTagWithoutGit(t *testing.T) {
	// Outside a git checkout only the flags give a context.
	root := copyExample(t)
	out := discover(t, root, "--tag", "hello-api/v1.2.0")
	equalLines(t, "releaseProjects", out.ReleaseProjects, []string{"hello-api"})
	out = discover(t, root)
	equalLines(t, "releaseProjects", out.ReleaseProjects, []string{})
}

func TestDiscoverGitContextFromHEAD(t *testing.T) {
	root := copyExample(t)
	sha := gitInit(t, root)
	if len(sha) != 40 {
		t.Fatalf("commit SHA %q", sha)
	}

	t.Run("branch main", func(t *testing.T) {
		out := discover(t, root)
		equalLines(t, "releaseProjects", out.ReleaseProjects, []string{"hello-api", "hello-web"})

		t.Chdir(root)
		r := forge(t, "discover")
		r.wantCode(t, ExitOK)
		if want := "Git branch main, commit " + sha[:12]; !containsLine(r.stdout, want) {
			t.Errorf("text output has no line %q:\n%s", want, r.stdout)
		}
		for _, want := range []string{
			"hello-api services/hello-api build(2) check(1) test(1) cli image YES (on branch main, tag)",
			"hello-web services/hello-web build(1) test(2) site YES (on branch main)",
			"greeting libs/greeting check(1) test(1) - no",
		} {
			if !containsLine(r.stdout, "  "+want) {
				t.Errorf("text output has no line %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("commit flag overrides HEAD", func(t *testing.T) {
		r := forge(t, "discover", root, "--commit", "0123456789abcdef0123")
		r.wantCode(t, ExitOK)
		if want := "Git branch main, commit 0123456789ab"; !containsLine(r.stdout, want) {
			t.Errorf("text output has no line %q:\n%s", want, r.stdout)
		}
	})
	t.Run("tag at detached HEAD", func(t *testing.T) {
		git(t, root, "tag", "hello-api/v1.2.0")
		git(t, root, "checkout", "-q", "--detach")
		out := discover(t, root)
		equalLines(t, "releaseProjects", out.ReleaseProjects, []string{"hello-api"})

		r := forge(t, "discover", root)
		r.wantCode(t, ExitOK)
		if want := "Git tag hello-api/v1.2.0, commit " + sha[:12]; !containsLine(r.stdout, want) {
			t.Errorf("text output has no line %q:\n%s", want, r.stdout)
		}
	})
}

func TestDiscoverText(t *testing.T) {
	root := copyExample(t)
	t.Chdir(root)
	r := forge(t, "discover", "--branch", "feature/x")
	r.wantCode(t, ExitOK)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
	want := []string{
		"Repository forgeVersion v1.0.0, tagging monorepo",
		"Git branch feature/x",
		"",
		"Phase groups",
		"1 build, check",
		"2 test",
		"",
		"Projects (3)",
		"NAME PATH PHASES ARTIFACTS RELEASE",
		"greeting libs/greeting check(1) test(1) - no",
		"hello-api services/hello-api build(2) check(1) test(1) cli image no (on branch main, tag)",
		"hello-web services/hello-web build(1) test(2) site no (on branch main)",
		"",
		"Steps (in run order; equal priority runs in parallel)",
		"greeting check syntax priority 0 script: sh -n greeting.sh",
		"greeting test unit priority 0 script: sh test.sh",
		"hello-api build compile priority 10 script: mkdir -p dist; cat ../../libs/greeting/greeting.sh server...",
		"hello-api build verify priority 0 script: test -x dist/hello-api && sh -n dist/hello-api",
		"hello-api check syntax priority 0 script: sh -n server.sh",
		"hello-api test unit priority 0 script: sh test.sh",
		"hello-web build site priority 0 script: sh build.sh",
		"hello-web test links priority 0 script: out=$(mktemp -d); trap 'rm -rf \"$out\"' EXIT; sh build.sh ...",
		"hello-web test size priority 0 script: out=$(mktemp -d); trap 'rm -rf \"$out\"' EXIT; sh build.sh ...",
	}
	var got []string
	for _, l := range lines(r.stdout) {
		got = append(got, squeeze(l))
	}
	equalLines(t, "discover text output", got, want)
}

func TestDiscoverSkipsInvalidProject(t *testing.T) {
	root := copyExample(t)
	const bad = `package project

name: "bad"
ci: phases: lint: x: {action: "script", run: "true"}
ci: phases: test: x: {action: "script", run: "true"}
`
	writeFile(t, root, "svc/bad/.forge/project.cue", bad)
	t.Chdir(root)
	problem := `svc/bad/.forge/project.cue:4:13: phase "lint" is not defined in .forge/repo.cue (defined phases: build, check, test)`
	if !strings.HasPrefix(strings.Split(bad, "\n")[3][12:], "lint") {
		t.Fatal("test fixture: 4:13 is not the lint phase")
	}

	t.Run("text", func(t *testing.T) {
		r := forge(t, "discover")
		r.wantCode(t, ExitOK)
		if !containsLine(r.stdout, "Projects (3)") {
			t.Errorf("text output does not list three projects:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, " bad ") || strings.Contains(r.stdout, "svc/bad ") {
			t.Errorf("the invalid project is listed:\n%s", r.stdout)
		}
		got := lines(r.stdout)
		if len(got) < 3 {
			t.Fatalf("text output too short:\n%s", r.stdout)
		}
		equalLines(t, "end of the text output", got[len(got)-3:], []string{"", "Skipped (1 problem):", "  " + problem})
	})
	t.Run("json", func(t *testing.T) {
		out := discover(t)
		if len(out.Projects) != 3 {
			t.Errorf("%d projects, want 3", len(out.Projects))
		}
		if len(out.Errors) != 1 {
			t.Fatalf("errors = %+v, want one", out.Errors)
		}
		e := out.Errors[0]
		if e.Path != "svc/bad/.forge/project.cue" || e.Line != 4 || e.Column != 13 ||
			e.Message != `phase "lint" is not defined in .forge/repo.cue (defined phases: build, check, test)` {
			t.Errorf("error = %+v, want %s", e, problem)
		}
	})
}

func TestDiscoverInvalidRepository(t *testing.T) {
	root := copyExample(t)
	setForgeVersion(t, root, "v2.0.0")
	t.Chdir(root)
	r := forge(t, "discover")
	r.wantCode(t, ExitFailure)
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	want := ".forge/repo.cue:5:1: forgeVersion v2.0.0 is not supported: this forge implements schema v1.0.0 (major version 1); use a forge release for major version 2\n" +
		"error: the repository configuration is invalid; nothing was discovered\n"
	if r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

// TestDiscoverTagFlagDescribesATagPush checks that --tag alone ignores
// HEAD's branch: a tag push has no branch, so on a checkout of main only
// the tagged project releases.
func TestDiscoverTagFlagDescribesATagPush(t *testing.T) {
	root := copyExample(t)
	gitInit(t, root) // HEAD on main, which triggers hello-api and hello-web
	out := discover(t, root, "--tag", "hello-api/v1.2.0")
	equalLines(t, "releaseProjects", out.ReleaseProjects, []string{"hello-api"})
	out = discover(t, root, "--branch", "feature/x")
	equalLines(t, "releaseProjects", out.ReleaseProjects, []string{})
	out = discover(t, root)
	equalLines(t, "releaseProjects", out.ReleaseProjects, []string{"hello-api", "hello-web"})
}
