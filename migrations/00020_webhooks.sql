-- +goose Up
-- events: the outbox of what happened to a tenant's objects (job.failed,
-- batch.finished, draft.ready, ...), written in the transaction of the
-- change it reports, so that no event is lost or invented when a process
-- dies. Webhook deliveries and GET /v1/events read it.
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL,
    subject    text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_tenant ON events (tenant_id, id);

-- webhooks: a tenant's HTTPS endpoints and the event types each receives.
-- secret is sealed with the app's secret box (bound to the tenant).
-- failing_since is the time of the first failed delivery since the last
-- success; an endpoint failing for a day is disabled.
CREATE TABLE webhooks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url           text NOT NULL,
    events        text[] NOT NULL,
    secret_enc    bytea NOT NULL,
    enabled       boolean NOT NULL DEFAULT true,
    failing_since timestamptz,
    disabled_reason text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, id);

-- webhook_deliveries: one event for one endpoint. attempts counts the
-- sends handed to a worker; next_attempt_at is when the dispatcher hands
-- it out again (pushed past the task's time limit when it does, so an
-- interrupted send is made again); it is retried until retry_until, a day
-- after it was made or redelivered. A delivered row is never sent again
-- unless redelivered by hand.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    attempts        integer NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending'
        CONSTRAINT webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed')),
    response_code   integer,
    error           text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    retry_until     timestamptz NOT NULL DEFAULT now() + interval '1 day',
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- jobs_batch_unfinished: whether a batch still has unfinished jobs, asked
-- at every job's end (batch.finished), without reading the batch's
-- finished jobs.
CREATE INDEX jobs_batch_unfinished ON jobs (batch_id) WHERE state IN ('queued', 'running') AND batch_id IS NOT NULL;

-- +goose Down
DROP INDEX jobs_batch_unfinished;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE events;
