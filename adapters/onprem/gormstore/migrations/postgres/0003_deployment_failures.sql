-- A deployment whose GitOps commit could not be pushed is failed, with the
-- reason (issue 10): the status gains 'failed' and the row a reason.
ALTER TABLE deployments DROP CONSTRAINT deployments_status_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check
    CHECK (status IN ('pending', 'active', 'superseded', 'failed'));
ALTER TABLE deployments ADD COLUMN reason text NOT NULL DEFAULT '';
