package forgecli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/reference/forgedev"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
)

// TestReleaseRetryThroughDevUp drives a failed release to its end as a
// user does: 'forge dev up' serves the platform, the example's run on main
// fails in its release stage because the docs bucket cannot be written (a
// file stands where its directory goes), hello-api's release is made all
// the same; once the bucket is fixed, 'forge release retry RUN --wait'
// publishes the site and makes hello-web's release, without making
// hello-api's again. A second retry of the finished run is refused.
func TestReleaseRetryThroughDevUp(t *testing.T) {
	root, data := tempDir(t), tempDir(t)
	commit := exampleRemote(t, root)
	bucket := filepath.Join(data, "docs", "example-docs")
	writeFile(t, data, "docs/example-docs", "a file where the bucket's directory goes\n")
	as := devUp(t, root, data, "")

	created := startRun(t, as, commit)
	as("developer")
	first := awaitEnd(t, created.ID)
	if first.Status != "failed" || !strings.Contains(first.Reason, "artifact site of hello-web failed to publish (publisher docs:") {
		t.Fatalf("first attempt: %s %q; want the docs publisher's failure", first.Status, first.Reason)
	}
	if got := releasedProjects(first); got != "hello-api 1" {
		t.Fatalf("releases of the failed run: %q; want hello-api's alone", got)
	}

	if err := os.Remove(bucket); err != nil {
		t.Fatal(err)
	}
	r := forge(t, "release", "retry", created.ID, "--wait", "--interval", "200ms")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stderr, "run "+created.ID+" reopened: retrying its release stage (it failed: artifact site of hello-web") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	for _, want := range []string{"Status      success", "hello-api  1", "hello-web  1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("retry's report lacks %q:\n%s", want, r.stdout)
		}
	}
	second := awaitEnd(t, created.ID)
	if got := releasedProjects(second); got != "hello-api 1, hello-web 1" {
		t.Errorf("releases after the retry: %q; want hello-api's (unchanged) and hello-web's", got)
	}
	docs, err := fsblob.New(bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer docs.Close()
	if _, err := docs.Stat(context.Background(), "hello-web/site/index.html"); err != nil {
		t.Errorf("the retry did not publish the site: %v", err)
	}

	r = forge(t, "release", "retry", created.ID)
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "only a failed run can be retried (conflict)") {
		t.Errorf("a retry of a successful run: %s", r.stderr)
	}
}

// exampleRemote makes the example a git repository at root/acme/mono, as
// the remote 'forge dev up' fetches acme/mono from, and returns its commit.
func exampleRemote(t *testing.T, root string) string {
	t.Helper()
	repo := filepath.Join(root, "acme", "mono")
	if err := os.CopyFS(repo, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	return gittest.CommitAll(t, repo)
}

// devUp serves the platform as 'forge dev up' does, on data, with
// repositories fetched from root and images pushed to registry (empty:
// one it serves), until the test ends; FORGE_SERVER names it. as(role)
// sets FORGE_TOKEN to a token of that role from 'forge dev token'.
func devUp(t *testing.T, root, data, registry string) (as func(role string)) {
	t.Helper()
	key := filepath.Join(data, "dev-key.pem")
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- forgedev.Up(ctx, forgedev.UpOptions{Data: data, DevKey: key, Addr: "127.0.0.1:0",
			Remote: "file://" + root + "/{repository}", Registry: registry, Ready: func(a string) { ready <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("forge dev up: %v", err)
		}
	})
	select {
	case addr := <-ready:
		t.Setenv("FORGE_SERVER", "http://"+addr)
	case err := <-done:
		t.Fatalf("forge dev up: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("forge dev up did not start")
	}
	t.Setenv("FORGE_TOKEN_FILE", "")
	t.Setenv("FORGE_REPOSITORY", "")
	return func(role string) {
		t.Helper()
		r := forge(t, "dev", "token", "--dev-key", key, "--role", role, "--subject", role+"-tester")
		r.wantCode(t, ExitOK)
		t.Setenv("FORGE_TOKEN", strings.TrimSpace(r.stdout))
	}
}

// startRun registers acme/mono (as an operator) and creates the run of
// commit on main (as the CI service account).
func startRun(t *testing.T, as func(string), commit string) (created struct{ ID string }) {
	t.Helper()
	as("operator")
	forge(t, "repo", "register", "acme/mono").wantCode(t, ExitOK)
	as("service-account")
	r := forge(t, "run", "create", "-r", "acme/mono", "--commit", commit, "--branch", "main", "-o", "json")
	r.wantCode(t, ExitOK)
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.ID == "" {
		t.Fatalf("run create printed %q (%v)", r.stdout, err)
	}
	return created
}

// endedRun is what the retry test reads of 'forge run get -o json'.
type endedRun struct {
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Releases []struct {
		Project   string `json:"project"`
		Number    int    `json:"release_number"`
		OCIDigest string `json:"oci_digest"`
	} `json:"releases"`
}

// awaitEnd reads the run with 'forge run get' until it has ended.
func awaitEnd(t *testing.T, id string) endedRun {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r := forge(t, "run", "get", id, "-o", "json")
		var run endedRun
		if r.code == ExitOK && json.Unmarshal([]byte(r.stdout), &run) == nil && (run.Status == "success" || run.Status == "failed" || run.Status == "cancelled") {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s has not ended: %s%s", id, r.stdout, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// releasedProjects lists a run's pushed releases as "project number".
func releasedProjects(run endedRun) string {
	var out []string
	for _, rel := range run.Releases {
		if rel.OCIDigest != "" {
			out = append(out, rel.Project+" "+strconv.Itoa(rel.Number))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// TestReleaseInspectThroughDevUp reads the release image a run pushed, as
// a user does: by project and alias through the API, and by its full
// reference; its metadata, summary and resources (YAML and JSON) are
// what the run released, with the published image filled in.
func TestReleaseInspectThroughDevUp(t *testing.T) {
	root, data := tempDir(t), tempDir(t)
	commit := exampleRemote(t, root)
	as := devUp(t, root, data, "")
	run := startRun(t, as, commit)
	as("developer")
	if got := awaitEnd(t, run.ID); got.Status != "success" {
		t.Fatalf("run %s: %s", got.Status, got.Reason)
	}

	r := forge(t, "release", "inspect", "hello-api", "main-1", "-r", "acme/mono", "-o", "json")
	r.wantCode(t, ExitOK)
	var img struct {
		Reference string `json:"reference"`
		Digest    string `json:"digest"`
		Release   struct {
			Project   string   `json:"project"`
			Number    int      `json:"number"`
			Aliases   []string `json:"aliases"`
			Source    struct{ Commit string }
			Artifacts []struct{ Name, TrackingURI string }
			Resources []struct {
				Kind  string
				Count int
			} `json:"resources"`
		} `json:"release"`
		ResourcesYAML string `json:"resources_yaml"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &img); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	rel := img.Release
	if rel.Project != "hello-api" || rel.Number != 1 || strings.Join(rel.Aliases, ",") != "1,main-1" || rel.Source.Commit != commit ||
		len(rel.Artifacts) != 2 || len(rel.Resources) != 1 || rel.Resources[0].Kind != "Deployment" || rel.Resources[0].Count != 1 ||
		!strings.HasPrefix(img.Digest, "sha256:") || !strings.HasSuffix(img.Reference, "@"+img.Digest) {
		t.Errorf("inspect by alias = %+v", img)
	}

	full := strings.TrimSuffix(img.Reference, "@"+img.Digest) + ":" + commit
	r = forge(t, "release", "inspect", full)
	r.wantCode(t, ExitOK)
	for _, want := range []string{"Digest   " + img.Digest, "Release  acme/mono/hello-api 1", "Aliases  1, main-1",
		"Commit   " + commit, "Deployment  1      hello-api", "image     container"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect by reference lacks %q:\n%s", want, r.stdout)
		}
	}

	r = forge(t, "release", "inspect", full, "--resources", "-o", "json")
	r.wantCode(t, ExitOK)
	var resources []struct {
		Kind string
		Spec struct {
			Replicas   int
			Containers []struct{ Image string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &resources); err != nil || len(resources) != 1 {
		t.Fatalf("--resources -o json: %v\n%s", err, r.stdout)
	}
	if d := resources[0]; d.Kind != "Deployment" || d.Spec.Replicas != 2 || !strings.Contains(d.Spec.Containers[0].Image, "/examples/image@sha256:") {
		t.Errorf("resources = %+v; want the deployment with its published image", resources)
	}
	if r := forge(t, "release", "inspect", full, "--resources"); r.code != ExitOK || r.stdout != img.ResourcesYAML {
		t.Errorf("--resources printed %q, want the image's resources.yaml %q", r.stdout, img.ResourcesYAML)
	}

	// A tracking image is not a release image.
	if r := forge(t, "release", "inspect", rel.Artifacts[0].TrackingURI); r.code != ExitFailure || !strings.Contains(r.stderr, "is not a Release OCI image: its artifact type is") {
		t.Errorf("inspect of a tracking image: exit %d\n%s", r.code, r.stderr)
	}
	if r := forge(t, "release", "inspect", "hello-api"); r.code != ExitUsage || !strings.Contains(r.stderr, "not an image reference") {
		t.Errorf("inspect of a bare name: exit %d\n%s", r.code, r.stderr)
	}
}

// TestReleaseCreateThroughDevUp makes manual releases as a user does, on
// a checkout, with the API of 'forge dev up' and a registry: the
// example's hello-api at its commit (a manual release: its artifacts
// built, published and tracked, its image pushed and readable with
// forge release inspect), the same commit again (nothing built), a later
// commit with a developer's token (refused: only service accounts
// register releases) and then with --tag (a tag release and its alias).
func TestReleaseCreateThroughDevUp(t *testing.T) {
	host := ocitest.Registry(t)
	root, data := tempDir(t), tempDir(t)
	repo := filepath.Join(root, "acme", "mono")
	if err := os.CopyFS(repo, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	// The registry publisher pushes to this test's registry, which needs
	// no credential.
	cue := readFile(t, repo, ".forge/repo.cue")
	start, end := strings.Index(cue, "\tregistry: {"), strings.Index(cue, "\t\t}\n\t}\n}")
	if start < 0 || end < 0 {
		t.Fatalf("the example's repo.cue has changed:\n%s", cue)
	}
	writeFile(t, repo, ".forge/repo.cue", cue[:start]+"\tregistry: {\n\t\ttype: \"docker\"\n\t\tregistry: \""+host+"\"\n\t\tnamespace: \"examples\"\n\t}\n}\n")
	first := gittest.CommitAll(t, repo)
	key := filepath.Join(tempDir(t), "cosign.key")
	priv, _, err := signing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(key), "cosign.key", string(priv))
	as := devUp(t, root, data, host)
	as("operator")
	forge(t, "repo", "register", "acme/mono").wantCode(t, ExitOK)
	create := func(extra ...string) result {
		args := append([]string{"release", "create", filepath.Join(repo, "services", "hello-api"), "-r", "acme/mono",
			"--tracking-registry", host + "/tracking", "--signing-key", key}, extra...)
		return forge(t, args...)
	}

	as("service-account")
	r := create("-o", "json")
	r.wantCode(t, ExitOK)
	var made struct {
		Number    int    `json:"release_number"`
		Reference string `json:"reference"`
		Digest    string `json:"digest"`
		Created   bool   `json:"created"`
		Artifacts []struct {
			Name     string
			Tracking struct{ URI string }
		} `json:"artifacts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &made); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if made.Number != 1 || !made.Created || made.Reference != host+"/acme/mono/hello-api:"+first || !strings.HasPrefix(made.Digest, "sha256:") ||
		len(made.Artifacts) != 2 || made.Artifacts[1].Tracking.URI != host+"/tracking/acme/mono/hello-api/image:sha-"+first {
		t.Fatalf("release create = %+v\nstderr:\n%s", made, r.stderr)
	}
	for _, want := range []string{"checking out " + first[:12], "building artifact cli of hello-api", "building artifact image of hello-api", "releasing hello-api"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stderr)
		}
	}
	as("developer")
	r = forge(t, "release", "inspect", "hello-api", "1", "-r", "acme/mono", "-o", "json")
	r.wantCode(t, ExitOK)
	var img struct {
		Digest  string `json:"digest"`
		Release struct {
			Trigger struct{ Type string }
			Source  struct{ Commit string }
		} `json:"release"`
		ResourcesYAML string `json:"resources_yaml"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &img); err != nil || img.Digest != made.Digest || img.Release.Trigger.Type != "manual" ||
		img.Release.Source.Commit != first || !strings.Contains(img.ResourcesYAML, "image: "+host+"/examples/image@sha256:") {
		t.Errorf("inspect of the manual release = %+v (%v)", img, err)
	}

	// The same commit again: the release exists, nothing is built.
	as("service-account")
	r = create()
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stderr, "hello-api has release 1 of "+first[:12]+" already: nothing to build") || strings.Contains(r.stderr, "building") ||
		!strings.Contains(r.stdout, "release 1 of hello-api exists") {
		t.Errorf("second create:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	writeFile(t, repo, "services/hello-api/NOTES", "a later commit\n")
	second := gittest.CommitAll(t, repo)
	as("developer")
	r = create()
	if r.code != ExitFailure || !strings.Contains(r.stderr, "create-release needs one of the roles service-account") {
		t.Errorf("a developer's create: exit %d\n%s", r.code, r.stderr)
	}
	as("service-account")
	r = create("--commit", second, "--tag", "hello-api/v1.0.0")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "release 2 of hello-api created") || !strings.Contains(r.stdout, "v1.0.0") {
		t.Errorf("create --tag:\n%s", r.stdout)
	}
	as("developer")
	r = forge(t, "release", "get", "hello-api", "v1.0.0", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "Trigger    tag hello-api/v1.0.0") || !strings.Contains(r.stdout, second) {
		t.Errorf("the tag release:\n%s", r.stdout)
	}
	if r := create("--commit", "no-such-rev"); r.code != ExitFailure || !strings.Contains(r.stderr, "--commit no-such-rev: not a commit") {
		t.Errorf("an unknown commit: exit %d\n%s", r.code, r.stderr)
	}

	// The tag release goes to production: refused without an approval,
	// committed with it, the approval in the pointer and its commit.
	as("developer")
	if r := forge(t, "deploy", "production", "hello-api", "v1.0.0", "-r", "acme/mono"); r.code != ExitFailure || !strings.Contains(r.stderr, "production requires an active approval") {
		t.Errorf("production without an approval: exit %d\n%s", r.code, r.stderr)
	}
	as("approver")
	forge(t, "approve", "hello-api/v1.0.0", "production", "-r", "acme/mono", "--justification", "CHG-1 reviewed").wantCode(t, ExitOK)
	as("developer")
	r = forge(t, "deploy", "production", "hello-api", "v1.0.0", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "deployed hello-api release 2 to production") || !strings.Contains(r.stdout, "GitOps commit") {
		t.Errorf("production deploy:\n%s", r.stdout)
	}
	gitopsRepo := filepath.Join(data, "gitops.git")
	pointer, err := exec.Command("git", "--git-dir", gitopsRepo, "show", "main:environments/production/acme/mono/hello-api/release.yaml").Output()
	if err != nil || !strings.Contains(string(pointer), "approvedBy: approver-tester") || !strings.Contains(string(pointer), "tag: v1.0.0") ||
		!strings.Contains(string(pointer), "release: "+second) {
		t.Errorf("production pointer (%v):\n%s", err, pointer)
	}
	msg, _ := exec.Command("git", "--git-dir", gitopsRepo, "log", "-1", "--format=%B", "main").Output()
	if !strings.HasPrefix(string(msg), "Deploy hello-api to production: release 2 (v1.0.0)") || !strings.Contains(string(msg), "Approved by: approver-tester at ") {
		t.Errorf("production commit message:\n%s", msg)
	}
	r = forge(t, "status", "hello-api", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stdout, "approver-tester") {
		t.Errorf("status shows no approval:\n%s", r.stdout)
	}
}
