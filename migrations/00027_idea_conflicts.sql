-- +goose Up
-- idea_conflicts: ideas the ideas stage refused because the site already
-- has an idea (or article) for the same query (#22, no cannibalization):
-- the same primary keyword, or a title that means the same (embedding
-- similarity over the threshold). The refused idea is kept whole, so an
-- editor can see what was proposed and why it was refused.
CREATE TABLE idea_conflicts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    cluster_id      bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    job_id          text NOT NULL,
    title           text NOT NULL,
    content_type    text NOT NULL,
    target_keywords text[] NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('same_primary_keyword', 'similar_title')),
    similarity      real,
    -- the idea it duplicates: an earlier idea of the site, or NULL when it
    -- duplicates another idea of the same answer (conflicting_title says which)
    conflicts_with  bigint REFERENCES ideas (id) ON DELETE SET NULL,
    conflicting_title text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idea_conflicts_site ON idea_conflicts (site_id, id);

-- +goose Down
DROP TABLE idea_conflicts;
