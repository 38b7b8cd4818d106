-- +goose Up
CREATE TABLE tenants (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug           text NOT NULL UNIQUE,
    name           text NOT NULL,
    plan           text NOT NULL CHECK (plan IN ('free', 'starter', 'pro', 'agency')),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    credit_balance bigint NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Operator keys have no tenant; every other role belongs to exactly one.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint REFERENCES tenants (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'bot', 'operator')),
    name         text NOT NULL,
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE sites (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             text NOT NULL,
    url              text NOT NULL,
    wp_user          text NOT NULL,
    app_password_enc bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_tenant ON sites (tenant_id, id);

CREATE TABLE clusters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    job_id        text NOT NULL,
    name          text NOT NULL,
    description   text NOT NULL,
    keyword_count integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clusters_site ON clusters (site_id, id);

-- norm is the case- and space-folded phrase: the uniqueness key of a keyword.
CREATE TABLE keywords (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id    bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    phrase     text NOT NULL,
    norm       text NOT NULL,
    volume     integer CHECK (volume >= 0),
    difficulty smallint CHECK (difficulty BETWEEN 0 AND 100),
    intent     text CHECK (intent IN ('informational', 'navigational', 'commercial', 'transactional')),
    cluster_id bigint REFERENCES clusters (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, norm)
);
CREATE INDEX keywords_unclustered ON keywords (site_id, id) WHERE cluster_id IS NULL;
CREATE INDEX keywords_cluster ON keywords (cluster_id) WHERE cluster_id IS NOT NULL;

CREATE TABLE ideas (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    cluster_id      bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    job_id          text NOT NULL,
    title           text NOT NULL,
    content_type    text NOT NULL,
    target_keywords text[] NOT NULL,
    outline         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ideas_cluster ON ideas (cluster_id, id);
CREATE INDEX ideas_site ON ideas (site_id, id);

CREATE TABLE drafts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id          bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    idea_id          bigint NOT NULL UNIQUE REFERENCES ideas (id) ON DELETE CASCADE,
    job_id           text NOT NULL,
    title            text NOT NULL,
    slug             text NOT NULL,
    excerpt          text NOT NULL,
    meta_title       text NOT NULL,
    meta_description text NOT NULL,
    focus_keyword    text NOT NULL,
    body_html        text NOT NULL,
    word_count       integer NOT NULL,
    status           text NOT NULL DEFAULT 'draft',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drafts_site ON drafts (site_id, id);

CREATE TABLE batches (
    id         text PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL,
    total      integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- jobs is the durable record of every task; id is the asynq task id.
CREATE TABLE jobs (
    id               text PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type             text NOT NULL,
    queue            text NOT NULL,
    site_id          bigint NOT NULL,
    subject_id       bigint NOT NULL,
    batch_id         text REFERENCES batches (id) ON DELETE SET NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    state            text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'blocked')),
    phase            text NOT NULL DEFAULT 'queued',
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    credits_quoted   bigint NOT NULL DEFAULT 0,
    credits_reserved bigint NOT NULL DEFAULT 0,
    credits_charged  bigint NOT NULL DEFAULT 0,
    model            text,
    tokens_in        integer NOT NULL DEFAULT 0,
    tokens_out       integer NOT NULL DEFAULT 0,
    cost_usd         numeric(14, 6) NOT NULL DEFAULT 0,
    result           jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX jobs_tenant ON jobs (tenant_id, created_at DESC, id);
CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX jobs_unfinished ON jobs (updated_at) WHERE state IN ('queued', 'running');
-- At most one unfinished job of a type per subject: a second request for the
-- same work while the first is in flight is refused instead of paid twice.
CREATE UNIQUE INDEX jobs_one_inflight ON jobs (type, subject_id) WHERE state IN ('queued', 'running');

-- credit_ledger is append-only: the sum of a tenant's deltas is its balance.
CREATE TABLE credit_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id        text,
    kind          text NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'refund')),
    delta         bigint NOT NULL,
    balance_after bigint NOT NULL,
    note          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_ledger_tenant ON credit_ledger (tenant_id, id);
CREATE UNIQUE INDEX credit_ledger_job_kind ON credit_ledger (job_id, kind) WHERE job_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    status      integer,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint REFERENCES tenants (id) ON DELETE CASCADE,
    key_id     bigint,
    action     text NOT NULL,
    target     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- +goose Down
DROP TABLE audit_log, idempotency_keys, credit_ledger, jobs, batches, drafts, ideas, keywords, clusters, sites, api_keys, tenants;
