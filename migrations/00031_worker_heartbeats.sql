-- +goose Up
-- workers: each worker process while it runs (#25). It beats every second
-- or so; a process whose beat is older than a few beats has died (SIGKILL,
-- OOM, a lost node) unless it said it stopped, and its running jobs are
-- delivered again at once instead of after asynq's lease and recoverer (60
-- to 120 s).
CREATE TABLE workers (
    id           text PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);

-- jobs.worker_id: the worker process running the job, set when an attempt
-- starts. jobs.delivery: the job's delivery number; a rescue raises it and
-- delivers the job again, and every write of a worker names the delivery
-- it holds, so a paused process that comes back writes nothing.
ALTER TABLE jobs ADD COLUMN worker_id text, ADD COLUMN delivery integer NOT NULL DEFAULT 0;
CREATE INDEX jobs_running_worker ON jobs (worker_id) WHERE state = 'running';

-- +goose Down
DROP INDEX jobs_running_worker;
ALTER TABLE jobs DROP COLUMN delivery, DROP COLUMN worker_id;
DROP TABLE workers;
