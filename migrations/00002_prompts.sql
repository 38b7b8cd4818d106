-- +goose Up
-- prompt_templates holds every version of a tenant's prompt templates for a
-- stage; the embedded defaults are not stored. The highest version of a
-- (tenant, stage) is the active one: an override (its system and user
-- templates) or a revert to the default (no templates). Versions are never
-- changed or deleted, so the history stays whole.
CREATE TABLE prompt_templates (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stage           text NOT NULL,
    version         integer NOT NULL CHECK (version > 0),
    kind            text NOT NULL CHECK (kind IN ('override', 'revert')),
    system_template text,
    user_template   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      bigint REFERENCES api_keys (id) ON DELETE SET NULL,
    UNIQUE (tenant_id, stage, version),
    CHECK ((kind = 'override') = (system_template IS NOT NULL)),
    CHECK ((system_template IS NULL) = (user_template IS NULL))
);

-- +goose Down
DROP TABLE prompt_templates;
