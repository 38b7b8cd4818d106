-- +goose Up
-- tenant_ai_settings holds the AI provider credentials a tenant brings. The
-- OpenAI key is sealed with the server's SECRET_KEY (AES-256-GCM, associated
-- data "openai-key:tenant:<id>"); its hint is the last four characters, for
-- people to recognise it. updated_at changes with every write: workers
-- rebuild a tenant's cached models when it does.
CREATE TABLE tenant_ai_settings (
    tenant_id          bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    openai_api_key_enc bytea,
    openai_key_hint    text,
    openai_base_url    text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((openai_api_key_enc IS NULL) = (openai_key_hint IS NULL)),
    CHECK (openai_api_key_enc IS NOT NULL OR openai_base_url IS NULL)
);

-- +goose Down
DROP TABLE tenant_ai_settings;
