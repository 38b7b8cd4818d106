-- +goose Up
-- Billing through Stripe (#26). Without Stripe keys these tables stay empty
-- and operators grant credits as before.

-- plans: what each of the tenant plans (tenants.plan) sells through Stripe.
-- A plan without a row, or without a price, is not for sale. bulk_inflight
-- is the plan's fair-share room (NULL: BULK_INFLIGHT's number for it).
CREATE TABLE plans (
    name            text PRIMARY KEY CHECK (name IN ('free', 'starter', 'pro', 'agency')),
    stripe_price_id text UNIQUE,
    monthly_credits bigint NOT NULL DEFAULT 0 CHECK (monthly_credits BETWEEN 0 AND 1000000000),
    bulk_inflight   integer CHECK (bulk_inflight BETWEEN 1 AND 10000),
    description     text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- credit_packs: one-off purchases of credits.
CREATE TABLE credit_packs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL,
    stripe_price_id text NOT NULL UNIQUE,
    credits         bigint NOT NULL CHECK (credits BETWEEN 1 AND 1000000000),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- billing_accounts: a tenant's Stripe customer (created once) and the
-- state of its subscription as the newest Stripe object seen says
-- (subscription_at: the creation time of the event that set it; an older
-- event changes nothing). past_due_since starts the grace period after a
-- failed payment; billing_suspended says the suspension is billing's, so
-- that a payment lifts it and nothing else's.
CREATE TABLE billing_accounts (
    tenant_id            bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id          text NOT NULL UNIQUE,
    subscription_id      text UNIQUE,
    subscription_status  text NOT NULL DEFAULT '',
    subscription_plan    text,
    current_period_end   timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    subscription_at      timestamptz,
    past_due_since       timestamptz,
    billing_suspended    boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- stripe_events: every verified webhook event, stored by its id before it
-- is applied; applied_at is set in the transaction that applies it, so an
-- event applies once however often it is delivered or its task retried.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    created     timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz,
    outcome     text NOT NULL DEFAULT ''
);
CREATE INDEX stripe_events_unapplied ON stripe_events (received_at) WHERE applied_at IS NULL;

-- billing_payments: money received (a paid invoice or a credit pack's
-- checkout), what it granted and what refunds took back. Revenue is
-- amount_cents - refunded_cents; credits_unrecovered is what a refund could
-- not take back because the tenant had spent it.
CREATE TABLE billing_payments (
    id                  text PRIMARY KEY,
    tenant_id           bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (kind IN ('invoice', 'pack')),
    payment_intent      text UNIQUE,
    amount_cents        bigint NOT NULL CHECK (amount_cents >= 0),
    currency            text NOT NULL,
    credits             bigint NOT NULL CHECK (credits >= 0),
    refunded_cents      bigint NOT NULL DEFAULT 0,
    credits_taken_back  bigint NOT NULL DEFAULT 0,
    credits_unrecovered bigint NOT NULL DEFAULT 0,
    paid_at             timestamptz NOT NULL
);
CREATE INDEX billing_payments_tenant ON billing_payments (tenant_id, paid_at);

-- A refund takes credits back as a 'clawback' ledger row.
ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check;
ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
    CHECK (kind IN ('grant', 'reserve', 'settle', 'refund', 'clawback'));

-- +goose Down
DELETE FROM credit_ledger WHERE kind = 'clawback';
ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check;
ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
    CHECK (kind IN ('grant', 'reserve', 'settle', 'refund'));
DROP TABLE billing_payments, stripe_events, billing_accounts, credit_packs, plans;
