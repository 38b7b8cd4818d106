-- +goose Up
-- Publishing to WordPress.
--
-- sites: the REST style found by discovery (pretty /wp-json/ or the
-- ?rest_route= fallback) is remembered; health is what the last connection
-- check or publish found, with a reason a person can act on. A site may
-- require review before publishing, name the SEO plugin whose fields are
-- sent, ask for in-article images, and give default categories.
ALTER TABLE sites
    ADD COLUMN rest_style         text CHECK (rest_style IN ('pretty', 'query')),
    ADD COLUMN health             text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'unhealthy')),
    ADD COLUMN health_reason      text NOT NULL DEFAULT '',
    ADD COLUMN checked_at         timestamptz,
    ADD COLUMN require_review     boolean NOT NULL DEFAULT false,
    ADD COLUMN seo_plugin         text NOT NULL DEFAULT 'none' CHECK (seo_plugin IN ('none', 'yoast', 'rankmath')),
    ADD COLUMN inline_images      integer NOT NULL DEFAULT 0 CHECK (inline_images BETWEEN 0 AND 5),
    ADD COLUMN default_categories text[] NOT NULL DEFAULT '{}';

-- drafts: status is the editorial state (draft, awaiting_review, approved,
-- published). categories and tags are names (empty: the cluster's name and
-- the focus keyword). publish_request holds the options of a publish that
-- waits for review. wp_* is what WordPress answered; wp_post_id is written
-- right after the remote create, before any further step, so that a retry
-- updates that post instead of making another.
ALTER TABLE drafts
    ADD COLUMN categories      text[] NOT NULL DEFAULT '{}',
    ADD COLUMN tags            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN publish_request jsonb,
    ADD COLUMN wp_post_id      bigint,
    ADD COLUMN wp_slug         text,
    ADD COLUMN wp_link         text,
    ADD COLUMN wp_status       text,
    ADD COLUMN published_at    timestamptz,
    ADD COLUMN publish_report  jsonb,
    ADD CONSTRAINT drafts_status CHECK (status IN ('draft', 'awaiting_review', 'approved', 'published'));

-- images: besides the featured image, a draft may have in-article images,
-- each placed after one of its headings (position 1..N). wp_media_id is
-- written right after the upload.
ALTER TABLE images DROP CONSTRAINT images_role_check;
ALTER TABLE images DROP CONSTRAINT images_draft_id_role_key;
ALTER TABLE images
    ADD COLUMN position    integer NOT NULL DEFAULT 0,
    ADD COLUMN heading     text NOT NULL DEFAULT '',
    ADD COLUMN wp_media_id bigint,
    ADD CONSTRAINT images_role CHECK ((role = 'featured' AND position = 0) OR (role = 'inline' AND position BETWEEN 1 AND 5)),
    ADD CONSTRAINT images_draft_role_position UNIQUE (draft_id, role, position);

-- +goose Down
ALTER TABLE images DROP CONSTRAINT images_draft_role_position;
ALTER TABLE images DROP CONSTRAINT images_role;
DELETE FROM images WHERE role <> 'featured';
ALTER TABLE images DROP COLUMN wp_media_id, DROP COLUMN heading, DROP COLUMN position;
ALTER TABLE images ADD CONSTRAINT images_role_check CHECK (role IN ('featured')),
    ADD CONSTRAINT images_draft_id_role_key UNIQUE (draft_id, role);
ALTER TABLE drafts DROP CONSTRAINT drafts_status,
    DROP COLUMN publish_report, DROP COLUMN published_at, DROP COLUMN wp_status, DROP COLUMN wp_link,
    DROP COLUMN wp_slug, DROP COLUMN wp_post_id, DROP COLUMN publish_request, DROP COLUMN tags, DROP COLUMN categories;
ALTER TABLE sites DROP COLUMN default_categories, DROP COLUMN inline_images, DROP COLUMN seo_plugin,
    DROP COLUMN require_review, DROP COLUMN checked_at, DROP COLUMN health_reason, DROP COLUMN health,
    DROP COLUMN rest_style;
