package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/cmpserver"
	cmpclient "github.com/argoproj/argo-cd/v2/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v2/cmpserver/plugin"
	"github.com/argoproj/argo-cd/v2/util/cmp"
	log "github.com/sirupsen/logrus"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestPluginConfigServedByArgoCD is Argo CD's side of the plugin, run
// from Argo CD's own code: the sidecar's server (argocd-cmp-server) reads
// the plugin.yaml that 'forge-cmp plugin-config' printed, serves it over
// gRPC on its socket, and the repo-server's client streams it the GitOps
// checkout as the repo-server does for an Application. The server finds
// the pointer's directory is ours, runs our generate command and hands
// back the release's resources, and it does not claim a directory without
// a pointer.
func TestPluginConfigServedByArgoCD(t *testing.T) {
	w := newWorld(t)

	// The sidecar: its config directory, socket directory and work dir,
	// and its own environment (the child marker makes this test binary
	// forge-cmp; the key is the sidecar's, not the Application's).
	confDir, sockDir, workDir := t.TempDir(), shortTempDir(t), t.TempDir()
	r := runCmd(t, "plugin-config", "--command", os.Args[0], "--version", "v1")
	if r.code != 0 {
		t.Fatalf("plugin-config: exit %d\n%s", r.code, r.stderr)
	}
	var strict plugin.PluginConfig
	if err := sigsyaml.UnmarshalStrict([]byte(r.stdout), &strict); err != nil {
		t.Fatalf("Argo CD's type does not take every field printed: %v\n%s", err, r.stdout)
	}
	if err := os.WriteFile(filepath.Join(confDir, "plugin.yaml"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARGOCD_PLUGINSOCKFILEPATH", sockDir)
	t.Setenv("ARGOCD_CMP_WORKDIR", workDir)
	t.Setenv(childEnv, "1")
	t.Setenv("FORGE_CMP_PUBLIC_KEY", w.pub)
	log.SetLevel(log.WarnLevel)

	cfg, err := plugin.ReadPluginConfig(confDir)
	if err != nil {
		t.Fatalf("argocd-cmp-server refuses the plugin.yaml: %v\n%s", err, r.stdout)
	}
	if got := filepath.Base(cfg.Address()); got != "forge-v1.sock" {
		t.Errorf("Argo CD names the plugin's socket %s, want forge-v1.sock", got)
	}
	srv, err := cmpserver.NewServer(plugin.CMPServerInitConstants{PluginConfig: *cfg})
	if err != nil {
		t.Fatal(err)
	}
	grpcServer, err := srv.CreateGRPC()
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("unix", cfg.Address())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = grpcServer.Serve(lis) }()
	t.Cleanup(grpcServer.Stop)

	// The repo-server: a client on the sidecar's socket.
	conn, err := cmpclient.NewConnection(cfg.Address())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := cmpclient.NewConfigManagementPluginServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The environment the repo-server gives a plugin for an Application
	// of this pointer: the app's variables, then its plugin env as
	// ARGOCD_ENV_*.
	appEnv := func(path string) []string {
		return []string{"ARGOCD_APP_NAME=api-dev", "ARGOCD_APP_NAMESPACE=argocd",
			"ARGOCD_APP_REVISION=" + strings.Repeat("a", 40), "ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/gitops.git",
			"ARGOCD_APP_SOURCE_PATH=" + path, "ARGOCD_APP_SOURCE_TARGET_REVISION=HEAD",
			"KUBE_VERSION=1.31.0", "KUBE_API_VERSIONS=v1,apps/v1",
			"ARGOCD_ENV_FORGE_RELEASE_REGISTRY=" + w.host}
	}
	// send streams the checkout for the Application at path, as the
	// repo-server does for every request to a plugin.
	send := func(stream cmp.StreamSender, err error, path string) {
		t.Helper()
		if err == nil {
			err = cmp.SendRepoStream(ctx, filepath.Join(w.gitops, path), w.gitops, stream, appEnv(path), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	match := func(path string) bool {
		t.Helper()
		stream, err := client.MatchRepository(ctx)
		send(stream, err, path)
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatalf("MatchRepository(%s): %v", path, err)
		}
		return resp.IsSupported
	}
	pointerDir := "environments/dev/acme/mono/api"
	if !match(pointerDir) {
		t.Errorf("Argo CD does not discover the plugin for %s, which holds a release.yaml", pointerDir)
	}
	if match("environments/dev") {
		t.Error("Argo CD discovers the plugin for a directory without a release.yaml")
	}

	stream, err := client.GenerateManifest(ctx)
	send(stream, err, pointerDir)
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("GenerateManifest: %v", err)
	}
	if got := strings.Join(resp.Manifests, "---\n"); !sameObjects(got, resourcesYAML) {
		t.Errorf("Argo CD got manifests:\n%s\nwant the release's resources:\n%s", got, resourcesYAML)
	}
}

// sameObjects reports whether two YAML streams hold the same objects in
// the same order, whatever their formatting: Argo CD splits the plugin's
// output into objects and prints each again as JSON.
func sameObjects(a, b string) bool {
	split := func(s string) []string {
		var out []string
		for _, doc := range strings.Split(s, "---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := sigsyaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return nil
			}
			out = append(out, string(j))
		}
		return out
	}
	x, y := split(a), split(b)
	if len(x) == 0 || len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// shortTempDir is a temporary directory with a short path: a unix socket's
// path must fit in 108 bytes, which t.TempDir's may not.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// TestPluginConfigRefuses: a plugin Argo CD could not name or run is not
// printed.
func TestPluginConfigRefuses(t *testing.T) {
	for _, c := range []struct{ args []string }{
		{[]string{"plugin-config", "--name", ""}},
		{[]string{"plugin-config", "--command", ""}},
	} {
		r := runCmd(t, c.args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "must not be empty") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, r.code, r.stdout, r.stderr)
		}
	}
}

// runCmd runs forge-cmp in-process with args.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}
