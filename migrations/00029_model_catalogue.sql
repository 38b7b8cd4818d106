-- +goose Up
-- ai_models: the model catalogue (#23). Each row is one model of one
-- provider for one kind of work, with its list prices (USD per million
-- tokens, or per image), the batch prices (NULL: half the standard price,
-- OpenAI's and Azure's Batch API discount), its limits (NULL: none from the
-- catalogue; AI_LIMITS still overrides), whether it takes a strict JSON
-- schema, and the credit multiplier a tenant pays for choosing it. plans
-- names the plans whose tenants may choose it (NULL: every plan).
CREATE TABLE ai_models (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider                    text NOT NULL CHECK (provider IN
                                    ('openai', 'azure', 'anthropic', 'gemini', 'mistral', 'xai', 'replicate', 'offline')),
    model                       text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    kind                        text NOT NULL CHECK (kind IN ('chat', 'embeddings', 'image')),
    display_name                text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    enabled                     boolean NOT NULL DEFAULT true,
    price_input_per_mtok        numeric(12, 6) NOT NULL DEFAULT 0 CHECK (price_input_per_mtok >= 0),
    price_output_per_mtok       numeric(12, 6) NOT NULL DEFAULT 0 CHECK (price_output_per_mtok >= 0),
    price_per_image             numeric(12, 6) NOT NULL DEFAULT 0 CHECK (price_per_image >= 0),
    batch_price_input_per_mtok  numeric(12, 6) CHECK (batch_price_input_per_mtok >= 0),
    batch_price_output_per_mtok numeric(12, 6) CHECK (batch_price_output_per_mtok >= 0),
    rpm                         integer CHECK (rpm > 0),
    tpm                         integer CHECK (tpm > 0),
    structured_output           boolean NOT NULL DEFAULT false,
    credit_multiplier           numeric(6, 2) NOT NULL DEFAULT 1 CHECK (credit_multiplier > 0 AND credit_multiplier <= 100),
    plans                       text[] CHECK (plans <@ ARRAY['free', 'starter', 'pro', 'agency']),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, model, kind)
);

-- ai_stage_routes: the operator's default model of each stage and its
-- fallback chain, in order. The store checks that every model's kind fits
-- the stage, and that an embeddings fallback is the same model (vectors of
-- two models are not mixed in one clustering). A model a route names as
-- its default cannot be deleted; fallback_ids is checked by the store.
CREATE TABLE ai_stage_routes (
    stage                text PRIMARY KEY CHECK (stage IN
                             ('cluster_name', 'ideas', 'draft', 'image_prompt', 'embeddings', 'images')),
    model_id             bigint NOT NULL REFERENCES ai_models (id) ON DELETE RESTRICT,
    fallback_ids         bigint[] NOT NULL DEFAULT '{}',
    fallback_on_throttle boolean NOT NULL DEFAULT false,
    -- operator_set: an operator chose this route (API, CLI or the Models
    -- page). A seeded route (false) leaves the stage to the worker's
    -- environment (its OPENAI_* or ANTHROPIC_* models, else the offline
    -- model it names), so that a server configured by its environment
    -- keeps its models until an operator routes the stage.
    operator_set         boolean NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- tenant_stage_models: a tenant's own choice of model for a stage, among
-- the enabled models its plan may use; none means the operator's default.
-- Deleting a model drops the choices of it.
CREATE TABLE tenant_stage_models (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stage      text NOT NULL CHECK (stage IN ('cluster_name', 'ideas', 'draft', 'image_prompt', 'images')),
    model_id   bigint NOT NULL REFERENCES ai_models (id) ON DELETE CASCADE,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, stage)
);
CREATE INDEX tenant_stage_models_model ON tenant_stage_models (model_id);

-- The offline models come first, so that a server with no provider key has
-- a working catalogue and every stage a route; then OpenAI's default
-- models at their list prices (internal/ai/openai DefaultPrices) and
-- Replicate's default image model, disabled until an operator enables them.
INSERT INTO ai_models (provider, model, kind, display_name, enabled, structured_output) VALUES
    ('offline', 'offline-writer-v1', 'chat', 'Offline writer', true, true),
    ('offline', 'offline-wordnet-v1', 'embeddings', 'Offline embeddings (WordNet)', true, false),
    ('offline', 'offline-image-v1', 'image', 'Offline image', true, false);

INSERT INTO ai_models (provider, model, kind, display_name, enabled, price_input_per_mtok, price_output_per_mtok,
                       structured_output) VALUES
    ('openai', 'gpt-4o-mini', 'chat', 'GPT-4o mini', false, 0.15, 0.60, true),
    ('openai', 'gpt-4o', 'chat', 'GPT-4o', false, 2.50, 10.00, true),
    ('openai', 'gpt-4.1', 'chat', 'GPT-4.1', false, 2.00, 8.00, true),
    ('openai', 'gpt-4.1-mini', 'chat', 'GPT-4.1 mini', false, 0.40, 1.60, true),
    ('openai', 'gpt-4.1-nano', 'chat', 'GPT-4.1 nano', false, 0.10, 0.40, true),
    ('openai', 'text-embedding-3-small', 'embeddings', 'OpenAI embeddings 3 small', false, 0.02, 0, false),
    ('openai', 'text-embedding-3-large', 'embeddings', 'OpenAI embeddings 3 large', false, 0.13, 0, false),
    ('openai', 'text-embedding-ada-002', 'embeddings', 'OpenAI embeddings ada 002', false, 0.10, 0, false);

INSERT INTO ai_models (provider, model, kind, display_name, enabled, price_per_image) VALUES
    ('replicate', 'black-forest-labs/flux-schnell', 'image', 'FLUX.1 schnell', false, 0.003);

INSERT INTO ai_stage_routes (stage, model_id)
SELECT s.stage, m.id
FROM (VALUES ('cluster_name', 'chat'), ('ideas', 'chat'), ('draft', 'chat'), ('image_prompt', 'chat'),
             ('embeddings', 'embeddings'), ('images', 'image')) AS s(stage, kind)
JOIN ai_models m ON m.provider = 'offline' AND m.kind = s.kind;

-- +goose Down
DROP TABLE tenant_stage_models;
DROP TABLE ai_stage_routes;
DROP TABLE ai_models;
