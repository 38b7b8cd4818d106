-- +goose Up
-- clusters.locked: the editor has locked the cluster against automatic
-- changes. Clustering and re-clustering (the worker, automation) must not
-- rename it, merge it, split it or move keywords into or out of it; the
-- store refuses such an edit by automation with a conflict. A user may
-- still edit a locked cluster: locking protects the cluster from the
-- algorithm, not from its editor.
-- clusters.edited: a user changed the cluster's keywords or merged
-- another into it (or split it off). A full re-cluster keeps edited
-- clusters as they are, as it keeps locked ones.
ALTER TABLE clusters
    ADD COLUMN locked boolean NOT NULL DEFAULT false,
    ADD COLUMN edited boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE clusters DROP COLUMN locked, DROP COLUMN edited;
