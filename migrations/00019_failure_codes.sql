-- +goose Up
-- jobs: the last failure's stable code beside its words (last_error), and
-- for a job waiting to retry, when the next attempt is due and how many
-- retries remain after it. A success clears them; a start clears retry_at.
ALTER TABLE jobs
    ADD COLUMN error_code   text,
    ADD COLUMN retry_at     timestamptz,
    ADD COLUMN retries_left integer CHECK (retries_left >= 0);

-- sites: the code of an unhealthy site's reason (health_reason), from its
-- last check or a publish that failed on the site itself.
ALTER TABLE sites ADD COLUMN health_code text;

-- +goose Down
ALTER TABLE sites DROP COLUMN health_code;
ALTER TABLE jobs DROP COLUMN retries_left, DROP COLUMN retry_at, DROP COLUMN error_code;
