package forgecli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		RunsOn         string            `yaml:"runs-on"`
		TimeoutMinutes int               `yaml:"timeout-minutes"`
		Env            map[string]string `yaml:"env"`
		Steps          []struct {
			Name string            `yaml:"name"`
			Env  map[string]string `yaml:"env"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestTheGitHubWorkflowTriggersARun runs the forge command line of
// reference/github/catalyst-forge.yml, with the values GitHub would fill
// in for a pull request, against the API, as the token the workflow gets
// from Keycloak (a service account bound to the repository): the run is
// created with its github_context.
func TestTheGitHubWorkflowTriggersARun(t *testing.T) {
	b, err := os.ReadFile("../github/catalyst-forge.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var wf workflow
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("the workflow does not load: %v", err)
	}
	if wf.Permissions["id-token"] != "write" {
		t.Error("the workflow needs id-token: write to get its OIDC token")
	}
	job := wf.Jobs["trigger"]
	var script string
	for _, st := range job.Steps {
		if st.Name == "Trigger the pipeline" {
			script = st.Run
		}
	}
	if script == "" {
		t.Fatal("no step 'Trigger the pipeline'")
	}
	sha := strings.Repeat("5e", 20)
	// What GitHub and the job's env fill in for pull request 7.
	values := map[string]string{
		"github.repository": "acme/mono",
		"github.event_name == 'pull_request' && 'pull_request' || 'push'": "pull_request",
		"github.event.pull_request.number || 0":                           "7",
		"github.run_id":                                                   "5678901234",
	}
	expr := regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	line := expr.ReplaceAllStringFunc(strings.TrimSpace(script), func(m string) string {
		inner := expr.FindStringSubmatch(m)[1]
		v, ok := values[inner]
		if !ok {
			t.Fatalf("the test does not know the expression %q", inner)
		}
		return v
	})
	line = strings.NewReplacer("$COMMIT", sha, "$BRANCH", "feature-login").Replace(line)
	args := strings.Fields(line)
	if len(args) < 3 || args[0] != "forge" || args[1] != "run" || args[2] != "create" {
		t.Fatalf("the step does not run 'forge run create': %q", line)
	}

	s := startAPI(t)
	if _, _, err := s.client(t, "ops", identity.RoleOperator).RegisterRepository(context.Background(), endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	exchanged, err := s.issuer.Token("github-acme-mono", []identity.Role{identity.RoleServiceAccount}, time.Hour, oidcauth.ForRepository("acme/mono"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FORGE_TOKEN", exchanged)
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), args[1:], &out, &errOut); code != ExitOK {
		t.Fatalf("%s: exit %d: %s", line, code, errOut.String())
	}
	var run pipeline.Run
	if err := json.Unmarshal(out.Bytes(), &run); err != nil {
		t.Fatalf("--output json printed %q: %v", out.String(), err)
	}
	runs, _, err := s.store.ListRuns(context.Background(), ports.RunFilter{CommitSHA: sha}, ports.Page{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of the commit: %v, %v", runs, err)
	}
	got := runs[0]
	want := pipeline.GitHubContext{PRNumber: 7, RunID: "5678901234", Context: "ci/catalyst-forge"}
	if got.ID != run.ID || got.GitHub == nil || *got.GitHub != want || got.TriggerType != pipeline.TriggerPullRequest || got.Branch != "feature-login" {
		t.Errorf("the run = %+v (github %+v)", got, got.GitHub)
	}
}
