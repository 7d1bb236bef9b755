package pipeline

import (
	"fmt"
	"unicode/utf8"
)

// DefaultStatusContext is the context of a run's commit statuses when its
// GitHubContext names none.
const DefaultStatusContext = "ci/catalyst-forge"

// GitHubContext is what a GitHub workflow tells about the run it starts
// (spec 03): the pull request to comment on, the workflow run, and the
// context of the commit statuses.
type GitHubContext struct {
	// PRNumber is the pull request the commit belongs to; 0: none (a
	// push), so no summary comment.
	PRNumber int `json:"pr_number,omitempty"`
	// RunID is the GitHub Actions run that triggered the pipeline.
	RunID string `json:"run_id,omitempty"`
	// Context names the commit statuses (default DefaultStatusContext).
	Context string `json:"context,omitempty"`
	// CheckRunID is a check run of the workflow, when it made one.
	CheckRunID string `json:"check_run_id,omitempty"`
}

// StatusContext is the context the run's commit statuses carry.
func (g *GitHubContext) StatusContext() string {
	if g == nil || g.Context == "" {
		return DefaultStatusContext
	}
	return g.Context
}

// Validate checks the context's fields, naming the first bad one as
// github_context.<field>.
func (g *GitHubContext) Validate() (field, msg string) {
	if g == nil {
		return "", ""
	}
	if g.PRNumber < 0 {
		return "github_context.pr_number", fmt.Sprintf("github_context.pr_number must be a positive pull request number, got %d", g.PRNumber)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"run_id", g.RunID, 64}, {"context", g.Context, 255}, {"check_run_id", g.CheckRunID, 64}} {
		if utf8.RuneCountInString(f.value) > f.max {
			return "github_context." + f.name, fmt.Sprintf("github_context.%s is longer than %d characters", f.name, f.max)
		}
	}
	return "", ""
}
