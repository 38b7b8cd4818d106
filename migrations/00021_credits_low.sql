-- +goose Up
-- tenants: the balance below which the tenant hears credits.low (once per
-- crossing: when a charge takes the balance from at or above it to below
-- it). 0 turns the alert off.
ALTER TABLE tenants ADD COLUMN credits_low_threshold bigint NOT NULL DEFAULT 0
    CHECK (credits_low_threshold >= 0);

-- +goose Down
ALTER TABLE tenants DROP COLUMN credits_low_threshold;
