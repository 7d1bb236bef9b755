-- 0001_initial: the Store port's schema on SQLite (spec 06 entities plus
-- repository registrations). UUIDs are TEXT; times are DATETIME holding UTC
-- text (the driver writes and parses them); discovery_output is JSON TEXT.
-- The seq columns record insertion order where the port promises one or
-- needs a tie-break; a trigger copies the rowid into them, so they stay put
-- when VACUUM renumbers rowids.

CREATE TABLE repositories (
    id                  TEXT     NOT NULL PRIMARY KEY,
    name                TEXT     NOT NULL,
    max_concurrent_runs INTEGER  NOT NULL DEFAULT 0,
    runs_per_minute     INTEGER  NOT NULL DEFAULT 0,
    created_at          DATETIME NOT NULL,
    created_by          TEXT     NOT NULL DEFAULT '',
    CONSTRAINT repositories_name_key UNIQUE (name)
);

CREATE TABLE pipeline_runs (
    id                 TEXT     NOT NULL PRIMARY KEY,
    seq                INTEGER,
    repository         TEXT     NOT NULL,
    branch             TEXT     NOT NULL DEFAULT '',
    commit_sha         TEXT     NOT NULL,
    triggered_by       TEXT     NOT NULL DEFAULT '',
    trigger_type       TEXT     NOT NULL DEFAULT '',
    status             TEXT     NOT NULL,
    created_at         DATETIME NOT NULL,
    started_at         DATETIME NOT NULL,
    completed_at       DATETIME,
    argo_workflow_name TEXT     NOT NULL DEFAULT '',
    discovery_output   TEXT,
    reason             TEXT     NOT NULL DEFAULT '',
    CONSTRAINT pipeline_runs_repository_commit_sha_key UNIQUE (repository, commit_sha),
    CONSTRAINT pipeline_runs_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled'))
);
CREATE INDEX pipeline_runs_repository_branch_created_at_idx ON pipeline_runs (repository, branch, created_at);
CREATE INDEX pipeline_runs_status_started_at_idx ON pipeline_runs (status, started_at);
CREATE INDEX pipeline_runs_repository_status_idx ON pipeline_runs (repository, status);
CREATE INDEX pipeline_runs_created_at_idx ON pipeline_runs (created_at, seq);
CREATE TRIGGER pipeline_runs_seq AFTER INSERT ON pipeline_runs FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE pipeline_runs SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;

CREATE TABLE phase_executions (
    id              TEXT     NOT NULL PRIMARY KEY,
    pipeline_run_id TEXT     NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    phase_name      TEXT     NOT NULL,
    group_number    INTEGER  NOT NULL,
    status          TEXT     NOT NULL,
    started_at      DATETIME,
    completed_at    DATETIME,
    CONSTRAINT phase_executions_run_phase_name_key UNIQUE (pipeline_run_id, phase_name),
    CONSTRAINT phase_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);
CREATE INDEX phase_executions_run_group_number_idx ON phase_executions (pipeline_run_id, group_number);

CREATE TABLE task_executions (
    id                 TEXT     NOT NULL PRIMARY KEY,
    phase_execution_id TEXT     NOT NULL REFERENCES phase_executions (id) ON DELETE CASCADE,
    project_name       TEXT     NOT NULL,
    project_path       TEXT     NOT NULL DEFAULT '',
    status             TEXT     NOT NULL,
    started_at         DATETIME,
    completed_at       DATETIME,
    error              TEXT     NOT NULL DEFAULT '',
    CONSTRAINT task_executions_phase_project_name_key UNIQUE (phase_execution_id, project_name),
    CONSTRAINT task_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);

CREATE TABLE step_executions (
    id                TEXT     NOT NULL PRIMARY KEY,
    seq               INTEGER,
    task_execution_id TEXT     NOT NULL REFERENCES task_executions (id) ON DELETE CASCADE,
    step_name         TEXT     NOT NULL,
    action            TEXT     NOT NULL DEFAULT '',
    target            TEXT     NOT NULL DEFAULT '',
    status            TEXT     NOT NULL,
    started_at        DATETIME,
    completed_at      DATETIME,
    exit_code         INTEGER,
    logs_s3_key       TEXT,
    CONSTRAINT step_executions_task_step_name_key UNIQUE (task_execution_id, step_name),
    CONSTRAINT step_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);
CREATE INDEX step_executions_task_seq_idx ON step_executions (task_execution_id, seq);
CREATE TRIGGER step_executions_seq AFTER INSERT ON step_executions FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE step_executions SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;

CREATE TABLE releases (
    id              TEXT     NOT NULL PRIMARY KEY,
    repository      TEXT     NOT NULL,
    project         TEXT     NOT NULL,
    commit_sha      TEXT     NOT NULL,
    release_number  INTEGER  NOT NULL,
    -- Runs are kept 90 days, releases forever: a release outlives its run.
    pipeline_run_id TEXT     REFERENCES pipeline_runs (id) ON DELETE SET NULL,
    oci_uri         TEXT     NOT NULL DEFAULT '',
    oci_digest      TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    created_by      TEXT     NOT NULL DEFAULT '',
    CONSTRAINT releases_triplet_key UNIQUE (repository, project, commit_sha),
    CONSTRAINT releases_number_key UNIQUE (repository, project, release_number),
    CONSTRAINT releases_number_check CHECK (release_number > 0)
);
CREATE INDEX releases_created_at_idx ON releases (created_at);
CREATE INDEX releases_pipeline_run_id_idx ON releases (pipeline_run_id);

CREATE TABLE release_aliases (
    id         TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER,
    release_id TEXT    NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    repository TEXT    NOT NULL,
    project    TEXT    NOT NULL,
    alias      TEXT    NOT NULL,
    alias_type TEXT    NOT NULL,
    CONSTRAINT release_aliases_release_alias_key UNIQUE (release_id, alias),
    -- An alias names at most one release of a project.
    CONSTRAINT release_aliases_project_alias_key UNIQUE (repository, project, alias),
    CONSTRAINT release_aliases_alias_type_check
        CHECK (alias_type IN ('numeric', 'tag', 'branch', 'custom'))
);
CREATE INDEX release_aliases_alias_alias_type_idx ON release_aliases (alias, alias_type);
CREATE TRIGGER release_aliases_seq AFTER INSERT ON release_aliases FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE release_aliases SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;

CREATE TABLE release_triggers (
    release_id   TEXT     NOT NULL PRIMARY KEY REFERENCES releases (id) ON DELETE CASCADE,
    trigger_type TEXT     NOT NULL,
    branch       TEXT,
    tag          TEXT,
    triggered_by TEXT     NOT NULL DEFAULT '',
    triggered_at DATETIME NOT NULL
);

CREATE TABLE release_artifacts (
    id                    TEXT     NOT NULL PRIMARY KEY,
    seq                   INTEGER,
    release_id            TEXT     NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    artifact_name         TEXT     NOT NULL,
    artifact_type         TEXT     NOT NULL DEFAULT '',
    tracking_oci_uri      TEXT     NOT NULL DEFAULT '',
    tracking_oci_digest   TEXT     NOT NULL DEFAULT '',
    primary_published_uri TEXT     NOT NULL DEFAULT '',
    created_at            DATETIME NOT NULL,
    CONSTRAINT release_artifacts_release_artifact_name_key UNIQUE (release_id, artifact_name)
);
CREATE TRIGGER release_artifacts_seq AFTER INSERT ON release_artifacts FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE release_artifacts SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;

CREATE TABLE release_approvals (
    id            TEXT     NOT NULL PRIMARY KEY,
    seq           INTEGER,
    release_id    TEXT     NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    environment   TEXT     NOT NULL,
    approver      TEXT     NOT NULL DEFAULT '',
    approved_at   DATETIME NOT NULL,
    expires_at    DATETIME,
    justification TEXT     NOT NULL DEFAULT '',
    status        TEXT     NOT NULL,
    CONSTRAINT release_approvals_status_check CHECK (status IN ('active', 'expired', 'revoked'))
);
CREATE INDEX release_approvals_release_environment_idx ON release_approvals (release_id, environment);
CREATE INDEX release_approvals_approver_approved_at_idx ON release_approvals (approver, approved_at);
CREATE INDEX release_approvals_status_expires_at_idx ON release_approvals (status, expires_at);
CREATE TRIGGER release_approvals_seq AFTER INSERT ON release_approvals FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE release_approvals SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;

CREATE TABLE deployments (
    id                TEXT     NOT NULL PRIMARY KEY,
    seq               INTEGER,
    release_id        TEXT     NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    repository        TEXT     NOT NULL,
    project           TEXT     NOT NULL,
    release_number    INTEGER  NOT NULL,
    environment       TEXT     NOT NULL,
    status            TEXT     NOT NULL,
    deployed_at       DATETIME NOT NULL,
    deployed_by       TEXT     NOT NULL DEFAULT '',
    gitops_commit_sha TEXT     NOT NULL DEFAULT '',
    approval_id       TEXT     REFERENCES release_approvals (id) ON DELETE SET NULL,
    CONSTRAINT deployments_status_check CHECK (status IN ('pending', 'active', 'superseded'))
);
CREATE INDEX deployments_environment_release_idx ON deployments (environment, release_id);
CREATE INDEX deployments_environment_status_idx ON deployments (environment, status);
-- Spec 06: only one deployment per (environment, release_id) is active.
CREATE UNIQUE INDEX deployments_release_environment_active_key
    ON deployments (release_id, environment) WHERE status = 'active';
-- Only one deployment per environment and repository/project is active.
CREATE UNIQUE INDEX deployments_environment_project_active_key
    ON deployments (environment, repository, project) WHERE status = 'active';
CREATE INDEX deployments_environment_project_deployed_at_idx
    ON deployments (environment, repository, project, deployed_at);
CREATE TRIGGER deployments_seq AFTER INSERT ON deployments FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE deployments SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;
