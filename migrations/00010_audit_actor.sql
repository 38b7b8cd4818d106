-- +goose Up
-- audit_log.actor says who acted: the role of the API key (owner, admin,
-- editor, bot, operator) or "cli" for the operator's command line. An
-- operator's action on a tenant (creation, suspension, a credit grant) is
-- recorded with that tenant's id, so the tenant's owners read it too.
ALTER TABLE audit_log ADD COLUMN actor text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN actor;
