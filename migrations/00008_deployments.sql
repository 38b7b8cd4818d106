-- +goose Up
-- Deploying tenant sites through Easypanel.
--
-- panel_credentials: a tenant's own panel (password sealed with the
-- secret box). deployments: one per site; the service names are chosen
-- once, stored before anything is created, and reused by every later
-- action (never recomputed); step is the last deploy step that finished,
-- so a retried job continues from there. The database passwords and the
-- user's environment are sealed. deployment_log keeps what each action
-- did; detail (the panel's reply, secrets masked) is for operators only.
CREATE TABLE panel_credentials (
    tenant_id    bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    url          text NOT NULL,
    email        text NOT NULL,
    password_enc bytea NOT NULL,
    project      text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deployments (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id            bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id              bigint NOT NULL UNIQUE REFERENCES sites (id) ON DELETE CASCADE,
    panel                text NOT NULL CHECK (panel IN ('tenant', 'operator')),
    project              text NOT NULL,
    app_service          text,
    db_service           text,
    db_name              text,
    db_user              text,
    db_password_enc      bytea,
    db_root_password_enc bytea,
    source               jsonb NOT NULL,
    env_enc              bytea,
    domain               text NOT NULL,
    https                boolean NOT NULL DEFAULT true,
    step                 text NOT NULL DEFAULT 'none' CHECK (step IN ('none', 'names_chosen', 'database_created',
                             'app_created', 'domain_set', 'deploy_triggered', 'running')),
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'deploying', 'running',
                             'stopped', 'failed', 'destroyed')),
    error                text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((app_service IS NULL) = (db_service IS NULL))
);
CREATE INDEX deployments_tenant ON deployments (tenant_id, id);

CREATE TABLE deployment_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id bigint NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id        text NOT NULL,
    action        text NOT NULL,
    step          text NOT NULL,
    message       text NOT NULL,
    detail        text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployment_log_deployment ON deployment_log (deployment_id, id);

-- +goose Down
DROP TABLE deployment_log;
DROP TABLE deployments;
DROP TABLE panel_credentials;
