-- +goose Up
-- images: an image whose job failed for good is `failed`, with the job's
-- reason in error. failures counts the failed jobs of the image and
-- failed_at is the time of the last one: automation retries a failed image
-- a bounded number of times, backing off after each failure. A retry turns
-- the row pending again and keeps its prompt, its prediction (resumed, or
-- replaced when it failed) and its failure record; a ready row clears error.
ALTER TABLE images DROP CONSTRAINT images_state_check;
ALTER TABLE images DROP CONSTRAINT images_check;
ALTER TABLE images
    ADD COLUMN error     text,
    ADD COLUMN failures  integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    ADD COLUMN failed_at timestamptz,
    ADD CONSTRAINT images_state CHECK (state IN ('pending', 'ready', 'failed')),
    ADD CONSTRAINT images_ready_data CHECK (state <> 'ready'
        OR (data IS NOT NULL AND content_type IS NOT NULL AND sha256 IS NOT NULL));

-- sites: publish_without_image lets a draft whose featured image failed be
-- published without one; otherwise such a draft waits for its image.
ALTER TABLE sites ADD COLUMN publish_without_image boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE sites DROP COLUMN publish_without_image;
UPDATE images SET state = 'pending' WHERE state = 'failed';
ALTER TABLE images DROP CONSTRAINT images_ready_data;
ALTER TABLE images DROP CONSTRAINT images_state;
ALTER TABLE images DROP COLUMN failed_at, DROP COLUMN failures, DROP COLUMN error;
ALTER TABLE images ADD CONSTRAINT images_state_check CHECK (state IN ('pending', 'ready')),
    ADD CONSTRAINT images_check CHECK (state = 'pending' OR (data IS NOT NULL AND content_type IS NOT NULL AND sha256 IS NOT NULL));
