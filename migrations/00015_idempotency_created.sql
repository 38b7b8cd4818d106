-- +goose Up
-- Maintenance deletes the Idempotency-Keys past their retention
-- (created_at < cutoff), across tenants: the primary key (tenant_id, key)
-- does not serve that, so without this index each pass scans the table.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP INDEX idempotency_keys_created;
