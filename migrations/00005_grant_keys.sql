-- +goose Up
-- An operator's credit grant may carry an Idempotency-Key: a retried grant
-- finds the ledger row it made instead of granting again.
ALTER TABLE credit_ledger ADD COLUMN request_key text;
CREATE UNIQUE INDEX credit_ledger_request_key ON credit_ledger (tenant_id, request_key) WHERE request_key IS NOT NULL;

-- +goose Down
DROP INDEX credit_ledger_request_key;
ALTER TABLE credit_ledger DROP COLUMN request_key;
