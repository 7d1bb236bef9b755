package forgedev

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/reference/forgecmp"
)

// Deployment is an auto-deployment a dev run made, and what the Argo CD
// plugin makes of its pointer.
type Deployment struct {
	Project     string `json:"project"`
	Release     int    `json:"release_number"`
	Environment string `json:"environment"`
	Status      string `json:"status"`
	Commit      string `json:"gitops_commit_sha,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Pointer is the pointer's file in the GitOps repository.
	Pointer string `json:"pointer"`
	// Generated is what forge-cmp generate prints in the pointer's
	// directory of a fresh clone of the GitOps repository, as Argo CD's
	// repo-server runs it; GenerateError says why it printed nothing.
	Generated     string `json:"generated,omitempty"`
	GenerateError string `json:"generate_error,omitempty"`
}

// runDeployments lists the auto-deployments the run's releases made
// (kept with each release's outcome) and runs the plugin on each active
// one's pointer.
func (p *platform) runDeployments(ctx context.Context, runID string, releases []release.Release) []Deployment {
	var out []Deployment
	var clone string
	for _, r := range releases {
		rc, _, err := p.objects.Get(ctx, orchestrating.ReleaseKey(runID, r.Project), 0)
		if err != nil {
			continue
		}
		var res orchestrating.ReleaseResult
		err = json.NewDecoder(rc).Decode(&res)
		rc.Close()
		if err != nil {
			continue
		}
		for _, d := range res.Deployments {
			dep := Deployment{Project: r.Project, Release: r.Number, Environment: d.Environment, Status: d.Status, Commit: d.Commit,
				Reason: d.Reason, Pointer: release.PointerPath(d.Environment, r.Repository, r.Project)}
			if d.Status == string(release.DeploymentActive) {
				if clone == "" {
					if clone, err = p.cloneGitOps(); err != nil {
						dep.GenerateError = err.Error()
						out = append(out, dep)
						continue
					}
					defer os.RemoveAll(clone)
				}
				dir := filepath.Dir(dep.Pointer)
				var gen, log bytes.Buffer
				if err := forgecmp.Generate(ctx, forgecmp.Options{Dir: filepath.Join(clone, filepath.FromSlash(dir)), SourcePath: dir,
					Registry: p.registry, PublicKey: filepath.Join(p.data, publicKeyFile)}, &gen, &log); err != nil {
					dep.GenerateError = err.Error()
				}
				dep.Generated = gen.String()
			}
			out = append(out, dep)
		}
	}
	return out
}

// cloneGitOps clones the GitOps repository, as Argo CD's repo-server
// does, into a temporary directory.
func (p *platform) cloneGitOps() (string, error) {
	dir, err := os.MkdirTemp("", "forge-dev-gitops-")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("git", "clone", "-q", p.gitopsURL, dir).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("cloning the GitOps repository: %s", strings.TrimSpace(string(out)))
	}
	return dir, nil
}
