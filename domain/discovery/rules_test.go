package discovery_test

import (
	"reflect"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
)

func TestPhaseGroups(t *testing.T) {
	tests := []struct {
		name   string
		phases map[string]config.Phase
		want   []discovery.PhaseGroup
	}{
		{name: "nil", phases: nil, want: []discovery.PhaseGroup{}},
		{name: "empty", phases: map[string]config.Phase{}, want: []discovery.PhaseGroup{}},
		{
			name:   "one phase",
			phases: map[string]config.Phase{"test": {Group: 1}},
			want:   []discovery.PhaseGroup{{Group: 1, Phases: []string{"test"}}},
		},
		{
			name: "spec example",
			phases: map[string]config.Phase{
				"lint":    {Group: 1, Required: true},
				"build":   {Group: 1},
				"test":    {Group: 2, Required: true},
				"publish": {Group: 3},
			},
			want: []discovery.PhaseGroup{
				{Group: 1, Phases: []string{"build", "lint"}},
				{Group: 2, Phases: []string{"test"}},
				{Group: 3, Phases: []string{"publish"}},
			},
		},
		{
			name: "groups ascending numerically, not by phase name",
			phases: map[string]config.Phase{
				"a": {Group: 10},
				"b": {Group: 2},
				"c": {Group: 5},
				"d": {Group: 2},
			},
			want: []discovery.PhaseGroup{
				{Group: 2, Phases: []string{"b", "d"}},
				{Group: 5, Phases: []string{"c"}},
				{Group: 10, Phases: []string{"a"}},
			},
		},
		{
			name: "many phases in one group sorted by name",
			phases: map[string]config.Phase{
				"zeta": {Group: 1}, "alpha": {Group: 1}, "mid": {Group: 1}, "beta": {Group: 1},
			},
			want: []discovery.PhaseGroup{{Group: 1, Phases: []string{"alpha", "beta", "mid", "zeta"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Map order is random: run a few times to catch order leaks.
			for range 5 {
				got := discovery.PhaseGroups(tt.phases)
				if got == nil {
					t.Fatal("PhaseGroups returned nil, want a non-nil slice")
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("PhaseGroups = %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func step(name string, priority int) config.Step {
	return config.Step{Name: name, Action: config.ActionEarthly, Target: "+" + name, Priority: priority}
}

func stepNames(steps []config.Step) []string {
	out := []string{}
	for _, s := range steps {
		out = append(out, s.Name)
	}
	return out
}

func TestOrderSteps(t *testing.T) {
	tests := []struct {
		name string
		in   []config.Step
		want []string
	}{
		{name: "empty", in: []config.Step{}, want: []string{}},
		{name: "one", in: []config.Step{step("unit", 0)}, want: []string{"unit"}},
		{
			name: "priority descending",
			in:   []config.Step{step("b", 0), step("a", 10), step("c", 5)},
			want: []string{"a", "c", "b"},
		},
		{
			name: "equal priority keeps name order",
			in:   []config.Step{step("zeta", 0), step("alpha", 0), step("mid", 0)},
			want: []string{"alpha", "mid", "zeta"},
		},
		{
			name: "negative priority runs after the default",
			in:   []config.Step{step("integration", -10), step("unit", 0)},
			want: []string{"unit", "integration"},
		},
		{
			name: "spec example",
			in:   []config.Step{step("unit", 0), step("package", 5), step("lint", 0), step("compile", 10)},
			want: []string{"compile", "package", "lint", "unit"},
		},
		{
			name: "mixed groups of equal priority",
			in: []config.Step{
				step("d", 1), step("a", -1), step("c", 1), step("b", -1), step("e", 3),
			},
			want: []string{"e", "c", "d", "a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]config.Step(nil), tt.in...)
			got := discovery.OrderSteps(in)
			if names := stepNames(got); !reflect.DeepEqual(names, tt.want) {
				t.Errorf("OrderSteps = %v, want %v", names, tt.want)
			}
			if len(in) > 0 && &got[0] != &in[0] {
				t.Error("OrderSteps did not sort in place")
			}
		})
	}
}

func TestOrderStepsKeepsFields(t *testing.T) {
	in := []config.Step{
		{Name: "b", Priority: 1, Target: "+b", Args: []string{"--x"}, Timeout: "1m"},
		{Name: "a", Priority: 2, Run: "echo a", Action: config.ActionScript},
	}
	want := []config.Step{in[1], in[0]}
	if got := discovery.OrderSteps(in); !reflect.DeepEqual(got, want) {
		t.Errorf("OrderSteps = %+v, want %+v", got, want)
	}
}

func TestBatches(t *testing.T) {
	tests := []struct {
		name string
		in   []config.Step
		want [][]string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "one", in: []config.Step{step("a", 0)}, want: [][]string{{"a"}}},
		{
			name: "all equal run together",
			in:   []config.Step{step("a", 0), step("b", 0), step("c", 0)},
			want: [][]string{{"a", "b", "c"}},
		},
		{
			name: "all distinct run one by one",
			in:   []config.Step{step("a", 3), step("b", 2), step("c", 1)},
			want: [][]string{{"a"}, {"b"}, {"c"}},
		},
		{
			name: "runs of equal priority",
			in:   []config.Step{step("a", 10), step("b", 10), step("c", 5), step("d", 0), step("e", 0), step("f", 0)},
			want: [][]string{{"a", "b"}, {"c"}, {"d", "e", "f"}},
		},
		{
			name: "only adjacent steps share a batch",
			in:   []config.Step{step("a", 0), step("b", 5), step("c", 0)},
			want: [][]string{{"a"}, {"b"}, {"c"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := discovery.Batches(tt.in)
			var names [][]string
			total := 0
			for _, b := range got {
				names = append(names, stepNames(b))
				total += len(b)
				for _, s := range b {
					if s.Priority != b[0].Priority {
						t.Errorf("batch %v mixes priorities", stepNames(b))
					}
				}
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("Batches = %v, want %v", names, tt.want)
			}
			if total != len(tt.in) {
				t.Errorf("batches hold %d steps, want %d", total, len(tt.in))
			}
		})
	}
}

func TestBatchesOfOrderedSteps(t *testing.T) {
	ordered := discovery.OrderSteps([]config.Step{
		step("unit", 0), step("package", 5), step("lint", 0), step("compile", 10), step("docker", 5),
	})
	got := [][]string{}
	for _, b := range discovery.Batches(ordered) {
		got = append(got, stepNames(b))
	}
	want := [][]string{{"compile"}, {"docker", "package"}, {"lint", "unit"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Batches(OrderSteps(...)) = %v, want %v", got, want)
	}
}

func TestReleaseTriggered(t *testing.T) {
	branch := func(re string) config.Trigger { return config.Trigger{Branch: re} }
	tag := config.Trigger{Tag: true}
	tests := []struct {
		name     string
		strategy config.TaggingStrategy
		project  string
		on       []config.Trigger
		disabled bool
		git      discovery.GitContext
		want     bool
	}{
		// Branch triggers: the pattern must match the whole branch.
		{name: "branch exact", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "main"}, want: true},
		{name: "branch prefix does not match", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "mainline"}},
		{name: "branch suffix does not match", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "feature/main"}},
		{name: "branch regex matches", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("release/.*")}, git: discovery.GitContext{Branch: "release/1.2"}, want: true},
		{name: "branch regex needs its slash", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("release/.*")}, git: discovery.GitContext{Branch: "release"}},
		{name: "branch regex anchored at start", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("release/.*")}, git: discovery.GitContext{Branch: "hotfix/release/1.2"}},
		{name: "alternation matches either whole branch", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main|develop")}, git: discovery.GitContext{Branch: "develop"}, want: true},
		{name: "alternation is anchored as a whole", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main|develop")}, git: discovery.GitContext{Branch: "maintenance"}},
		{name: "alternation is anchored at the end", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main|develop")}, git: discovery.GitContext{Branch: "my-develop"}},
		{name: "invalid regex never matches", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("release/(")}, git: discovery.GitContext{Branch: "release/("}},
		{name: "second trigger matches", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main"), branch("release/.*")}, git: discovery.GitContext{Branch: "release/2.0"}, want: true},
		{name: "branch trigger on a tag build", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "branch trigger under tag-all", strategy: config.TagAll, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "main"}, want: true},
		{name: "branch mismatch under tag-all", strategy: config.TagAll, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "dev"}},

		// Monorepo tags: <project>/v* for that project only.
		{name: "monorepo own tag", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/v1.0.0"}, want: true},
		{name: "monorepo own pre-release tag", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/v2.0.0-rc.1"}, want: true},
		{name: "monorepo tag of a name prefix", strategy: config.TagMonorepo, project: "api-gateway", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "monorepo tag of a longer name", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api-gateway/v1.0.0"}},
		{name: "monorepo bare tag", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "v1.0.0"}},
		{name: "monorepo tag without v", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/1.0.0"}},
		{name: "monorepo tag with more path", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/v1.0.0/extra"}},
		{name: "monorepo tag under a directory", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "services/api/v1.0.0"}},
		{name: "monorepo tag without a tag trigger", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "monorepo tag with no triggers", strategy: config.TagMonorepo, project: "api", git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "monorepo tag: false", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{{Tag: false}}, git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "monorepo tag with a branch too", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main"), tag}, git: discovery.GitContext{Branch: "feature", Tag: "api/v1.0.0"}, want: true},

		// Tag-all: a bare v* tag triggers every enabled project.
		{name: "tag-all bare tag without tag trigger", strategy: config.TagAll, project: "api", git: discovery.GitContext{Tag: "v1.0.0"}, want: true},
		{name: "tag-all bare tag with branch trigger only", strategy: config.TagAll, project: "web", on: []config.Trigger{branch("main")}, git: discovery.GitContext{Branch: "dev", Tag: "v1.0.0"}, want: true},
		{name: "tag-all bare tag with tag trigger", strategy: config.TagAll, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "v3.1.4"}, want: true},
		{name: "tag-all bare pre-release tag", strategy: config.TagAll, project: "api", git: discovery.GitContext{Tag: "v2.0.0-rc.1"}, want: true},
		{name: "tag-all project tag", strategy: config.TagAll, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "api/v1"}},
		{name: "tag-all project tag, no triggers", strategy: config.TagAll, project: "api", git: discovery.GitContext{Tag: "api/v1.0.0"}},
		{name: "tag-all tag without v", strategy: config.TagAll, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "1.0.0"}},
		{name: "tag-all other tag", strategy: config.TagAll, project: "api", on: []config.Trigger{tag}, git: discovery.GitContext{Tag: "release-1"}},

		// release.enabled: false turns every trigger off.
		{name: "disabled tag-all bare tag", strategy: config.TagAll, project: "api", on: []config.Trigger{tag}, disabled: true, git: discovery.GitContext{Tag: "v1.0.0"}},
		{name: "disabled tag-all no triggers", strategy: config.TagAll, project: "api", disabled: true, git: discovery.GitContext{Tag: "v1.0.0"}},
		{name: "disabled branch", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch("main")}, disabled: true, git: discovery.GitContext{Branch: "main"}},
		{name: "disabled branch under tag-all", strategy: config.TagAll, project: "api", on: []config.Trigger{branch("main")}, disabled: true, git: discovery.GitContext{Branch: "main"}},
		{name: "disabled monorepo tag", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{tag}, disabled: true, git: discovery.GitContext{Tag: "api/v1.0.0"}},

		// An empty git context triggers nothing.
		{name: "empty git monorepo", strategy: config.TagMonorepo, project: "api", on: []config.Trigger{branch(".*"), tag}, git: discovery.GitContext{}},
		{name: "empty git tag-all", strategy: config.TagAll, project: "api", on: []config.Trigger{branch(".*"), tag}, git: discovery.GitContext{}},
		{name: "commit only", strategy: config.TagAll, project: "api", on: []config.Trigger{branch(".*"), tag}, git: discovery.GitContext{Commit: "0123abcd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &config.Project{
				Name:    tt.project,
				Path:    "services/" + tt.project,
				Release: config.Release{On: tt.on, Enabled: !tt.disabled},
			}
			if got := discovery.ReleaseTriggered(tt.strategy, p, tt.git); got != tt.want {
				t.Errorf("ReleaseTriggered(%q, %s on %+v enabled=%v, %+v) = %v, want %v",
					tt.strategy, tt.project, tt.on, !tt.disabled, tt.git, got, tt.want)
			}
		})
	}
}
