-- +goose Up
-- Fair sharing: a tenant's bulk jobs beyond its plan's number in flight
-- are held in PostgreSQL (queued, not yet on the queue) and released in
-- order as earlier ones finish.
ALTER TABLE jobs ADD COLUMN held boolean NOT NULL DEFAULT false;
CREATE INDEX jobs_held ON jobs (tenant_id, created_at, id) WHERE held AND state = 'queued';
CREATE INDEX jobs_bulk_inflight ON jobs (tenant_id) WHERE queue = 'bulk' AND NOT held AND state IN ('queued', 'running');
DROP INDEX jobs_unfinished;
CREATE INDEX jobs_unfinished ON jobs (updated_at) WHERE state IN ('queued', 'running') AND NOT held;

-- +goose Down
DROP INDEX jobs_unfinished;
CREATE INDEX jobs_unfinished ON jobs (updated_at) WHERE state IN ('queued', 'running');
DROP INDEX jobs_bulk_inflight;
DROP INDEX jobs_held;
ALTER TABLE jobs DROP COLUMN held;
