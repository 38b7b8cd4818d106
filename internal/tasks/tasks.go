// Package tasks is the contract of Presswork's asynq tasks: their type
// names, the payload every task carries (ids only), the parameters a job
// row holds for its worker, the stage vocabulary and the cost formulas the
// API quotes with. PostgreSQL is the source of truth: a task only delivers
// a job id. The workers are package worker's; the queues, each type's
// retries and time limit, and the way jobs reach the queue are package
// jobs'. The panel check (panelcheck.go) is no job: it has no row and the
// API reads its result; its queue and task options are package jobs' too.
package tasks

// Task types.
const (
	TypeCluster = "keywords:cluster"
	TypeIdeas   = "ideas:generate"
	TypeDraft   = "draft:write"
	TypeImage   = "image:generate"
	TypePublish = "post:publish"
	TypeCheck   = "site:check"
	// TypeAutomation is an automation rule's run: it plans the rule's work
	// from PostgreSQL and submits it.
	TypeAutomation = "automation:run"
	// TypeDeploy is an action on a site's deployment through Easypanel.
	TypeDeploy = "site:deploy"
	// TypeLinks refreshes a site's link inventory from WordPress.
	TypeLinks = "site:links"
	// TypeBacklinks adds a link to a post just published (the subject is
	// its draft) to the older Presswork posts of its site closest to it.
	TypeBacklinks = "post:backlinks"
)

// Payload is every task's payload: ids only, and the delivery number of
// the job the task delivers (0 for its first delivery; a job delivered
// again because its worker was lost has a new one, and a task of an
// earlier delivery does nothing).
type Payload struct {
	TenantID  int64  `json:"tenant_id"`
	JobID     string `json:"job_id"`
	SubjectID int64  `json:"subject_id"`
	Delivery  int    `json:"delivery,omitempty"`
}
