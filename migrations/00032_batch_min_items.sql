-- +goose Up
-- tenants.batch_min_items: a tenant's default for bulk drafts (#23). A
-- request for at least this many drafts that names no mode is sent in
-- batch mode (the provider's Batch API, cheaper, within 24 hours); "mode":
-- "ordinary" still runs at once. NULL: off.
ALTER TABLE tenants ADD COLUMN batch_min_items integer
    CHECK (batch_min_items BETWEEN 1 AND 100000);

-- +goose Down
ALTER TABLE tenants DROP COLUMN batch_min_items;
