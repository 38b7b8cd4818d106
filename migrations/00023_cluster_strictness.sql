-- +goose Up
-- sites: how strictly keywords are grouped into clusters (#21): strict keeps
-- clusters tight and leaves more keywords out, inclusive places more
-- keywords at some cost in precision; balanced is the default.
ALTER TABLE sites ADD COLUMN clustering text NOT NULL DEFAULT 'balanced'
    CHECK (clustering IN ('strict', 'balanced', 'inclusive'));

-- +goose Down
ALTER TABLE sites DROP COLUMN clustering;
