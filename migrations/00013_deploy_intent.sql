-- +goose Up
-- What the running deploy action of a deployment asked the panel, recorded
-- before it asks (issue #17): a worker killed between the panel accepting
-- services.app.updateDeploy and Presswork recording it finds the intent on
-- resume and looks at the panel's deploys instead of starting a second one.
--
-- One row per deployment, owned by the job (job_id) of the latest action
-- that triggers a deploy or waits for the app to run. before_action and
-- before_at name the newest deploy the panel had before the call ('' for
-- none): a deploy newer than it is this job's. accepted_at is set once the
-- panel accepted the call. wait_deadline is the one deadline of the wait
-- for the app to run, set when the wait starts, so a retried attempt waits
-- on to the same deadline instead of starting a new wait.
CREATE TABLE deploy_intents (
    deployment_id bigint PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id        text NOT NULL,
    action        text NOT NULL,
    before_action text NOT NULL DEFAULT '',
    before_at     text NOT NULL DEFAULT '',
    accepted_at   timestamptz,
    wait_deadline timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE deploy_intents;
