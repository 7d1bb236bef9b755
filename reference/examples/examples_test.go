// Package examples_test checks the example repositories that the reference
// deployment ships: they must validate, and their script steps must run.
package examples_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/domain/discovery"
)

// TestMonorepoStepsRun discovers the example monorepo and runs every
// script step of every project, phase group by phase group, in a copy of
// the tree, the way a worker's script executor will: `shell -c run` in the
// project directory.
func TestMonorepoStepsRun(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("monorepo")); err != nil {
		t.Fatal(err)
	}
	res, err := (&discovering.Service{}).Discover(context.Background(), os.DirFS(root), discovery.GitContext{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 || len(res.Output.Projects) < 3 {
		t.Fatalf("example: %d projects, problems %v", len(res.Output.Projects), res.Problems)
	}
	ran := 0
	for _, g := range res.Output.PhaseGroups {
		for _, phase := range g.Phases {
			for _, p := range res.Output.Projects {
				for _, st := range p.Phases[phase] {
					if st.Action != "script" {
						continue
					}
					shell := strings.Fields(st.Shell)
					if len(shell) == 0 {
						shell = []string{"sh", "-e"}
					}
					cmd := exec.Command(shell[0], append(shell[1:], "-c", st.Run)...)
					cmd.Dir = filepath.Join(root, filepath.FromSlash(p.Path))
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Errorf("%s/%s/%s failed: %v\n%s", p.Name, phase, st.Name, err, out)
					}
					ran++
				}
			}
		}
	}
	if ran < 8 {
		t.Errorf("ran %d script steps, want every step of the example (at least 8)", ran)
	}
	// The build left the binary the hello-api artifact names.
	if _, err := fs.Stat(os.DirFS(root), "services/hello-api/dist/hello-api"); err != nil {
		t.Errorf("hello-api build output: %v", err)
	}
}
