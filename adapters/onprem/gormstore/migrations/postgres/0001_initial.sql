-- 0001_initial: the Store port's schema on PostgreSQL (spec 06 entities
-- plus repository registrations). Times are timestamptz in UTC. The seq
-- columns record insertion order where the port promises one (steps in the
-- order they were added) or needs a tie-break (newest first).

CREATE TABLE repositories (
    id                  uuid        PRIMARY KEY,
    name                text        NOT NULL,
    max_concurrent_runs integer     NOT NULL DEFAULT 0,
    runs_per_minute     integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    created_by          text        NOT NULL DEFAULT '',
    CONSTRAINT repositories_name_key UNIQUE (name)
);

CREATE TABLE pipeline_runs (
    id                 uuid        PRIMARY KEY,
    seq                bigint      GENERATED ALWAYS AS IDENTITY,
    repository         text        NOT NULL,
    branch             text        NOT NULL DEFAULT '',
    commit_sha         text        NOT NULL,
    triggered_by       text        NOT NULL DEFAULT '',
    trigger_type       text        NOT NULL DEFAULT '',
    status             text        NOT NULL,
    created_at         timestamptz NOT NULL,
    started_at         timestamptz NOT NULL,
    completed_at       timestamptz,
    argo_workflow_name text        NOT NULL DEFAULT '',
    discovery_output   jsonb,
    reason             text        NOT NULL DEFAULT '',
    CONSTRAINT pipeline_runs_repository_commit_sha_key UNIQUE (repository, commit_sha),
    CONSTRAINT pipeline_runs_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled'))
);
CREATE INDEX pipeline_runs_repository_branch_created_at_idx ON pipeline_runs (repository, branch, created_at);
CREATE INDEX pipeline_runs_status_started_at_idx ON pipeline_runs (status, started_at);
CREATE INDEX pipeline_runs_repository_status_idx ON pipeline_runs (repository, status);
CREATE INDEX pipeline_runs_created_at_idx ON pipeline_runs (created_at, seq);

CREATE TABLE phase_executions (
    id              uuid        PRIMARY KEY,
    pipeline_run_id uuid        NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    phase_name      text        NOT NULL,
    group_number    integer     NOT NULL,
    status          text        NOT NULL,
    started_at      timestamptz,
    completed_at    timestamptz,
    CONSTRAINT phase_executions_run_phase_name_key UNIQUE (pipeline_run_id, phase_name),
    CONSTRAINT phase_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);
CREATE INDEX phase_executions_run_group_number_idx ON phase_executions (pipeline_run_id, group_number);

CREATE TABLE task_executions (
    id                 uuid        PRIMARY KEY,
    phase_execution_id uuid        NOT NULL REFERENCES phase_executions (id) ON DELETE CASCADE,
    project_name       text        NOT NULL,
    project_path       text        NOT NULL DEFAULT '',
    status             text        NOT NULL,
    started_at         timestamptz,
    completed_at       timestamptz,
    error              text        NOT NULL DEFAULT '',
    CONSTRAINT task_executions_phase_project_name_key UNIQUE (phase_execution_id, project_name),
    CONSTRAINT task_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);

CREATE TABLE step_executions (
    id                uuid        PRIMARY KEY,
    seq               bigint      GENERATED ALWAYS AS IDENTITY,
    task_execution_id uuid        NOT NULL REFERENCES task_executions (id) ON DELETE CASCADE,
    step_name         text        NOT NULL,
    action            text        NOT NULL DEFAULT '',
    target            text        NOT NULL DEFAULT '',
    status            text        NOT NULL,
    started_at        timestamptz,
    completed_at      timestamptz,
    exit_code         integer,
    logs_s3_key       text,
    CONSTRAINT step_executions_task_step_name_key UNIQUE (task_execution_id, step_name),
    CONSTRAINT step_executions_status_check
        CHECK (status IN ('pending', 'running', 'success', 'failed', 'skipped'))
);
CREATE INDEX step_executions_task_seq_idx ON step_executions (task_execution_id, seq);

CREATE TABLE releases (
    id              uuid        PRIMARY KEY,
    repository      text        NOT NULL,
    project         text        NOT NULL,
    commit_sha      text        NOT NULL,
    release_number  integer     NOT NULL,
    -- Runs are kept 90 days, releases forever: a release outlives its run.
    pipeline_run_id uuid        REFERENCES pipeline_runs (id) ON DELETE SET NULL,
    oci_uri         text        NOT NULL DEFAULT '',
    oci_digest      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    created_by      text        NOT NULL DEFAULT '',
    CONSTRAINT releases_triplet_key UNIQUE (repository, project, commit_sha),
    CONSTRAINT releases_number_key UNIQUE (repository, project, release_number),
    CONSTRAINT releases_number_check CHECK (release_number > 0)
);
CREATE INDEX releases_created_at_idx ON releases (created_at);
CREATE INDEX releases_pipeline_run_id_idx ON releases (pipeline_run_id);

CREATE TABLE release_aliases (
    id         uuid   PRIMARY KEY,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    release_id uuid   NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    repository text   NOT NULL,
    project    text   NOT NULL,
    alias      text   NOT NULL,
    alias_type text   NOT NULL,
    CONSTRAINT release_aliases_release_alias_key UNIQUE (release_id, alias),
    -- An alias names at most one release of a project.
    CONSTRAINT release_aliases_project_alias_key UNIQUE (repository, project, alias),
    CONSTRAINT release_aliases_alias_type_check
        CHECK (alias_type IN ('numeric', 'tag', 'branch', 'custom'))
);
CREATE INDEX release_aliases_alias_alias_type_idx ON release_aliases (alias, alias_type);

CREATE TABLE release_triggers (
    release_id   uuid        PRIMARY KEY REFERENCES releases (id) ON DELETE CASCADE,
    trigger_type text        NOT NULL,
    branch       text,
    tag          text,
    triggered_by text        NOT NULL DEFAULT '',
    triggered_at timestamptz NOT NULL
);

CREATE TABLE release_artifacts (
    id                    uuid        PRIMARY KEY,
    seq                   bigint      GENERATED ALWAYS AS IDENTITY,
    release_id            uuid        NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    artifact_name         text        NOT NULL,
    artifact_type         text        NOT NULL DEFAULT '',
    tracking_oci_uri      text        NOT NULL DEFAULT '',
    tracking_oci_digest   text        NOT NULL DEFAULT '',
    primary_published_uri text        NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL,
    CONSTRAINT release_artifacts_release_artifact_name_key UNIQUE (release_id, artifact_name)
);

CREATE TABLE release_approvals (
    id            uuid        PRIMARY KEY,
    seq           bigint      GENERATED ALWAYS AS IDENTITY,
    release_id    uuid        NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    environment   text        NOT NULL,
    approver      text        NOT NULL DEFAULT '',
    approved_at   timestamptz NOT NULL,
    expires_at    timestamptz,
    justification text        NOT NULL DEFAULT '',
    status        text        NOT NULL,
    CONSTRAINT release_approvals_status_check CHECK (status IN ('active', 'expired', 'revoked'))
);
CREATE INDEX release_approvals_release_environment_idx ON release_approvals (release_id, environment);
CREATE INDEX release_approvals_approver_approved_at_idx ON release_approvals (approver, approved_at);
CREATE INDEX release_approvals_status_expires_at_idx ON release_approvals (status, expires_at);

CREATE TABLE deployments (
    id                uuid        PRIMARY KEY,
    seq               bigint      GENERATED ALWAYS AS IDENTITY,
    release_id        uuid        NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    repository        text        NOT NULL,
    project           text        NOT NULL,
    release_number    integer     NOT NULL,
    environment       text        NOT NULL,
    status            text        NOT NULL,
    deployed_at       timestamptz NOT NULL,
    deployed_by       text        NOT NULL DEFAULT '',
    gitops_commit_sha text        NOT NULL DEFAULT '',
    approval_id       uuid        REFERENCES release_approvals (id) ON DELETE SET NULL,
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
