-- +goose Up
-- link_inventory: the pages a site's articles may link to (#22): the
-- site's published posts and pages as its WordPress REST API lists them,
-- those Presswork published (source presswork, draft_id set) and the
-- others (source wordpress). Only http(s) links on the site's own host are
-- kept. A refresh replaces a site's rows in one transaction; a row written
-- after the refresh read WordPress (a publish adding its post) is kept.
-- title_hash is the SHA-256 of the title as embedded: the key of the
-- title's vector in embedding_cache (per embedding model), so the
-- inventory holds no vectors of its own.
CREATE TABLE link_inventory (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    wp_id        bigint NOT NULL CHECK (wp_id > 0),
    kind         text NOT NULL CHECK (kind IN ('post', 'page')),
    url          text NOT NULL,
    title        text NOT NULL,
    source       text NOT NULL CHECK (source IN ('presswork', 'wordpress')),
    draft_id     bigint REFERENCES drafts (id) ON DELETE SET NULL,
    title_hash   bytea NOT NULL,
    refreshed_at timestamptz NOT NULL,
    UNIQUE (site_id, wp_id)
);
CREATE INDEX link_inventory_site ON link_inventory (tenant_id, site_id, id);

-- link_refreshes: when a site's inventory was last read whole from
-- WordPress, and how many entries it kept; the scheduler refreshes the
-- sites whose refresh is older than its interval.
CREATE TABLE link_refreshes (
    site_id      bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    refreshed_at timestamptz NOT NULL,
    entries      integer NOT NULL
);

-- +goose Down
DROP TABLE link_refreshes;
DROP TABLE link_inventory;
