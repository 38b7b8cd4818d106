-- +goose Up
-- clusters.centroid: the mean of the unit embedding vectors of the
-- cluster's members (#21, incremental clustering), kept so that keywords
-- imported later can join the cluster they fit instead of forming a
-- parallel one. centroid_model is the embedding model it was computed with
-- (as the embedding cache names it, "<name>/<dimensions>"): a centroid of
-- another model than the one clustering now is stale and is recomputed
-- from the members' cached vectors. centroid_size is how many members the
-- mean is over, so that joining keywords update it as a running mean.
-- A user's edit of the cluster's keywords (move, remove, merge, split)
-- clears it; the next clustering of the site recomputes it.
ALTER TABLE clusters
    ADD COLUMN centroid real[],
    ADD COLUMN centroid_model text,
    ADD COLUMN centroid_size integer,
    ADD CONSTRAINT clusters_centroid_whole CHECK (
        (centroid IS NULL) = (centroid_model IS NULL) AND (centroid IS NULL) = (centroid_size IS NULL)),
    ADD CONSTRAINT clusters_centroid_size CHECK (centroid_size > 0);

-- +goose Down
ALTER TABLE clusters DROP COLUMN centroid, DROP COLUMN centroid_model, DROP COLUMN centroid_size;
