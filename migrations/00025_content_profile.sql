-- +goose Up
-- The content profile (#22): how a site's articles are written (language,
-- voice, audience, point of view, words to avoid, word targets by content
-- type, FAQ, table of contents, key takeaways). Only the fields a site or
-- tenant sets are stored; a site's unset field takes the tenant's, a
-- tenant's the built-in default. The API validates the documents
-- (ai.ProfileSettings); the database only insists on an object.
ALTER TABLE sites ADD COLUMN content_profile jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(content_profile) = 'object');
ALTER TABLE tenants ADD COLUMN content_profile jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(content_profile) = 'object');

-- +goose Down
ALTER TABLE tenants DROP COLUMN content_profile;
ALTER TABLE sites DROP COLUMN content_profile;
