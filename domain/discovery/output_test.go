package discovery_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
)

// topLevel decodes the JSON encoding of out into its top-level fields.
func topLevel(t *testing.T, out discovery.Output) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("Unmarshal %s: %v", b, err)
	}
	return m
}

func buildRepo() *config.Repo {
	return &config.Repo{
		ForgeVersion: "v1.0.0",
		Tagging:      config.Tagging{Strategy: config.TagMonorepo},
		File:         ".forge/repo.cue",
		Phases: map[string]config.Phase{
			"check": {Group: 1},
			"build": {Group: 1},
			"test":  {Group: 2, Required: true},
		},
		Publishers: map[string]config.Publisher{"docker": {Type: "docker", Settings: map[string]any{"registry": "r"}}},
	}
}

// loaded returns a project shaped as the loader leaves it: non-nil maps and
// step lists.
func loaded(name, path string, on ...config.Trigger) *config.Project {
	return &config.Project{
		Name: name,
		Path: path,
		Phases: map[string][]config.Step{
			"test": {
				{Name: "unit", Action: config.ActionEarthly, Target: "+unit", Args: []string{}, Secrets: []config.SecretRef{}},
			},
		},
		PhasePos:  map[string]config.Position{},
		Artifacts: map[string]config.Artifact{},
		Release:   config.Release{Enabled: true, On: on},
	}
}

func TestBuildTopLevelKeys(t *testing.T) {
	outs := map[string]discovery.Output{
		"empty": discovery.Build(&config.Repo{}, nil, nil, discovery.GitContext{}),
		"full": discovery.Build(buildRepo(), []*config.Project{loaded("api", "api", config.Trigger{Branch: "main"})},
			config.Problems{config.Errorf(config.Position{File: "x/.forge/project.cue"}, "bad")}, discovery.GitContext{Branch: "main"}),
	}
	want := []string{"errors", "phaseGroups", "projects", "releaseEnabled", "releaseProjects", "repository"}
	for name, out := range outs {
		t.Run(name, func(t *testing.T) {
			m := topLevel(t, out)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("top-level keys = %v, want %v", keys, want)
			}
			var repo map[string]json.RawMessage
			if err := json.Unmarshal(m["repository"], &repo); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"forgeVersion", "tagging", "phases", "publishers"} {
				if _, ok := repo[k]; !ok {
					t.Errorf("repository has no %q key: %s", k, m["repository"])
				}
			}
		})
	}
}

func TestBuildEmptyEncodesEmptyCollections(t *testing.T) {
	tests := []struct {
		name string
		repo *config.Repo
	}{
		{"zero repo", &config.Repo{}},
		{"nil maps", &config.Repo{ForgeVersion: "v1.0.0", Tagging: config.Tagging{Strategy: config.TagAll}}},
		{"empty maps", &config.Repo{Phases: map[string]config.Phase{}, Publishers: map[string]config.Publisher{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := topLevel(t, discovery.Build(tt.repo, nil, nil, discovery.GitContext{}))
			for key, want := range map[string]string{
				"projects":        "[]",
				"phaseGroups":     "[]",
				"releaseProjects": "[]",
				"errors":          "[]",
				"releaseEnabled":  "false",
			} {
				if got := string(m[key]); got != want {
					t.Errorf("%s = %s, want %s", key, got, want)
				}
			}
			var repo map[string]json.RawMessage
			if err := json.Unmarshal(m["repository"], &repo); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"phases", "publishers"} {
				if got := string(repo[key]); got != "{}" {
					t.Errorf("repository.%s = %s, want {}", key, got)
				}
			}
		})
	}
}

func TestBuildProjectEmptyCollections(t *testing.T) {
	// A project with nothing but a name: every collection still encodes as
	// an empty object or list.
	p := &config.Project{Name: "bare", Path: "bare", Release: config.Release{Enabled: true}}
	out := discovery.Build(buildRepo(), []*config.Project{p}, nil, discovery.GitContext{})
	b, err := json.Marshal(out.Projects)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"bare","path":"bare","phases":{},"releaseTriggered":false,"artifacts":{},"artifactRefs":[]}]`
	if string(b) != want {
		t.Errorf("projects =\n%s\nwant\n%s", b, want)
	}
}

func TestBuildGolden(t *testing.T) {
	repo := buildRepo()
	api := loaded("api", "services/api", config.Trigger{Tag: true})
	api.Phases["build"] = []config.Step{
		{Name: "package", Action: config.ActionEarthly, Target: "+package", Priority: 5, Args: []string{}, Secrets: []config.SecretRef{}},
		{Name: "compile", Action: config.ActionEarthly, Target: "+build", Priority: 10, Args: []string{"--ci"}, Secrets: []config.SecretRef{}},
	}
	api.Artifacts["img"] = config.Artifact{
		Type:       config.ArtifactContainer,
		Producer:   config.Producer{Earthly: &config.EarthlyProducer{Target: "+build"}},
		Publishers: map[string]map[string]any{"docker": {"tags": []any{"latest"}}},
	}
	api.ArtifactRefs = []config.ArtifactRef{{Path: "deployment.resources[0].spec.image", Ref: "img.uri", Artifact: "img", Field: "uri"}}
	problems := config.Problems{
		config.Warnf(config.Position{File: ".forge/repo.cue", Line: 1, Column: 1}, "newer minor"),
		config.Errorf(config.Position{File: "web/.forge/project.cue", Line: 3, Column: 7}, "bad name"),
	}
	out := discovery.Build(repo, []*config.Project{api}, problems, discovery.GitContext{Tag: "api/v1.2.0", Commit: "abc"})
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"repository":{"forgeVersion":"v1.0.0","tagging":{"strategy":"monorepo"},` +
		`"phases":{"build":{"group":1,"required":false},"check":{"group":1,"required":false},"test":{"group":2,"required":true}},` +
		`"publishers":{"docker":{"registry":"r","type":"docker"}}},` +
		`"projects":[{"name":"api","path":"services/api","phases":{` +
		`"build":[{"name":"compile","action":"earthly","target":"+build","priority":10,"args":["--ci"],"secrets":[]},` +
		`{"name":"package","action":"earthly","target":"+package","priority":5,"args":[],"secrets":[]}],` +
		`"test":[{"name":"unit","action":"earthly","target":"+unit","priority":0,"args":[],"secrets":[]}]},` +
		`"releaseTriggered":true,` +
		`"artifacts":{"img":{"type":"container","producer":{"earthly":{"target":"+build"}},"publishers":{"docker":{"tags":["latest"]}}}},` +
		`"artifactRefs":[{"path":"deployment.resources[0].spec.image","ref":"img.uri","artifact":"img","field":"uri"}]}],` +
		`"phaseGroups":[{"group":1,"phases":["build","check"]},{"group":2,"phases":["test"]}],` +
		`"releaseEnabled":true,"releaseProjects":["api"],` +
		`"errors":[{"path":"web/.forge/project.cue","line":3,"column":7,"message":"bad name"}]}`
	if string(b) != want {
		t.Errorf("Build JSON =\n%s\nwant\n%s", b, want)
	}
}

func TestBuildProjectsSortedByPath(t *testing.T) {
	in := []*config.Project{
		loaded("web", "web"),
		loaded("root", "."),
		loaded("auth", "services/auth"),
		loaded("api", "services/api"),
		loaded("common", "libraries/common"),
	}
	before := slices.Clone(in)
	out := discovery.Build(buildRepo(), in, nil, discovery.GitContext{})
	var got []string
	for _, p := range out.Projects {
		got = append(got, p.Path)
	}
	want := []string{".", "libraries/common", "services/api", "services/auth", "web"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("project paths = %v, want %v", got, want)
	}
	if !slices.Equal(in, before) {
		t.Error("Build reordered the caller's project slice")
	}
	for i, p := range out.Projects {
		if wantName := map[string]string{".": "root", "libraries/common": "common", "services/api": "api", "services/auth": "auth", "web": "web"}[p.Path]; p.Name != wantName {
			t.Errorf("project %d at %s is named %q, want %q", i, p.Path, p.Name, wantName)
		}
	}
}

func TestBuildStepsOrdered(t *testing.T) {
	p := loaded("api", "api")
	p.Phases["build"] = []config.Step{
		{Name: "unit", Priority: 0, Args: []string{}, Secrets: []config.SecretRef{}},
		{Name: "package", Priority: 5, Args: []string{}, Secrets: []config.SecretRef{}},
		{Name: "lint", Priority: 0, Args: []string{}, Secrets: []config.SecretRef{}},
		{Name: "compile", Priority: 10, Args: []string{}, Secrets: []config.SecretRef{}},
	}
	inputOrder := stepNames(p.Phases["build"])
	out := discovery.Build(buildRepo(), []*config.Project{p}, nil, discovery.GitContext{})
	if len(out.Projects) != 1 {
		t.Fatalf("got %d projects, want 1", len(out.Projects))
	}
	got := out.Projects[0].Phases
	if names := stepNames(got["build"]); !reflect.DeepEqual(names, []string{"compile", "package", "lint", "unit"}) {
		t.Errorf("build steps = %v, want [compile package lint unit]", names)
	}
	if names := stepNames(got["test"]); !reflect.DeepEqual(names, []string{"unit"}) {
		t.Errorf("test steps = %v, want [unit]", names)
	}
	if len(got) != 2 {
		t.Errorf("phases = %v, want build and test only", got)
	}
	if names := stepNames(p.Phases["build"]); !reflect.DeepEqual(names, inputOrder) {
		t.Errorf("Build reordered the project's own steps: %v, was %v", names, inputOrder)
	}
}

func TestBuildErrors(t *testing.T) {
	pos := func(file string, line, col int) config.Position {
		return config.Position{File: file, Line: line, Column: col}
	}
	tests := []struct {
		name     string
		problems config.Problems
		want     []discovery.Error
	}{
		{name: "none", problems: nil, want: []discovery.Error{}},
		{
			name:     "only warnings",
			problems: config.Problems{config.Warnf(pos(".forge/repo.cue", 1, 15), "forgeVersion v1.1.0 is newer")},
			want:     []discovery.Error{},
		},
		{
			name: "errors sorted, warnings left out",
			problems: config.Problems{
				config.Errorf(pos("web/.forge/project.cue", 3, 7), "z message"),
				config.Warnf(pos(".forge/repo.cue", 1, 1), "a warning"),
				config.Errorf(pos("api/.forge/project.cue", 12, 4), "later line"),
				config.Errorf(pos("api/.forge/project.cue", 2, 9), "b message"),
				config.Errorf(pos("api/.forge/project.cue", 2, 9), "a message"),
				config.Errorf(pos("api/.forge/project.cue", 2, 1), "earlier column"),
			},
			want: []discovery.Error{
				{Path: "api/.forge/project.cue", Line: 2, Column: 1, Message: "earlier column"},
				{Path: "api/.forge/project.cue", Line: 2, Column: 9, Message: "a message"},
				{Path: "api/.forge/project.cue", Line: 2, Column: 9, Message: "b message"},
				{Path: "api/.forge/project.cue", Line: 12, Column: 4, Message: "later line"},
				{Path: "web/.forge/project.cue", Line: 3, Column: 7, Message: "z message"},
			},
		},
		{
			name:     "position without line",
			problems: config.Problems{config.Errorf(pos(".forge/repo.cue", 0, 0), "cannot read")},
			want:     []discovery.Error{{Path: ".forge/repo.cue", Message: "cannot read"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.problems)
			out := discovery.Build(buildRepo(), nil, tt.problems, discovery.GitContext{})
			if !reflect.DeepEqual(out.Errors, tt.want) {
				t.Errorf("errors = %+v, want %+v", out.Errors, tt.want)
			}
			if !slices.Equal(tt.problems, in) {
				t.Error("Build changed the caller's problems")
			}
		})
	}
}

func TestBuildErrorJSON(t *testing.T) {
	tests := []struct {
		e    discovery.Error
		want string
	}{
		{discovery.Error{Path: "a/.forge/project.cue", Line: 3, Column: 7, Message: "m"}, `{"path":"a/.forge/project.cue","line":3,"column":7,"message":"m"}`},
		{discovery.Error{Path: ".forge/repo.cue", Message: "m"}, `{"path":".forge/repo.cue","message":"m"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal(%+v) = %s, want %s", tt.e, b, tt.want)
		}
	}
}

func TestBuildRelease(t *testing.T) {
	main := config.Trigger{Branch: "main"}
	tag := config.Trigger{Tag: true}
	tests := []struct {
		name         string
		strategy     config.TaggingStrategy
		projects     []*config.Project
		git          discovery.GitContext
		wantEnabled  bool
		wantProjects []string
		wantFlags    map[string]bool
	}{
		{
			name:         "no trigger",
			strategy:     config.TagMonorepo,
			projects:     []*config.Project{loaded("api", "api", main), loaded("web", "web", tag)},
			git:          discovery.GitContext{Branch: "feature/x"},
			wantProjects: []string{},
			wantFlags:    map[string]bool{"api": false, "web": false},
		},
		{
			name:         "branch triggers one",
			strategy:     config.TagMonorepo,
			projects:     []*config.Project{loaded("api", "api", main), loaded("web", "web", tag)},
			git:          discovery.GitContext{Branch: "main"},
			wantEnabled:  true,
			wantProjects: []string{"api"},
			wantFlags:    map[string]bool{"api": true, "web": false},
		},
		{
			name:         "monorepo tag triggers its project only",
			strategy:     config.TagMonorepo,
			projects:     []*config.Project{loaded("api", "a", tag), loaded("api-gateway", "b", tag)},
			git:          discovery.GitContext{Tag: "api/v1.0.0"},
			wantEnabled:  true,
			wantProjects: []string{"api"},
			wantFlags:    map[string]bool{"api": true, "api-gateway": false},
		},
		{
			name:     "tag-all triggers every enabled project, in path order",
			strategy: config.TagAll,
			projects: func() []*config.Project {
				off := loaded("off", "m/off", tag)
				off.Release.Enabled = false
				return []*config.Project{loaded("zeta", "a/zeta"), off, loaded("alpha", "z/alpha", main)}
			}(),
			git:          discovery.GitContext{Tag: "v2.0.0"},
			wantEnabled:  true,
			wantProjects: []string{"zeta", "alpha"},
			wantFlags:    map[string]bool{"zeta": true, "off": false, "alpha": true},
		},
		{
			name:         "empty git context",
			strategy:     config.TagAll,
			projects:     []*config.Project{loaded("api", "api", main, tag)},
			wantProjects: []string{},
			wantFlags:    map[string]bool{"api": false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := buildRepo()
			repo.Tagging.Strategy = tt.strategy
			out := discovery.Build(repo, tt.projects, nil, tt.git)
			if out.ReleaseEnabled != tt.wantEnabled {
				t.Errorf("ReleaseEnabled = %v, want %v", out.ReleaseEnabled, tt.wantEnabled)
			}
			if out.ReleaseEnabled != (len(out.ReleaseProjects) > 0) {
				t.Errorf("ReleaseEnabled = %v with release projects %v", out.ReleaseEnabled, out.ReleaseProjects)
			}
			if !reflect.DeepEqual(out.ReleaseProjects, tt.wantProjects) {
				t.Errorf("ReleaseProjects = %v, want %v", out.ReleaseProjects, tt.wantProjects)
			}
			if len(out.Projects) != len(tt.wantFlags) {
				t.Fatalf("got %d projects, want %d", len(out.Projects), len(tt.wantFlags))
			}
			for _, p := range out.Projects {
				if want, ok := tt.wantFlags[p.Name]; !ok || p.ReleaseTriggered != want {
					t.Errorf("project %s ReleaseTriggered = %v, want %v", p.Name, p.ReleaseTriggered, want)
				}
			}
		})
	}
}

func TestBuildRepository(t *testing.T) {
	repo := buildRepo()
	repo.Tagging.Strategy = config.TagAll
	out := discovery.Build(repo, nil, nil, discovery.GitContext{})
	if out.Repository.ForgeVersion != "v1.0.0" {
		t.Errorf("ForgeVersion = %q", out.Repository.ForgeVersion)
	}
	if out.Repository.Tagging.Strategy != config.TagAll {
		t.Errorf("Tagging = %+v", out.Repository.Tagging)
	}
	if !reflect.DeepEqual(out.Repository.Phases, repo.Phases) {
		t.Errorf("Phases = %+v, want %+v", out.Repository.Phases, repo.Phases)
	}
	if !reflect.DeepEqual(out.Repository.Publishers, repo.Publishers) {
		t.Errorf("Publishers = %+v, want %+v", out.Repository.Publishers, repo.Publishers)
	}
	if !reflect.DeepEqual(out.PhaseGroups, discovery.PhaseGroups(repo.Phases)) {
		t.Errorf("PhaseGroups = %+v, want %+v", out.PhaseGroups, discovery.PhaseGroups(repo.Phases))
	}
}
