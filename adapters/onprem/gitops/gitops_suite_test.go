package gitops_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/gitops"
	"github.com/catalyst-forge/forge/conformance/gitopstest"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

func TestGitOps(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gitops")
}

// bare makes an empty bare repository whose default branch is main,
// accepting pushes over smart HTTP, and returns its directory.
func bare(root, name string) string {
	dir := filepath.Join(root, name)
	for _, args := range [][]string{{"init", "-q", "--bare", "-b", "main", dir}, {"-C", dir, "config", "http.receivepack", "true"}} {
		out, err := exec.Command("git", args...).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "git %v: %s", args, out)
	}
	return dir
}

func open(url string, auth ...string) ports.GitOps {
	o := gitops.Options{URL: url, Moved: &gitops.Backoff{Base: 5 * time.Millisecond, Max: 200 * time.Millisecond, Jitter: 20 * time.Millisecond},
		Unreachable: &gitops.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 2}}
	if len(auth) > 0 {
		o.Auth = gitops.TokenAuth(auth[0])
	}
	g, err := gitops.New(o)
	Expect(err).NotTo(HaveOccurred())
	return g
}

var _ = gitopstest.Describe("go-git over file://", func() (gitopstest.Remote, func()) {
	root, err := os.MkdirTemp("", "gitops-file-")
	Expect(err).NotTo(HaveOccurred())
	url := "file://" + bare(root, "gitops.git")
	return gitopstest.Remote{URL: url, New: func() ports.GitOps { return open(url) }}, func() { os.RemoveAll(root) }
})

// smartHTTPBench serves root as smartHTTP does, outside a Ginkgo spec.
func smartHTTPBench(root string) *httptest.Server {
	gitPath, _ := exec.LookPath("git")
	return httptest.NewServer(&cgi.Handler{Path: gitPath, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, Stderr: io.Discard})
}

// smartHTTP serves the repositories under root with git's own smart HTTP
// server (git http-backend behind net/http/cgi), as a git host would,
// asking for a token when token is set.
func smartHTTP(root, token string) *httptest.Server {
	gitPath, err := exec.LookPath("git")
	Expect(err).NotTo(HaveOccurred())
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}, Stderr: GinkgoWriter}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			if _, pass, ok := r.BasicAuth(); !ok || pass != token {
				w.Header().Set("WWW-Authenticate", `Basic realm="gitops"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(w, r)
	}))
}

var _ = gitopstest.Describe("go-git over smart HTTP (git http-backend)", func() (gitopstest.Remote, func()) {
	root, err := os.MkdirTemp("", "gitops-http-")
	Expect(err).NotTo(HaveOccurred())
	bare(root, "gitops.git")
	srv := smartHTTP(root, "")
	url := srv.URL + "/gitops.git"
	return gitopstest.Remote{URL: url, New: func() ports.GitOps { return open(url) }}, func() {
		srv.Close()
		os.RemoveAll(root)
	}
})

var _ = Describe("gitops adapter", func() {
	ctx := context.Background()
	change := ports.GitOpsChange{Path: "environments/dev/acme/mono/api/release.yaml", Content: []byte("x\n"), Message: "deploy"}

	It("sends the token over HTTPS-style basic auth, and says a refused one is refused without showing it", func() {
		root := GinkgoT().TempDir()
		bare(root, "gitops.git")
		srv := smartHTTP(root, "s3cret-token")
		defer srv.Close()
		_, changed, err := open(srv.URL+"/gitops.git", "s3cret-token").Apply(ctx, change)
		Expect(err).NotTo(HaveOccurred())
		Expect(changed).To(BeTrue())
		_, _, err = open(srv.URL+"/gitops.git", "wrong-token").Apply(ctx, change)
		Expect(fault.Is(err, fault.PermissionDenied)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("refused the credentials"))
		Expect(err.Error()).NotTo(ContainSubstring("wrong-token"))
	})

	It("says an unreachable remote is unavailable after its retries, without its credentials", func() {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := strings.Replace(srv.URL, "http://", "http://user:pa55word@", 1) + "/gitops.git"
		srv.Close()
		start := time.Now()
		_, _, err := open(url).Apply(ctx, change)
		Expect(fault.Is(err, fault.Unavailable)).To(BeTrue(), "%v", err)
		Expect(err.Error()).NotTo(ContainSubstring("pa55word"))
		Expect(time.Since(start)).To(BeNumerically("<", 10*time.Second))
	})

	It("refuses options it cannot use", func() {
		_, err := gitops.New(gitops.Options{})
		Expect(fault.Is(err, fault.Validation)).To(BeTrue())
		_, err = gitops.New(gitops.Options{URL: "file:///x", Branch: "a b"})
		Expect(fault.Is(err, fault.Validation)).To(BeTrue())
		_, err = gitops.SSHKeyAuth("", []byte("not a key"))
		Expect(fault.Is(err, fault.Validation)).To(BeTrue())
	})

	It("follows a remote whose history someone else rewrote", func() {
		root := GinkgoT().TempDir()
		url := "file://" + bare(root, "gitops.git")
		g := open(url)
		_, _, err := g.Apply(ctx, change)
		Expect(err).NotTo(HaveOccurred())
		// Someone force-pushes an unrelated history.
		work := GinkgoT().TempDir()
		for _, args := range [][]string{{"init", "-q", "-b", "main", work}, {"-C", work, "commit", "-q", "--allow-empty", "-m", "rewritten"},
			{"-C", work, "push", "-q", "-f", url, "main"}} {
			out, err := exec.Command("git", append([]string{"-c", "user.name=x", "-c", "user.email=x@x"}, args...)...).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "git %v: %s", args, out)
		}
		sha, changed, err := g.Apply(ctx, ports.GitOpsChange{Path: "environments/dev/acme/mono/web/release.yaml", Content: []byte("y\n"), Message: "deploy web"})
		Expect(err).NotTo(HaveOccurred())
		Expect(changed).To(BeTrue())
		out, err := exec.Command("git", "ls-remote", url, "refs/heads/main").Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).To(HavePrefix(sha))
	})
})
