-- +goose Up
-- images holds a draft's generated images and their bytes: Presswork keeps
-- its own copy, because providers delete their outputs after a while. A row
-- is written pending by the job's first attempt with the prompt and alt
-- text; prediction_id is stored the moment a remote prediction exists, so
-- that a retried job resumes it instead of paying for another; the bytes
-- and the job's settlement are committed together, when the row turns ready.
CREATE TABLE images (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    draft_id      bigint NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    job_id        text NOT NULL,
    role          text NOT NULL CHECK (role IN ('featured')),
    prompt        text NOT NULL,
    alt_text      text NOT NULL,
    model         text,
    prediction_id text,
    content_type  text,
    size_bytes    integer,
    width         integer,
    height        integer,
    sha256        bytea,
    data          bytea,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (draft_id, role),
    CHECK (state = 'pending' OR (data IS NOT NULL AND content_type IS NOT NULL AND sha256 IS NOT NULL))
);
CREATE INDEX images_tenant ON images (tenant_id, id);

-- +goose Down
DROP TABLE images;
