-- A deployment whose GitOps commit could not be pushed is failed, with the
-- reason (issue 10): the status gains 'failed' and the row a reason.
--
-- SQLite cannot change a table constraint, so the table is rebuilt with its
-- rows (seq and rowid included), indexes and trigger.
CREATE TABLE deployments_0003 (
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
    reason            TEXT     NOT NULL DEFAULT '',
    CONSTRAINT deployments_status_check CHECK (status IN ('pending', 'active', 'superseded', 'failed'))
);
INSERT INTO deployments_0003 (rowid, id, seq, release_id, repository, project, release_number, environment, status,
        deployed_at, deployed_by, gitops_commit_sha, approval_id)
    SELECT rowid, id, seq, release_id, repository, project, release_number, environment, status,
        deployed_at, deployed_by, gitops_commit_sha, approval_id FROM deployments;
DROP TABLE deployments;
ALTER TABLE deployments_0003 RENAME TO deployments;
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
