package githubstatus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// Options configure a Reporter.
type Options struct {
	// API is GitHub's API (DefaultAPI when empty); a GitHub Enterprise
	// server's is https://HOST/api/v3.
	API string
	// Credentials give the token (required).
	Credentials Credentials
	// TargetURL, when set, is the link of every status and of the summary:
	// {run_id}, {workflow} (the Argo workflow, or the run ID without one),
	// {repository} and {commit} are filled in, e.g.
	// https://argo.example.com/workflows/forge/{workflow}.
	TargetURL string
	// HTTP is the client (10 s timeout when nil).
	HTTP *http.Client
	// Attempts bounds the tries of one request (default 4); Backoff is
	// the first pause (default 500 ms), doubled up to MaxBackoff (default
	// 8 s).
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	// ReportTimeout bounds one Report, retries and summary included
	// (default 15 s), so a pipeline waits no longer than that for GitHub.
	ReportTimeout time.Duration
	// Log receives the reports that failed (slog.Default when nil).
	Log *slog.Logger
}

// Reporter sets commit statuses and posts pull request summaries.
type Reporter struct {
	c         *client
	targetURL string
	log       *slog.Logger
	timeout   time.Duration
}

var _ ports.StatusReporter = (*Reporter)(nil)

// New returns a reporter. Errors: Validation (no credentials, a bad API
// URL).
func New(o Options) (*Reporter, error) {
	if o.Credentials == nil {
		return nil, fault.New(fault.Validation, "GitHub statuses need credentials: a token or a GitHub App")
	}
	api := strings.TrimSuffix(o.API, "/")
	if api == "" {
		api = DefaultAPI
	}
	if u, err := url.Parse(api); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fault.New(fault.Validation, "the GitHub API URL must be http(s)://HOST[/PATH], got %q", o.API)
	}
	c := &client{api: api, http: o.HTTP, token: o.Credentials.Token, attempts: o.Attempts, backoff: o.Backoff, maxWait: o.MaxBackoff}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if c.attempts <= 0 {
		c.attempts = 4
	}
	if c.backoff <= 0 {
		c.backoff = 500 * time.Millisecond
	}
	if c.maxWait <= 0 {
		c.maxWait = 8 * time.Second
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	timeout := o.ReportTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &Reporter{c: c, targetURL: o.TargetURL, log: log, timeout: timeout}, nil
}

// state is the commit status of a run at a point.
func state(run *pipeline.Run, point ports.StatusPoint) string {
	if point != ports.StatusFinished {
		return "pending"
	}
	switch run.Status {
	case pipeline.StatusSuccess:
		return "success"
	case pipeline.StatusFailed:
		return "failure"
	}
	return "error" // cancelled, or an end GitHub has no word for
}

// Report sets the run's commit status and, when the run has ended and its
// GitHub context names a pull request, writes the summary comment. A run
// of a repository that is not owner/name on GitHub is skipped.
func (r *Reporter) Report(ctx context.Context, run *pipeline.Run, point ports.StatusPoint, description string) error {
	owner, name, ok := strings.Cut(run.Repository, "/")
	if !ok || owner == "" || name == "" || len(run.CommitSHA) != 40 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	repo := "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	status := map[string]string{"state": state(run, point), "description": clip(description, 140), "context": run.GitHub.StatusContext()}
	if link := r.link(run); link != "" {
		status["target_url"] = link
	}
	_, err := r.c.call(ctx, http.MethodPost, repo+"/statuses/"+run.CommitSHA, status, nil)
	if err != nil {
		r.log.Warn("GitHub commit status not set", "run_id", run.ID, "repository", run.Repository, "point", string(point), "error", err.Error())
		return err
	}
	if point == ports.StatusFinished && run.GitHub != nil && run.GitHub.PRNumber > 0 {
		if err := r.summarise(ctx, repo, run); err != nil {
			r.log.Warn("GitHub pull request summary not written", "run_id", run.ID, "repository", run.Repository,
				"pr_number", run.GitHub.PRNumber, "error", err.Error())
			return err
		}
	}
	return nil
}

// link fills the target URL template for run.
func (r *Reporter) link(run *pipeline.Run) string {
	if r.targetURL == "" {
		return ""
	}
	workflow := run.ArgoWorkflowName
	if workflow == "" {
		workflow = run.ID
	}
	return strings.NewReplacer("{run_id}", url.PathEscape(run.ID), "{workflow}", url.PathEscape(workflow),
		"{repository}", run.Repository, "{commit}", run.CommitSHA).Replace(r.targetURL)
}

// marker identifies a run's summary comment, so that the run ending again
// updates it instead of adding another.
func marker(run *pipeline.Run) string { return "<!-- catalyst-forge run " + run.ID + " -->" }

// summarise writes the run's summary on its pull request: it edits the
// comment that carries the run's marker, or posts a new one. A POST is
// not idempotent, so it is tried once a round: a round that failed in a
// way worth retrying looks for the marker again first (the comment may
// have been made though the answer was lost).
func (r *Reporter) summarise(ctx context.Context, repo string, run *pipeline.Run) error {
	body := Summary(run, r.link(run))
	wait := r.c.backoff
	var err error
	for round := 1; round <= r.c.attempts; round++ {
		var id int64
		if id, err = r.findSummary(ctx, repo, run); err != nil {
			return err
		}
		if id != 0 {
			_, err = r.c.call(ctx, http.MethodPatch, repo+"/issues/comments/"+strconv.FormatInt(id, 10), map[string]string{"body": body}, nil)
			return err
		}
		_, err = r.c.once(ctx, http.MethodPost, repo+"/issues/"+strconv.Itoa(run.GitHub.PRNumber)+"/comments", map[string]string{"body": body}, nil)
		var again *retryable
		if err == nil || !errors.As(err, &again) {
			return err
		}
		select {
		case <-ctx.Done():
			return fault.Wrap(fault.Unavailable, ctx.Err(), "posting the summary of run %s", run.ID)
		case <-time.After(max(wait, min(again.after, r.c.maxWait))):
		}
		wait = min(2*wait, r.c.maxWait)
	}
	return fault.Wrap(fault.Unavailable, err, "posting the summary of run %s, after %d attempts", run.ID, r.c.attempts)
}

// findSummary returns the ID of the comment carrying run's marker on its
// pull request, 0 when there is none.
func (r *Reporter) findSummary(ctx context.Context, repo string, run *pipeline.Run) (int64, error) {
	path := repo + "/issues/" + strconv.Itoa(run.GitHub.PRNumber) + "/comments?per_page=100"
	for pages := 0; path != "" && pages < 20; pages++ {
		var comments []struct {
			ID   int64  `json:"id"`
			Body string `json:"body"`
		}
		link, err := r.c.call(ctx, http.MethodGet, path, nil, &comments)
		if err != nil {
			return 0, err
		}
		for _, c := range comments {
			if strings.Contains(c.Body, marker(run)) {
				return c.ID, nil
			}
		}
		// Follow GitHub's own next page only: the token goes nowhere else.
		if path = nextPage(link); !strings.HasPrefix(path, r.c.api+"/") {
			path = ""
		}
	}
	return 0, nil
}

// Summary is the pull request comment of a run that has ended: its status,
// duration and link, and each phase with its tasks' outcomes.
func Summary(run *pipeline.Run, link string) string {
	var b strings.Builder
	b.WriteString(marker(run) + "\n## Pipeline results\n\n")
	fmt.Fprintf(&b, "**Status:** %s  \n", run.Status)
	if run.CompletedAt != nil {
		fmt.Fprintf(&b, "**Duration:** %s  \n", run.CompletedAt.Sub(run.StartedAt).Round(time.Second))
	}
	fmt.Fprintf(&b, "**Commit:** `%s`  \n", run.CommitSHA[:min(12, len(run.CommitSHA))])
	if link != "" {
		fmt.Fprintf(&b, "**Logs:** [%s](%s)  \n", run.ID, link)
	}
	if run.Reason != "" {
		fmt.Fprintf(&b, "\n> %s\n", clip(strings.ReplaceAll(run.Reason, "\n", " "), 500))
	}
	if len(run.Phases) > 0 {
		b.WriteString("\n| phase | status | tasks |\n| --- | --- | --- |\n")
		for _, ph := range run.Phases {
			var tasks []string
			for _, t := range ph.Tasks {
				tasks = append(tasks, fmt.Sprintf("%s %s", icon(t.Status), cell(t.ProjectName)))
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s |\n", cell(ph.Name), icon(ph.Status), ph.Status, strings.Join(tasks, ", "))
		}
	}
	return b.String()
}

func icon(s pipeline.Status) string {
	switch s {
	case pipeline.StatusSuccess:
		return "✅"
	case pipeline.StatusFailed:
		return "❌"
	case pipeline.StatusCancelled, pipeline.StatusSkipped:
		return "⏭️"
	}
	return "⏳"
}

// cell keeps a name from breaking the table.
func cell(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) }

// clip shortens s to at most n characters (GitHub refuses a status
// description over 140).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
