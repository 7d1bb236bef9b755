package forgecli

import (
	"strings"
	"testing"
)

// slowProject evaluates for minutes: a nested comprehension over ranges
// whose bounds are not literals, which only the child's bounds stop.
const slowProject = `package project

import "list"

name: "slow"
ci: phases: test: unit: {action: "script", run: "true"}
_n: 100000
deployment: resources: [{apiVersion: "v1", kind: "K", metadata: name: "n", spec: [for i in list.Range(0, _n, 1) for j in list.Range(0, _n, 1) {i+j}]}]
`

// TestValidateAndDiscoverStopAtTheirLimits runs both commands on a
// repository with a runaway configuration: each ends at the file time
// limit with the file named, instead of evaluating for minutes.
func TestValidateAndDiscoverStopAtTheirLimits(t *testing.T) {
	root := tempDir(t)
	writeFile(t, root, ".forge/repo.cue", baseRepo)
	writeFile(t, root, "svc/slow/.forge/project.cue", slowProject)
	t.Chdir(root)
	want := "svc/slow/.forge/project.cue: the evaluation took longer than 1s, the limit for one configuration, while this configuration was being evaluated"

	r := forge(t, "validate", "--discovery-file-time", "1s")
	r.wantCode(t, ExitFailure)
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("validate printed:\n%s\nwant a line starting %q", r.stdout, want)
	}

	r = forge(t, "discover", "--discovery-file-time", "1s")
	r.wantCode(t, ExitFailure)
	if !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "error: discovery stopped at its limits; nothing was discovered\n") {
		t.Errorf("discover printed on stderr:\n%s", r.stderr)
	}

	r = forge(t, "validate", "--discovery-memory", "0")
	r.wantCode(t, ExitUsage)
}
