package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// spec is a task type's options.
type spec struct {
	maxRetry int
	timeout  time.Duration
}

var specs = map[string]spec{
	tasks.TypeCluster: {maxRetry: 5, timeout: 30 * time.Minute},
	tasks.TypeIdeas:   {maxRetry: 8, timeout: 5 * time.Minute},
	tasks.TypeDraft:   {maxRetry: 8, timeout: 10 * time.Minute},
	tasks.TypeImage:   {maxRetry: 8, timeout: 10 * time.Minute},
	// A publish is a handful of requests; a flaky site gets many tries,
	// spaced by asynq's backoff.
	tasks.TypePublish: {maxRetry: 20, timeout: 5 * time.Minute},
	tasks.TypeCheck:   {maxRetry: 3, timeout: time.Minute},
	// A run only reads PostgreSQL and enqueues.
	tasks.TypeAutomation: {maxRetry: 10, timeout: 2 * time.Minute},
	// A deploy waits for the app to run (DEPLOY_WAIT, 10 minutes by
	// default); a panel that is down gets several tries.
	tasks.TypeDeploy: {maxRetry: 8, timeout: 20 * time.Minute},
	// A links refresh reads up to 100 pages of a site and embeds the
	// titles the cache lacks; it is safe to run again.
	tasks.TypeLinks: {maxRetry: 5, timeout: 10 * time.Minute},
	// A back-link pass reads and updates up to 10 posts; each is recorded
	// once done, so a retry does only what is left.
	tasks.TypeBacklinks: {maxRetry: 10, timeout: 5 * time.Minute},
}

// types lists the task types specs knows, in the order Types gives them.
var types = []string{tasks.TypeCluster, tasks.TypeIdeas, tasks.TypeDraft, tasks.TypeImage, tasks.TypePublish,
	tasks.TypeCheck, tasks.TypeAutomation, tasks.TypeDeploy, tasks.TypeLinks,
	tasks.TypeBacklinks}

// Types returns the task types jobs can be delivered as, the pipeline's
// first.
func Types() []string { return slices.Clone(types) }

// NewTask builds the asynq task that delivers a job. Its id is TaskID's,
// so a second enqueue of the same delivery is rejected by asynq.
func NewTask(job store.Job) (*asynq.Task, error) {
	opts, err := taskOptions(job)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(tasks.Payload{TenantID: job.TenantID, JobID: job.ID, SubjectID: job.SubjectID,
		Delivery: job.Delivery})
	if err != nil {
		return nil, fmt.Errorf("payload of job %s: %w", job.ID, err)
	}
	return asynq.NewTask(job.Type, payload, opts...), nil
}

// TaskID is the id of the asynq task of the job's current delivery: the
// job id for its first, then the job id and the delivery number ("<id>~2"),
// since a job is delivered again (its worker was lost) while asynq still
// holds the task of the delivery before.
func TaskID(job store.Job) string {
	if job.Delivery == 0 {
		return job.ID
	}
	return fmt.Sprintf("%s~%d", job.ID, job.Delivery)
}

// taskOptions are the options of a job's task: its id, its queue, and its
// type's retries and time limit.
func taskOptions(job store.Job) ([]asynq.Option, error) {
	sp, ok := specs[job.Type]
	if !ok {
		return nil, fmt.Errorf("unknown task type %q", job.Type)
	}
	return []asynq.Option{asynq.TaskID(TaskID(job)), asynq.Queue(job.Queue), asynq.MaxRetry(sp.maxRetry),
		asynq.Timeout(sp.timeout)}, nil
}
