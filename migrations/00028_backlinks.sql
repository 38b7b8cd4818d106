-- +goose Up
-- sites.backlinks: after a post is published, how many older Presswork
-- posts of the site on the closest topics get a link to it (#22); 0 is
-- off.
ALTER TABLE sites ADD COLUMN backlinks integer NOT NULL DEFAULT 0 CHECK (backlinks BETWEEN 0 AND 10);

-- backlinks: each older post (from) that got a link to a newly published
-- one (to), recorded right after WordPress stored the update (or after
-- finding the link already there): a post:backlinks job skips the pairs
-- recorded, and one retried after an update whose record was lost finds
-- the link in the post and only records it, so each post is linked once.
CREATE TABLE backlinks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    from_draft_id bigint NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    to_draft_id   bigint NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    wp_post_id    bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (from_draft_id, to_draft_id)
);
CREATE INDEX backlinks_to ON backlinks (tenant_id, to_draft_id);

-- +goose Down
DROP TABLE backlinks;
ALTER TABLE sites DROP COLUMN backlinks;
