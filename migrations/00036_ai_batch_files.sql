-- +goose Up
-- A provider keeps a batch's files (its input, output and error files)
-- until they are deleted (#23). Once a provider batch has ended and its
-- answers are read, the ai:batch task deletes them: the output and error
-- files are recorded when the batch ends, each file deleted is recorded
-- in files_deleted (so that a resumed pass does not delete it again), and
-- files_cleaned_at is set when none is left, or when the task gave up
-- after too many failed attempts (file_delete_error says why). A failed
-- attempt is retried after file_delete_after, later each time.
ALTER TABLE ai_batches
    ADD COLUMN output_file_id       text,
    ADD COLUMN error_file_id        text,
    ADD COLUMN files_deleted        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN files_cleaned_at     timestamptz,
    ADD COLUMN file_delete_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN file_delete_error    text,
    ADD COLUMN file_delete_after    timestamptz;
CREATE INDEX ai_batches_files_left ON ai_batches (file_delete_after NULLS FIRST)
    WHERE state = 'ended' AND files_cleaned_at IS NULL;

-- +goose Down
DROP INDEX ai_batches_files_left;
ALTER TABLE ai_batches
    DROP COLUMN output_file_id,
    DROP COLUMN error_file_id,
    DROP COLUMN files_deleted,
    DROP COLUMN files_cleaned_at,
    DROP COLUMN file_delete_attempts,
    DROP COLUMN file_delete_error,
    DROP COLUMN file_delete_after;
