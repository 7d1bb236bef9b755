-- A deployment whose process died before recording its outcome stays
-- pending; forge-api finds such deployments and finishes them (issue 10).
-- They are found by a partial index over the few pending rows, and a
-- rollback keeps the deployment it rolled back from, so that a resumed
-- rollback commits the same message.
ALTER TABLE deployments ADD COLUMN rollback_of uuid REFERENCES deployments (id) ON DELETE SET NULL;
CREATE INDEX deployments_pending_deployed_at_idx ON deployments (deployed_at) WHERE status = 'pending';
