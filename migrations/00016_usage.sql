-- +goose Up
-- What each attempt of a job spent with each model (chat, embedding,
-- image), failed attempts included: GET /v1/usage sums this table. A job's
-- tokens_in, tokens_out and cost_usd are the sums of its rows here.
CREATE TABLE ai_usage (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id      text NOT NULL,
    attempt     integer NOT NULL,
    stage       text NOT NULL,
    model       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('chat', 'embedding', 'image')),
    tokens_in   bigint NOT NULL DEFAULT 0,
    tokens_out  bigint NOT NULL DEFAULT 0,
    cost_usd    numeric(14, 6) NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_usage_tenant_created ON ai_usage (tenant_id, created_at);
CREATE INDEX ai_usage_job ON ai_usage (job_id);

-- The usage of jobs finished before this table existed, as the job rows
-- recorded it (one model per job, successful attempts only).
INSERT INTO ai_usage (tenant_id, job_id, attempt, stage, model, kind, tokens_in, tokens_out, cost_usd, created_at)
SELECT tenant_id, id, greatest(attempts, 1), type, coalesce(model, ''), 'chat', tokens_in, tokens_out, cost_usd, finished_at
FROM jobs
WHERE finished_at IS NOT NULL AND (tokens_in > 0 OR tokens_out > 0 OR cost_usd > 0);

-- +goose Down
DROP TABLE ai_usage;
