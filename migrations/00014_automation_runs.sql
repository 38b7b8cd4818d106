-- +goose Up
-- Automation runs that repeat, runs that never happened, and keywords
-- clustering could not group.
--
-- A scheduled run skipped for the same reasons as the rule's previous
-- record is folded into that record: count says how many slots it stands
-- for and last_scheduled_for / last_fired_at when the latest of them was
-- due and fired. A 'missed' record names the slots an outage of the
-- scheduler left unfired (count of them, from scheduled_for to
-- last_scheduled_for); the catch-up run stood for them.
ALTER TABLE automation_runs
    ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_scheduled_for timestamptz,
    ADD COLUMN last_fired_at timestamptz,
    DROP CONSTRAINT automation_runs_status_check,
    ADD CONSTRAINT automation_runs_status_check
        CHECK (status IN ('queued', 'done', 'skipped', 'failed', 'missed'));

-- outlier_job is the clustering job that left the keyword ungrouped. Once
-- that job has succeeded, automation does not cluster the site again for
-- such keywords alone: only when a keyword arrives that no clustering has
-- seen, or when clustering is started by hand (POST
-- /v1/sites/:id/clustering clusters every unclustered keyword).
ALTER TABLE keywords ADD COLUMN outlier_job text;
CREATE INDEX keywords_unseen ON keywords (site_id) WHERE cluster_id IS NULL AND outlier_job IS NULL;
CREATE INDEX jobs_unsucceeded_subject ON jobs (subject_id, type)
    WHERE state IN ('queued', 'running', 'blocked', 'failed', 'canceled');

-- +goose Down
DROP INDEX jobs_unsucceeded_subject;
DROP INDEX keywords_unseen;
ALTER TABLE keywords DROP COLUMN outlier_job;
DELETE FROM automation_runs WHERE status = 'missed';
ALTER TABLE automation_runs
    DROP CONSTRAINT automation_runs_status_check,
    ADD CONSTRAINT automation_runs_status_check
        CHECK (status IN ('queued', 'done', 'skipped', 'failed')),
    DROP COLUMN last_fired_at,
    DROP COLUMN last_scheduled_for,
    DROP COLUMN count;
