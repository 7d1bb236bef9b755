// Package githubstatus is the ports.StatusReporter that tells GitHub how a
// run is going (spec 03, GitHub integration): a commit status on the run's
// commit at every status point (pending while it runs; success, failure or
// error when it ends) with the run's context (ci/catalyst-forge unless its
// github_context names another), a description such as "Running phase
// group 2 of 3" and a target URL; and, when the run ends and its
// github_context names a pull request, a summary comment on it, updated in
// place if the run ends again (a retried release stage) rather than posted
// twice.
//
// It speaks GitHub's REST API (api.github.com, or a GitHub Enterprise
// server's /api/v3) with a token (a personal access token or the Actions
// token) or as a GitHub App, whose installation tokens it mints and keeps
// until shortly before they expire.
//
// GitHub that does not answer, answers 5xx or 429, or limits the rate is
// retried with backoff (Retry-After and a rate limit's reset waited for
// when the report's time allows); a report that still fails is logged and
// returned as Unavailable, which the orchestrator ignores: a pipeline never
// fails because GitHub is down.
// Report is synchronous, so one process's statuses reach GitHub in order;
// Queued sends them from a goroutine instead, for a server that must not
// wait (forge-api creating a run).
package githubstatus
