-- A run started by a GitHub workflow keeps spec 03's github_context (the
-- pull request to comment on, the workflow run, the commit status
-- context) for the processes that report its statuses (issue 11).
ALTER TABLE pipeline_runs ADD COLUMN github_context jsonb;
