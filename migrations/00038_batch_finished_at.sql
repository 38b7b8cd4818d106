-- +goose Up
-- batches.finished_at: when the batch's last job ended and batch.finished
-- was recorded (#24). Set once, by the statement that records the event
-- after the last job's transaction committed (store.closeBatch), so that
-- jobs of one batch no longer take the batch row's lock in the
-- transactions that end them, one after another. Batches already finished
-- are marked so; the reconciler closes any batch whose closing was missed.
ALTER TABLE batches ADD COLUMN finished_at timestamptz;
UPDATE batches b SET finished_at = b.created_at
WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id AND j.state IN ('queued', 'running', 'batched'));
CREATE INDEX batches_open ON batches (created_at) WHERE finished_at IS NULL;

-- +goose Down
DROP INDEX batches_open;
ALTER TABLE batches DROP COLUMN finished_at;
