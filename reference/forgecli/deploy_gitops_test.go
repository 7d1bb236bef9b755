package forgecli

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/reference/forgecmp"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
)

// TestDeployThroughGitOps deploys as users do, on 'forge dev up': each
// run of the example auto-deploys its releases to dev (the default
// policy) by a commit to the GitOps repository under the data directory;
// 'forge deploy' puts release 1 back, 'forge rollback' returns to release
// 2 with spec 05's message; at each step the Argo CD plugin's generate,
// run in a clone of that repository, prints exactly the resources of the
// release the pointer names (its signature verified with the data
// directory's key).
func TestDeployThroughGitOps(t *testing.T) {
	host := ocitest.Registry(t)
	root, data := tempDir(t), tempDir(t)
	first := exampleRemote(t, root)
	as := devUp(t, root, data, host)
	run := startRun(t, as, first)
	as("developer")
	if got := awaitEnd(t, run.ID); got.Status != "success" {
		t.Fatalf("run 1: %s %s", got.Status, got.Reason)
	}
	resources := func(alias string) string {
		r := forge(t, "release", "inspect", "hello-api", alias, "-r", "acme/mono", "-o", "json")
		r.wantCode(t, ExitOK)
		var img struct {
			ResourcesYAML string `json:"resources_yaml"`
		}
		_ = json.Unmarshal([]byte(r.stdout), &img)
		return img.ResourcesYAML
	}
	gitopsRepo := filepath.Join(data, "gitops.git")
	// generate runs the plugin in a fresh clone, as Argo CD's repo-server
	// does, and returns what it prints and the pointer commit's message.
	generate := func() (string, string) {
		t.Helper()
		clone := tempDir(t)
		if out, err := exec.Command("git", "clone", "-q", gitopsRepo, clone).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %s", out)
		}
		msg, _ := exec.Command("git", "-C", clone, "log", "-1", "--format=%B").Output()
		dir := "environments/dev/acme/mono/hello-api"
		var out, log bytes.Buffer
		err := forgecmp.Generate(context.Background(), forgecmp.Options{Dir: filepath.Join(clone, filepath.FromSlash(dir)), SourcePath: dir,
			Registry: host, PublicKey: filepath.Join(data, "cosign.pub")}, &out, &log)
		if err != nil {
			t.Fatalf("forge-cmp generate: %v\n%s", err, log.String())
		}
		return out.String(), string(msg)
	}

	out, msg := generate()
	if want := resources("main-1"); out != want || want == "" {
		t.Errorf("after run 1 the plugin printed:\n%s\nwant release 1's resources:\n%s", out, want)
	}
	if !strings.Contains(msg, "Release: "+first) || !strings.Contains(msg, "Deployed by: forge (auto-deploy)") {
		t.Errorf("auto-deployment commit message:\n%s", msg)
	}

	repo := filepath.Join(root, "acme", "mono")
	writeFile(t, repo, "services/hello-api/NOTES", "a second release\n")
	run = startRun(t, as, gittest.CommitAll(t, repo))
	as("developer")
	if got := awaitEnd(t, run.ID); got.Status != "success" {
		t.Fatalf("run 2: %s %s", got.Status, got.Reason)
	}
	if out, _ := generate(); out != resources("main-2") {
		t.Errorf("after run 2 the plugin printed:\n%s", out)
	}

	r := forge(t, "deploy", "dev", "hello-api", "main-1", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "deployed hello-api release 1 to dev") || !strings.Contains(r.stdout, "active): GitOps commit ") {
		t.Errorf("deploy:\n%s", r.stdout)
	}
	out, msg = generate()
	if out != resources("main-1") || !strings.HasPrefix(msg, "Deploy hello-api to dev: release 1 (main-1)\n\nRepository: acme/mono\nRelease: "+first) ||
		!strings.Contains(msg, "Deployed by: developer-tester") {
		t.Errorf("after deploying release 1 the plugin printed:\n%s\ncommit message:\n%s", out, msg)
	}

	r = forge(t, "rollback", "dev", "hello-api", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "rolled hello-api back in dev from release 1 to release 2") {
		t.Errorf("rollback:\n%s", r.stdout)
	}
	out, msg = generate()
	if out != resources("main-2") {
		t.Errorf("after the rollback the plugin printed:\n%s", out)
	}
	if !strings.HasPrefix(msg, "Rollback hello-api in dev to release 2 (main-2)\n\nPrevious release: 1 (main-1)\nRolled back by: developer-tester\n") {
		t.Errorf("rollback commit message:\n%s", msg)
	}
	log, _ := exec.Command("git", "--git-dir", gitopsRepo, "log", "--format=%s", "main").Output()
	// forge status: what runs where, with the pointer commit.
	r = forge(t, "status", "hello-api", "-r", "acme/mono", "-o", "json")
	r.wantCode(t, ExitOK)
	var statuses []struct {
		Environment string
		Deployment  *struct {
			ReleaseNumber   int    `json:"release_number"`
			DeployedBy      string `json:"deployed_by"`
			GitOpsCommitSHA string `json:"gitops_commit_sha"`
		}
		Aliases []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &statuses); err != nil || len(statuses) != 3 {
		t.Fatalf("status: %v\n%s", err, r.stdout)
	}
	head, _ := exec.Command("git", "--git-dir", gitopsRepo, "rev-parse", "main").Output()
	for _, st := range statuses {
		switch st.Environment {
		case "dev":
			if d := st.Deployment; d == nil || d.ReleaseNumber != 2 || d.DeployedBy != "developer-tester" || d.GitOpsCommitSHA != strings.TrimSpace(string(head)) ||
				strings.Join(st.Aliases, ",") != "2,main-2" {
				t.Errorf("status in dev = %+v (%+v)", st, st.Deployment)
			}
		default:
			if st.Deployment != nil {
				t.Errorf("status in %s = %+v; nothing was deployed there", st.Environment, st.Deployment)
			}
		}
	}
	r = forge(t, "status", "hello-api", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "ENVIRONMENT  RELEASE  ALIASES   DEPLOYED") || !strings.Contains(r.stdout, "production   -") {
		t.Errorf("status table:\n%s", r.stdout)
	}

	// Two auto-deployments a run (api and web, in either order), then
	// the deploy and the rollback.
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 6 || lines[0] != "Rollback hello-api in dev to release 2 (main-2)" || lines[1] != "Deploy hello-api to dev: release 1 (main-1)" {
		t.Errorf("GitOps history:\n%s", log)
	}

	// --to names the release to roll back to; a newer one is refused.
	r = forge(t, "rollback", "dev", "hello-api", "--to", "main-1", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "rolled hello-api back in dev from release 2 to release 1") {
		t.Errorf("rollback --to main-1:\n%s", r.stdout)
	}
	out, msg = generate()
	if out != resources("main-1") || !strings.HasPrefix(msg, "Rollback hello-api in dev to release 1 (main-1)\n\nPrevious release: 2 (main-2)\n") {
		t.Errorf("after rollback --to main-1 the plugin printed:\n%s\ncommit message:\n%s", out, msg)
	}
	r = forge(t, "rollback", "dev", "hello-api", "--to", "main-2", "-r", "acme/mono")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "release 2 is newer than release 1") {
		t.Errorf("rollback --to a newer release:\n%s", r.stderr)
	}
}
