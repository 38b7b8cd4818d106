-- +goose Up
-- Bulk at half price (#23): a job whose model call goes through a
-- provider's Batch API (OpenAI, Azure OpenAI) waits in the state batched.
-- It is in flight like a queued or running job (one per subject, its quote
-- reserved), but it is not on the queue, so the reconciler leaves it
-- alone: the ai:batch task owns it until its line's answer is in, then
-- puts it back on the queue, answer checkpointed, to be completed through
-- the ordinary validation and repair path.
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'blocked', 'batched'));

DROP INDEX jobs_one_inflight;
CREATE UNIQUE INDEX jobs_one_inflight ON jobs (type, subject_id) WHERE state IN ('queued', 'running', 'batched');
DROP INDEX jobs_rule_unfinished;
CREATE INDEX jobs_rule_unfinished ON jobs (rule_id)
    WHERE rule_id IS NOT NULL AND state IN ('queued', 'running', 'batched');
DROP INDEX jobs_batch_unfinished;
CREATE INDEX jobs_batch_unfinished ON jobs (batch_id)
    WHERE state IN ('queued', 'running', 'batched') AND batch_id IS NOT NULL;
DROP INDEX jobs_unsucceeded_subject;
CREATE INDEX jobs_unsucceeded_subject ON jobs (subject_id, type)
    WHERE state IN ('queued', 'running', 'batched', 'blocked', 'failed', 'canceled');

-- ai_batches: one provider batch (one JSONL file of one model, under one
-- credential: the server's, or a tenant's own key when tenant_id is set).
-- The row is written with state 'creating' before the provider is asked
-- to create anything: it is the intent. Its id is sent as the batch's
-- metadata (presswork_group), so a task resumed after a crash between the
-- upload and the create finds the batch the provider made (listing batches
-- created since intent_at) instead of making a second one. The provider's
-- ids and its own status and counts are copied in as they are learned;
-- state 'ended' once every line's job has left the batched state.
CREATE TABLE ai_batches (
    id                text PRIMARY KEY,
    tenant_id         bigint REFERENCES tenants (id) ON DELETE CASCADE,
    provider          text NOT NULL,
    model             text NOT NULL,
    state             text NOT NULL DEFAULT 'creating' CHECK (state IN ('creating', 'submitted', 'ended')),
    input_file_id     text,
    provider_batch_id text,
    provider_status   text,
    total             integer NOT NULL DEFAULT 0,
    completed         integer NOT NULL DEFAULT 0,
    failed            integer NOT NULL DEFAULT 0,
    cancel_requested  boolean NOT NULL DEFAULT false,
    error             text,
    intent_at         timestamptz NOT NULL DEFAULT now(),
    submitted_at      timestamptz,
    polled_at         timestamptz,
    ended_at          timestamptz
);
CREATE INDEX ai_batches_open ON ai_batches (polled_at NULLS FIRST) WHERE state <> 'ended';

-- jobs.ai_batch_id: the provider batch that carries a batched job's line
-- (NULL while it waits to be grouped). A job keeps it after it leaves the
-- batch, to show which batch served it.
ALTER TABLE jobs ADD COLUMN ai_batch_id text REFERENCES ai_batches (id) ON DELETE SET NULL;
CREATE INDEX jobs_ai_batch ON jobs (ai_batch_id) WHERE ai_batch_id IS NOT NULL;
CREATE INDEX jobs_batched_waiting ON jobs (created_at, id) WHERE state = 'batched' AND ai_batch_id IS NULL;

-- +goose Down
-- Batched jobs go back to the ordinary queue (the reconciler delivers them).
UPDATE jobs SET state = 'queued', phase = 'queued', updated_at = now() WHERE state = 'batched';
ALTER TABLE jobs DROP COLUMN ai_batch_id;
DROP TABLE ai_batches;
DROP INDEX jobs_unsucceeded_subject;
CREATE INDEX jobs_unsucceeded_subject ON jobs (subject_id, type)
    WHERE state IN ('queued', 'running', 'blocked', 'failed', 'canceled');
DROP INDEX jobs_batch_unfinished;
CREATE INDEX jobs_batch_unfinished ON jobs (batch_id) WHERE state IN ('queued', 'running') AND batch_id IS NOT NULL;
DROP INDEX jobs_rule_unfinished;
CREATE INDEX jobs_rule_unfinished ON jobs (rule_id) WHERE rule_id IS NOT NULL AND state IN ('queued', 'running');
DROP INDEX jobs_one_inflight;
CREATE UNIQUE INDEX jobs_one_inflight ON jobs (type, subject_id) WHERE state IN ('queued', 'running');
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'blocked'));
