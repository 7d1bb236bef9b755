package config_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
)

func TestCheckProjectNameValid(t *testing.T) {
	tests := []string{
		"a",
		"0",
		"web",
		"auth-service",
		"api2",
		"2fa",
		"x-1-y",
		"a-b-c-d",
		strings.Repeat("a", 63),
		strings.Repeat("ab-", 20) + "abc", // 63 characters with hyphens
	}
	for _, name := range tests {
		t.Run(name, func(t *testing.T) {
			if msg := config.CheckProjectName(name); msg != "" {
				t.Errorf("CheckProjectName(%q) = %q, want valid", name, msg)
			}
		})
	}
}

func TestCheckProjectNameInvalid(t *testing.T) {
	tests := []struct {
		name string
		// suggest is the kebab-case form the message must propose; empty
		// when the message is not about kebab-case.
		suggest string
		// want is a substring the message must hold.
		want string
	}{
		{name: "", want: "project name is empty"},
		{name: "Web", suggest: "web"},
		{name: "auth_service", suggest: "auth-service"},
		{name: "AuthService", suggest: "auth-service"},
		{name: "Auth_Service", suggest: "auth-service"},
		{name: "auth.service", suggest: "auth-service"},
		{name: "auth/service", suggest: "auth-service"},
		{name: "-a", suggest: "a"},
		{name: "a-", suggest: "a"},
		{name: "--a--", suggest: "a"},
		{name: "a--b", suggest: "a-b"},
		{name: "a b", suggest: "a-b"},
		{name: "a  b", suggest: "a-b"},
		{name: "HTTPServer", suggest: "http-server"},
		{name: "myAPI", suggest: "my-api"},
		{name: "WEB", suggest: "web"},
		{name: "api2Go", suggest: "api2-go"},
		{name: "é", suggest: "my-project"},
		{name: "-", suggest: "my-project"},
		{name: "_", suggest: "my-project"},
		{name: strings.Repeat("a", 64), want: "is 64 characters long; the limit is 63"},
		{name: strings.Repeat("a", 100), want: "is 100 characters long; the limit is 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := config.CheckProjectName(tt.name)
			if msg == "" {
				t.Fatalf("CheckProjectName(%q) accepted an invalid name", tt.name)
			}
			if tt.want != "" && !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			if tt.name != "" && !strings.Contains(msg, fmt.Sprintf("%q", tt.name)) {
				t.Errorf("message %q does not quote the name %q", msg, tt.name)
			}
			if tt.suggest == "" {
				return
			}
			if !strings.Contains(msg, "is not kebab-case") {
				t.Errorf("message %q does not say the name is not kebab-case", msg)
			}
			if want := fmt.Sprintf("(e.g. %q)", tt.suggest); !strings.Contains(msg, want) {
				t.Errorf("message %q does not suggest %s", msg, want)
			}
			if again := config.CheckProjectName(tt.suggest); again != "" {
				t.Errorf("suggested name %q is itself invalid: %s", tt.suggest, again)
			}
		})
	}
}

func TestCheckDuration(t *testing.T) {
	pos := config.Position{File: ".forge/repo.cue", Line: 8, Column: 12}
	tests := []struct {
		in string
		// want is a substring of the single expected problem; "" for none.
		want string
	}{
		{in: ""},
		{in: "90s"},
		{in: "15m"},
		{in: "1h30m"},
		{in: "1ms"},
		{in: "1.5h"},
		{in: "0s", want: `"0s" must be positive`},
		{in: "0", want: `"0" must be positive`},
		{in: "-5m", want: `"-5m" must be positive`},
		{in: "abc", want: `"abc" is not a duration`},
		{in: "10", want: `"10" is not a duration`},
		{in: "1 h", want: `"1 h" is not a duration`},
		{in: "5 minutes", want: `"5 minutes" is not a duration`},
		{in: "1d", want: `"1d" is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ps := config.CheckDuration("phase \"test\" timeout", tt.in, pos)
			if tt.want == "" {
				if ps != nil {
					t.Fatalf("CheckDuration(%q) = %v, want nil", tt.in, ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("CheckDuration(%q) = %v, want one problem", tt.in, ps)
			}
			p := ps[0]
			if p.Severity != config.SeverityError || p.Pos != pos {
				t.Errorf("problem = %+v, want an error at %v", p, pos)
			}
			if !strings.HasPrefix(p.Message, `phase "test" timeout: `) {
				t.Errorf("message %q does not start with the field name", p.Message)
			}
			if !strings.Contains(p.Message, tt.want) {
				t.Errorf("message %q does not contain %q", p.Message, tt.want)
			}
		})
	}
}

func TestCheckSecretRef(t *testing.T) {
	pos := config.Position{File: ".forge/repo.cue", Line: 20, Column: 3}
	tests := []struct {
		name string
		ref  config.SecretRef
		want string // substring of the single expected problem; "" for none
	}{
		{name: "aws secretName", ref: config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": "ci/token", "region": "eu-west-1"}}},
		{name: "aws path alias", ref: config.SecretRef{Provider: "aws", Config: map[string]any{"path": "docker/registry/creds"}}},
		{name: "aws both", ref: config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": "a", "path": "b"}}, want: "give secretName or its alias path, not both"},
		{name: "aws neither", ref: config.SecretRef{Provider: "aws", Config: map[string]any{"region": "eu-west-1"}}, want: `provider "aws" needs secretName (or its alias path)`},
		{name: "aws nil config", ref: config.SecretRef{Provider: "aws"}, want: `provider "aws" needs secretName`},
		{name: "vault path", ref: config.SecretRef{Provider: "vault", Config: map[string]any{"path": "github/token"}}},
		{name: "vault is not checked here", ref: config.SecretRef{Provider: "vault"}},
		{name: "kubernetes secretName and path", ref: config.SecretRef{Provider: "kubernetes", Config: map[string]any{"secretName": "a", "path": "b"}}},
		{name: "env", ref: config.SecretRef{Provider: "env", Config: map[string]any{"name": "TOKEN"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ref.Pos = pos
			ps := config.CheckSecretRef(`publisher "docker" credentials`, tt.ref)
			if tt.want == "" {
				if ps != nil {
					t.Fatalf("CheckSecretRef = %v, want nil", ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("CheckSecretRef = %v, want one problem", ps)
			}
			p := ps[0]
			if p.Severity != config.SeverityError || p.Pos != pos {
				t.Errorf("problem = %+v, want an error at %v", p, pos)
			}
			if !strings.HasPrefix(p.Message, `publisher "docker" credentials: `) {
				t.Errorf("message %q does not start with what was checked", p.Message)
			}
			if !strings.Contains(p.Message, tt.want) {
				t.Errorf("message %q does not contain %q", p.Message, tt.want)
			}
		})
	}
}

// want describes one expected problem: its position and the substrings its
// message must hold.
type want struct {
	pos      config.Position
	contains []string
}

// checkProblems asserts that ps are error-severity problems matching ws in
// order.
func checkProblems(t *testing.T, ps config.Problems, ws []want) {
	t.Helper()
	if len(ps) != len(ws) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(ws), ps)
	}
	for i, w := range ws {
		p := ps[i]
		if p.Severity != config.SeverityError {
			t.Errorf("problem %d %q: severity %q, want error", i, p.Message, p.Severity)
		}
		if p.Pos != w.pos {
			t.Errorf("problem %d %q: position %v, want %v", i, p.Message, p.Pos, w.pos)
		}
		for _, s := range w.contains {
			if !strings.Contains(p.Message, s) {
				t.Errorf("problem %d: message %q does not contain %q", i, p.Message, s)
			}
		}
	}
}

func TestCheckRepo(t *testing.T) {
	const file = ".forge/repo.cue"
	at := func(line int) config.Position { return config.Position{File: file, Line: line, Column: 2} }
	tests := []struct {
		name string
		repo config.Repo
		want []want
	}{
		{name: "empty", repo: config.Repo{File: file}},
		{
			name: "valid",
			repo: config.Repo{
				File: file,
				Phases: map[string]config.Phase{
					"lint": {Group: 1, Timeout: "5m", Required: true, Pos: at(5)},
					"test": {Group: 2, Timeout: "20m", Pos: at(10)},
					"ship": {Group: 3, Pos: at(15)},
				},
				Publishers: map[string]config.Publisher{
					"docker": {Type: "docker", Credentials: &config.SecretRef{Provider: "aws", Config: map[string]any{"path": "docker/creds"}}},
					"github": {Type: "github", Credentials: &config.SecretRef{Provider: "vault", Config: map[string]any{"path": "gh"}}},
					"docs":   {Type: "docs"},
				},
			},
		},
		{
			name: "group zero",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{"test": {Group: 0, Pos: at(4)}}},
			want: []want{{at(4), []string{`phase "test": group must be 1 or more, got 0`}}},
		},
		{
			name: "negative group",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{"test": {Group: -3, Pos: at(4)}}},
			want: []want{{at(4), []string{`phase "test": group must be 1 or more, got -3`}}},
		},
		{
			name: "timeout not a duration",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{"build": {Group: 1, Timeout: "ten minutes", Pos: at(7)}}},
			want: []want{{at(7), []string{`phase "build" timeout: "ten minutes" is not a duration`}}},
		},
		{
			name: "zero timeout",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{"build": {Group: 1, Timeout: "0s", Pos: at(7)}}},
			want: []want{{at(7), []string{`phase "build" timeout: "0s" must be positive`}}},
		},
		{
			name: "bad group and bad timeout in one phase",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{"build": {Group: 0, Timeout: "soon", Pos: at(7)}}},
			want: []want{
				{at(7), []string{"group must be 1 or more"}},
				{at(7), []string{`"soon" is not a duration`}},
			},
		},
		{
			name: "phases reported in name order",
			repo: config.Repo{File: file, Phases: map[string]config.Phase{
				"zeta":  {Group: 0, Pos: at(3)},
				"alpha": {Group: 0, Pos: at(9)},
				"mid":   {Group: 1, Timeout: "x", Pos: at(6)},
			}},
			want: []want{
				{at(9), []string{`phase "alpha"`}},
				{at(6), []string{`phase "mid" timeout`}},
				{at(3), []string{`phase "zeta"`}},
			},
		},
		{
			name: "publisher aws credentials with both names",
			repo: config.Repo{File: file, Publishers: map[string]config.Publisher{
				"docker": {Type: "docker", Credentials: &config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": "a", "path": "b"}, Pos: at(30)}},
			}},
			want: []want{{at(30), []string{`publisher "docker" credentials: give secretName or its alias path, not both`}}},
		},
		{
			name: "publisher aws credentials without a name",
			repo: config.Repo{File: file, Publishers: map[string]config.Publisher{
				"ecr":    {Type: "docker", Credentials: &config.SecretRef{Provider: "aws", Pos: at(40)}},
				"docker": {Type: "docker", Credentials: &config.SecretRef{Provider: "aws", Config: map[string]any{"region": "x"}, Pos: at(30)}},
			}},
			want: []want{
				{at(30), []string{`publisher "docker" credentials: provider "aws" needs secretName`}},
				{at(40), []string{`publisher "ecr" credentials: provider "aws" needs secretName`}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, config.CheckRepo(&tt.repo), tt.want)
		})
	}
}

const (
	repoFile    = ".forge/repo.cue"
	projectFile = "services/auth/.forge/project.cue"
)

func pat(line, col int) config.Position {
	return config.Position{File: projectFile, Line: line, Column: col}
}

// testRepo returns a repository like the spec's example: check and build in
// group 1, a required test phase in group 2, two docker publishers.
func testRepo() *config.Repo {
	return &config.Repo{
		ForgeVersion: "v1.0.0",
		Tagging:      config.Tagging{Strategy: config.TagMonorepo},
		File:         repoFile,
		Phases: map[string]config.Phase{
			"check": {Group: 1},
			"build": {Group: 1},
			"test":  {Group: 2, Required: true},
		},
		Publishers: map[string]config.Publisher{
			"docker": {Type: "docker", Settings: map[string]any{"registry": "r.example.com"}},
			"ecr":    {Type: "docker", Settings: map[string]any{"registry": "1.dkr.ecr"}},
		},
	}
}

// testProject returns a project that passes CheckProject against testRepo.
func testProject() *config.Project {
	return &config.Project{
		Name:    "auth-service",
		Path:    "services/auth",
		File:    projectFile,
		NamePos: pat(3, 7),
		Phases: map[string][]config.Step{
			"test": {
				{Name: "unit", Action: config.ActionEarthly, Target: "+unit", Timeout: "5m", Pos: pat(8, 4),
					Secrets: []config.SecretRef{{Provider: "aws", Config: map[string]any{"path": "test/secrets"}, Env: "TOKEN", Pos: pat(9, 5)}}},
			},
			"build": {
				{Name: "compile", Action: config.ActionEarthly, Target: "+build", Priority: 10, Pos: pat(13, 4)},
			},
		},
		PhasePos: map[string]config.Position{"test": pat(7, 3), "build": pat(12, 3)},
		Artifacts: map[string]config.Artifact{
			"api-server": {
				Type:         config.ArtifactContainer,
				Producer:     config.Producer{Earthly: &config.EarthlyProducer{Target: "+build"}, Pos: pat(21, 5)},
				Publishers:   map[string]map[string]any{"docker": {"tags": []any{"latest"}}, "ecr": {}},
				Pos:          pat(20, 3),
				PublisherPos: map[string]config.Position{"docker": pat(23, 7), "ecr": pat(24, 7)},
			},
		},
		ArtifactRefs: []config.ArtifactRef{
			{Path: "deployment.resources[0].spec.image", Ref: "api-server.uri", Artifact: "api-server", Field: "uri", Pos: pat(30, 10)},
		},
		Release: config.Release{
			Enabled: true,
			On: []config.Trigger{
				{Branch: "main", Pos: pat(40, 5)},
				{Branch: "release/.*", Pos: pat(41, 5)},
				{Tag: true, Pos: pat(42, 5)},
			},
		},
	}
}

func TestCheckProject(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *config.Repo, p *config.Project)
		want   []want
	}{
		{name: "valid", mutate: func(*config.Repo, *config.Project) {}},
		{
			name: "only the required phase",
			mutate: func(_ *config.Repo, p *config.Project) {
				delete(p.Phases, "build")
			},
		},
		{
			name: "no artifacts and no refs",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Artifacts, p.ArtifactRefs = nil, nil
			},
		},
		{
			name: "script producer",
			mutate: func(_ *config.Repo, p *config.Project) {
				a := p.Artifacts["api-server"]
				a.Producer = config.Producer{Script: &config.ScriptProducer{Run: "make", Output: "out"}, Pos: a.Producer.Pos}
				p.Artifacts["api-server"] = a
			},
		},
		{
			name: "invalid name suggests kebab-case",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Name = "Auth_Service"
			},
			want: []want{{pat(3, 7), []string{`project name "Auth_Service" is not kebab-case`, `"auth-service"`}}},
		},
		{
			name: "empty name",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Name = ""
			},
			want: []want{{pat(3, 7), []string{"project name is empty"}}},
		},
		{
			name: "phase the repo does not define",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["deploy"] = []config.Step{{Name: "push", Action: config.ActionScript, Run: "true", Pos: pat(51, 4)}}
				p.PhasePos["deploy"] = pat(50, 3)
			},
			want: []want{{pat(50, 3), []string{`phase "deploy" is not defined in .forge/repo.cue (defined phases: build, check, test)`}}},
		},
		{
			name: "undefined phase with a bad step timeout",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["deploy"] = []config.Step{{Name: "push", Timeout: "forever", Pos: pat(51, 4)}}
				p.PhasePos["deploy"] = pat(50, 3)
			},
			want: []want{
				{pat(50, 3), []string{`phase "deploy" is not defined`}},
				{pat(51, 4), []string{`step "push" of phase "deploy" timeout: "forever" is not a duration`}},
			},
		},
		{
			name: "no steps in a required phase",
			mutate: func(_ *config.Repo, p *config.Project) {
				delete(p.Phases, "test")
				delete(p.PhasePos, "test")
			},
			want: []want{{pat(3, 7), []string{`project "auth-service" has no steps in phase "test", which .forge/repo.cue marks required`}}},
		},
		{
			name: "required phase declared with no steps",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["test"] = []config.Step{}
			},
			want: []want{{pat(3, 7), []string{`has no steps in phase "test"`}}},
		},
		{
			name: "project with no phases at all",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases, p.PhasePos = nil, nil
			},
			want: []want{{pat(3, 7), []string{`has no steps in phase "test"`}}},
		},
		{
			name: "two required phases missing, in name order",
			mutate: func(r *config.Repo, p *config.Project) {
				r.Phases["lint"] = config.Phase{Group: 1, Required: true}
				delete(p.Phases, "test")
			},
			want: []want{
				{pat(3, 7), []string{`phase "lint"`}},
				{pat(3, 7), []string{`phase "test"`}},
			},
		},
		{
			name: "bad step timeout",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["test"][0].Timeout = "soon"
			},
			want: []want{{pat(8, 4), []string{`step "unit" of phase "test" timeout: "soon" is not a duration`}}},
		},
		{
			name: "negative step timeout",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["build"][0].Timeout = "-1s"
			},
			want: []want{{pat(13, 4), []string{`step "compile" of phase "build" timeout: "-1s" must be positive`}}},
		},
		{
			name: "aws step secret without a name",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Phases["test"][0].Secrets[0].Config = map[string]any{"region": "eu-west-1"}
			},
			want: []want{{pat(9, 5), []string{`step "unit" of phase "test" secret: provider "aws" needs secretName`}}},
		},
		{
			name: "artifact without a producer",
			mutate: func(_ *config.Repo, p *config.Project) {
				a := p.Artifacts["api-server"]
				a.Producer.Earthly = nil
				p.Artifacts["api-server"] = a
			},
			want: []want{{pat(21, 5), []string{`artifact "api-server" must have exactly one producer, found 0`}}},
		},
		{
			name: "artifact with two producers",
			mutate: func(_ *config.Repo, p *config.Project) {
				a := p.Artifacts["api-server"]
				a.Producer.Script = &config.ScriptProducer{Run: "make", Output: "bin/app"}
				p.Artifacts["api-server"] = a
			},
			want: []want{{pat(21, 5), []string{`artifact "api-server" must have exactly one producer, found 2`}}},
		},
		{
			name: "publisher the repo does not define",
			mutate: func(_ *config.Repo, p *config.Project) {
				a := p.Artifacts["api-server"]
				a.Publishers["gcr"] = map[string]any{}
				a.PublisherPos["gcr"] = pat(25, 7)
			},
			want: []want{{pat(25, 7), []string{`artifact "api-server": publisher "gcr" is not defined in .forge/repo.cue (defined publishers: docker, ecr)`}}},
		},
		{
			name: "repo without publishers",
			mutate: func(r *config.Repo, _ *config.Project) {
				r.Publishers = nil
			},
			want: []want{
				{pat(23, 7), []string{`publisher "docker" is not defined`, "(defined publishers: none)"}},
				{pat(24, 7), []string{`publisher "ecr" is not defined`, "(defined publishers: none)"}},
			},
		},
		{
			name: "@artifact naming an undeclared artifact",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.ArtifactRefs = append(p.ArtifactRefs, config.ArtifactRef{
					Path: "deployment.resources[1].spec.image", Ref: "web.uri", Artifact: "web", Field: "uri", Pos: pat(33, 12),
				})
			},
			want: []want{{pat(33, 12), []string{`@artifact("web.uri") names artifact "web", which project "auth-service" does not declare (declared artifacts: api-server)`}}},
		},
		{
			name: "@artifact with no artifacts declared",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Artifacts = nil
			},
			want: []want{{pat(30, 10), []string{`names artifact "api-server"`, "(declared artifacts: none)"}}},
		},
		{
			name: "invalid branch regex",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Release.On = append(p.Release.On, config.Trigger{Branch: "release/(", Pos: pat(43, 5)})
			},
			want: []want{{pat(43, 5), []string{`release trigger branch "release/(" is not a valid regular expression`}}},
		},
		{
			name: "branch regex that only compiles when wrapped",
			mutate: func(_ *config.Repo, p *config.Project) {
				p.Release.On = []config.Trigger{{Branch: "main)|(.*", Pos: pat(40, 5)}}
			},
			want: []want{{pat(40, 5), []string{`release trigger branch "main)|(.*"`}}},
		},
		{
			name: "everything wrong, in check order",
			mutate: func(r *config.Repo, p *config.Project) {
				p.Name = "Bad"
				p.Phases["deploy"] = nil
				p.PhasePos["deploy"] = pat(50, 3)
				delete(p.Phases, "test")
				a := p.Artifacts["api-server"]
				a.Producer.Earthly = nil
				a.Publishers["gcr"] = nil
				a.PublisherPos["gcr"] = pat(25, 7)
				p.ArtifactRefs[0].Artifact, p.ArtifactRefs[0].Ref = "web", "web.uri"
				p.Release.On[0].Branch = "("
				p.Artifacts["api-server"] = a
			},
			want: []want{
				{pat(3, 7), []string{`project name "Bad"`}},
				{pat(50, 3), []string{`phase "deploy" is not defined`}},
				{pat(3, 7), []string{`has no steps in phase "test"`}},
				{pat(21, 5), []string{"found 0"}},
				{pat(25, 7), []string{`publisher "gcr"`}},
				{pat(30, 10), []string{`@artifact("web.uri")`}},
				{pat(40, 5), []string{`release trigger branch "("`}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p := testRepo(), testProject()
			tt.mutate(r, p)
			checkProblems(t, config.CheckProject(r, p), tt.want)
		})
	}
}

func named(name, path string, line int) *config.Project {
	file := path + "/.forge/project.cue"
	return &config.Project{Name: name, Path: path, File: file, NamePos: config.Position{File: file, Line: line, Column: 7}}
}

func paths(ps []*config.Project) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return out
}

func TestDropDuplicates(t *testing.T) {
	tests := []struct {
		name      string
		in        []*config.Project
		wantKept  []string
		wantProbs []string // exact messages, in order
		wantPos   []config.Position
	}{
		{name: "empty", in: nil, wantKept: []string{}},
		{
			name:     "unique names kept, sorted by path",
			in:       []*config.Project{named("web", "web", 1), named("api", "services/api", 1), named("root", ".", 1), named("auth", "services/auth", 1)},
			wantKept: []string{".", "services/api", "services/auth", "web"},
		},
		{
			name:     "two projects with one name are both dropped",
			in:       []*config.Project{named("api", "services/api-v2", 2), named("api", "services/api", 1)},
			wantKept: []string{},
			wantProbs: []string{
				`project name "api" is also used by the project in services/api-v2: project names must be unique`,
				`project name "api" is also used by the project in services/api: project names must be unique`,
			},
			wantPos: []config.Position{
				{File: "services/api/.forge/project.cue", Line: 1, Column: 7},
				{File: "services/api-v2/.forge/project.cue", Line: 2, Column: 7},
			},
		},
		{
			name:     "duplicates dropped, others kept",
			in:       []*config.Project{named("b", "z/b", 1), named("dup", "m/two", 4), named("a", "a", 1), named("dup", "c/one", 3)},
			wantKept: []string{"a", "z/b"},
			wantProbs: []string{
				`project name "dup" is also used by the project in m/two: project names must be unique`,
				`project name "dup" is also used by the project in c/one: project names must be unique`,
			},
			wantPos: []config.Position{
				{File: "c/one/.forge/project.cue", Line: 3, Column: 7},
				{File: "m/two/.forge/project.cue", Line: 4, Column: 7},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, ps := config.DropDuplicates(tt.in)
			if got := paths(kept); !reflect.DeepEqual(got, tt.wantKept) {
				t.Errorf("kept %v, want %v", got, tt.wantKept)
			}
			if len(ps) != len(tt.wantProbs) {
				t.Fatalf("got %d problems, want %d: %v", len(ps), len(tt.wantProbs), ps)
			}
			for i, msg := range tt.wantProbs {
				if ps[i].Message != msg {
					t.Errorf("problem %d = %q, want %q", i, ps[i].Message, msg)
				}
				if ps[i].Pos != tt.wantPos[i] {
					t.Errorf("problem %d at %v, want %v", i, ps[i].Pos, tt.wantPos[i])
				}
				if ps[i].Severity != config.SeverityError {
					t.Errorf("problem %d severity %q, want error", i, ps[i].Severity)
				}
			}
		})
	}
}

func TestDropDuplicatesThree(t *testing.T) {
	in := []*config.Project{named("x", "p3", 3), named("x", "p1", 1), named("x", "p2", 2), named("y", "p0", 1)}
	kept, ps := config.DropDuplicates(in)
	if got := paths(kept); !reflect.DeepEqual(got, []string{"p0"}) {
		t.Errorf("kept %v, want [p0]", got)
	}
	if len(ps) != 3 {
		t.Fatalf("got %d problems, want 3: %v", len(ps), ps)
	}
	for i, own := range []string{"p1", "p2", "p3"} {
		p := ps[i]
		if p.Pos.File != own+"/.forge/project.cue" {
			t.Errorf("problem %d at %v, want at the name in %s", i, p.Pos, own)
		}
		if strings.Contains(p.Message, "project in "+own+" ") {
			t.Errorf("problem %d %q names its own project", i, p.Message)
		}
		if !strings.Contains(p.Message, `project name "x" is also used by the project in p`) {
			t.Errorf("problem %d %q does not name another project", i, p.Message)
		}
	}
}

func TestEmptyValuesAreRejected(t *testing.T) {
	pos := config.Position{File: "p.cue", Line: 3, Column: 4}
	ps := config.CheckSecretRef("publisher \"r\" credentials", config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": ""}, Pos: pos})
	if len(ps) != 1 || ps[0].Pos != pos || ps[0].Message != `publisher "r" credentials: secretName is empty` {
		t.Errorf("empty secretName: %v", ps)
	}
	repo := &config.Repo{File: ".forge/repo.cue", Phases: map[string]config.Phase{"test": {Group: 1}}}
	p := &config.Project{Name: "api", Release: config.Release{Enabled: true, On: []config.Trigger{{Branch: "", Pos: pos}}},
		Phases: map[string][]config.Step{"test": {{Name: "t", Action: config.ActionScript, Run: "true"}}}}
	ps = config.CheckProject(repo, p)
	if len(ps) != 1 || ps[0].Pos != pos || !strings.Contains(ps[0].Message, "empty branch pattern") {
		t.Errorf("empty branch trigger: %v", ps)
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		want string // a substring of the message; "" for a valid name
	}{
		{"build", ""},
		{"unit", ""},
		{"hello-api", ""},
		{"unit_test", ""},
		{"v1.2", ""},
		{"0", ""},
		{strings.Repeat("a", config.MaxNameLength), ""},
		{"", "step name is empty"},
		{"..", `step name ".." is not allowed`},
		{".", `step name "." is not allowed`},
		{"../../x", `step name "../../x" is not allowed`},
		{"a/b", `step name "a/b" is not allowed`},
		{`a\b`, `is not allowed`},
		{".hidden", "is not allowed"},
		{"trailing-", "is not allowed"},
		{"Build", "is not allowed"},
		{"a b", "is not allowed"},
		{"a\nb", `step name "a\nb" is not allowed`},
		{"a\x00b", `step name "a\x00b" is not allowed`},
		{"\x1b[31mred", "is not allowed"},
		{"é", "is not allowed"},
		{"ｂuild", "is not allowed"},
		{strings.Repeat("a", config.MaxNameLength+1), "64 characters long; the limit is 63"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			msg := config.CheckName("step", tt.name)
			if tt.want == "" {
				if msg != "" {
					t.Errorf("CheckName(%q) = %q, want valid", tt.name, msg)
				}
				return
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("CheckName(%q) = %q, want it to contain %q", tt.name, msg, tt.want)
			}
			if tt.name != "" && !strings.Contains(msg, "lowercase letters, digits") && !strings.Contains(msg, "the limit is") {
				t.Errorf("CheckName(%q) = %q does not say what is allowed", tt.name, msg)
			}
		})
	}
}

func TestUnsafePhaseAndStepNamesAreErrors(t *testing.T) {
	r := &config.Repo{File: ".forge/repo.cue", Phases: map[string]config.Phase{
		"build":   {Group: 1, Pos: pat(5, 2)},
		"../../x": {Group: 1, Pos: pat(6, 2)},
	}}
	ps := config.CheckRepo(r)
	if len(ps) != 1 || ps[0].Pos != pat(6, 2) || !strings.Contains(ps[0].Message, `phase name "../../x" is not allowed`) {
		t.Errorf("CheckRepo = %v, want one error for the phase ../../x at 6:2", ps)
	}

	p := &config.Project{Name: "web", Phases: map[string][]config.Step{
		"build": {{Name: "../../x", Action: config.ActionScript, Run: "true", Pos: pat(8, 3)}},
		"a/b":   {{Name: "ok", Action: config.ActionScript, Run: "true", Pos: pat(9, 3)}},
	}, PhasePos: map[string]config.Position{"build": pat(7, 2), "a/b": pat(9, 2)}}
	r = &config.Repo{File: ".forge/repo.cue", Phases: map[string]config.Phase{"build": {Group: 1}}}
	ps = config.CheckProject(r, p)
	if len(ps) != 2 {
		t.Fatalf("CheckProject = %v, want two errors", ps)
	}
	for _, w := range []struct {
		pos config.Position
		msg string
	}{{pat(9, 2), `phase name "a/b" is not allowed`}, {pat(8, 3), `step name "../../x" is not allowed`}} {
		found := false
		for _, p := range ps {
			found = found || (p.Pos == w.pos && strings.Contains(p.Message, w.msg))
		}
		if !found {
			t.Errorf("CheckProject = %v, want %q at %v", ps, w.msg, w.pos)
		}
	}
}
