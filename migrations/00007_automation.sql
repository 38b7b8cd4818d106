-- +goose Up
-- Automation rules and their runs (they replace WordPress CRON).
--
-- A rule runs some stages of the pipeline for one site on a schedule (a
-- robfig/cron spec read in the rule's time zone). next_fire_at is when it
-- fires next (NULL while disabled): the scheduler's leader fires the rules
-- whose time has come and moves next_fire_at past now, so a long outage
-- gives one catch-up run, not one per missed slot.
CREATE TABLE automation_rules (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id           bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name              text NOT NULL,
    schedule          text NOT NULL,
    timezone          text NOT NULL DEFAULT 'UTC',
    stages            text[] NOT NULL CHECK (cardinality(stages) > 0
                          AND stages <@ ARRAY['cluster', 'ideas', 'drafts', 'images', 'publish']),
    ideas_per_cluster integer NOT NULL DEFAULT 3 CHECK (ideas_per_cluster BETWEEN 1 AND 10),
    auto_approve      boolean NOT NULL DEFAULT false,
    max_items         integer NOT NULL CHECK (max_items > 0),
    max_credits       bigint CHECK (max_credits >= 0),
    conditions        jsonb NOT NULL DEFAULT '[]',
    enabled           boolean NOT NULL DEFAULT true,
    next_fire_at      timestamptz,
    last_fired_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, name),
    CHECK (enabled = (next_fire_at IS NOT NULL))
);
CREATE INDEX automation_rules_tenant ON automation_rules (tenant_id, id);
CREATE INDEX automation_rules_due ON automation_rules (next_fire_at) WHERE enabled;

-- A run is one firing of a rule (scheduled or started by hand). id is the
-- id of its automation:run job; (rule_id, scheduled_for) is unique, so a
-- firing is recorded once however many schedulers saw it.
CREATE TABLE automation_runs (
    id            text PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule_id       bigint NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
    trigger       text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    scheduled_for timestamptz NOT NULL,
    fired_at      timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'skipped', 'failed')),
    enqueued      jsonb NOT NULL DEFAULT '[]',
    skipped       jsonb NOT NULL DEFAULT '[]',
    credits_quoted bigint NOT NULL DEFAULT 0,
    finished_at   timestamptz,
    UNIQUE (rule_id, scheduled_for)
);
CREATE INDEX automation_runs_rule ON automation_runs (rule_id, scheduled_for DESC);
CREATE INDEX automation_runs_finished ON automation_runs (finished_at) WHERE finished_at IS NOT NULL;

-- jobs a rule's run created carry the rule, so the next run counts what is
-- still unfinished and only tops up to the cap.
ALTER TABLE jobs ADD COLUMN rule_id bigint;
CREATE INDEX jobs_rule_unfinished ON jobs (rule_id) WHERE rule_id IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- A disabled site is left alone by automation.
ALTER TABLE sites ADD COLUMN enabled boolean NOT NULL DEFAULT true;

-- +goose Down
ALTER TABLE sites DROP COLUMN enabled;
DROP INDEX jobs_finished;
DROP INDEX jobs_rule_unfinished;
ALTER TABLE jobs DROP COLUMN rule_id;
DROP TABLE automation_runs;
DROP TABLE automation_rules;
