-- +goose Up
-- embedding_cache: a tenant's text vectors by embedding model (its name and
-- dimensions) and the SHA-256 of the text, so that a retried or later
-- clustering embeds only the texts it has not paid for. vector is the
-- little-endian float32 values.
CREATE TABLE embedding_cache (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model      text NOT NULL,
    text_hash  bytea NOT NULL,
    vector     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model, text_hash)
);

-- job_checkpoints: what an unfinished job's attempts already have (a
-- clustering's grouping and each cluster's name, an ideas or draft
-- answer), so that a retry resumes instead of paying again. A job's
-- checkpoints go when it ends.
CREATE TABLE job_checkpoints (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id     text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step       text NOT NULL,
    value      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, step)
);

-- clusters.name_source: who named the cluster: the model, the fallback
-- (the model gave no usable name, so the cluster is named after its most
-- central keyword) or a user (renamed).
ALTER TABLE clusters ADD COLUMN name_source text NOT NULL DEFAULT 'model'
    CONSTRAINT clusters_name_source CHECK (name_source IN ('model', 'fallback', 'user'));

-- +goose Down
ALTER TABLE clusters DROP COLUMN name_source;
DROP TABLE job_checkpoints;
DROP TABLE embedding_cache;
