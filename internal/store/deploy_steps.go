package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeployIntent is what the latest deploy action of a deployment asked the
// panel (deploy_intents): recorded before the call, so that a resumed job
// looks at the panel instead of asking twice.
type DeployIntent struct {
	DeploymentID int64
	JobID        string
	Action       string
	// BeforeAction and BeforeAt name the newest deploy the panel had before
	// the call ("" for none): a newer one is the job's.
	BeforeAction string
	BeforeAt     string
	Accepted     bool
	// WaitDeadline is the end of the wait for the app to run; zero until
	// the wait starts.
	WaitDeadline time.Time
}

// GetDeployIntent returns a deployment's intent; not found when no action
// recorded one.
func (s *Store) GetDeployIntent(ctx context.Context, tenantID, deploymentID int64) (DeployIntent, error) {
	return scanDeployIntent(deploymentID, s.pool.QueryRow(ctx, `SELECT `+deployIntentColumns+`
		FROM deploy_intents WHERE tenant_id = $1 AND deployment_id = $2`, tenantID, deploymentID))
}

// deployIntentColumns are the columns scanDeployIntent reads.
const deployIntentColumns = `job_id, action, before_action, before_at, accepted_at IS NOT NULL, wait_deadline`

func scanDeployIntent(deploymentID int64, row pgx.Row) (DeployIntent, error) {
	in := DeployIntent{DeploymentID: deploymentID}
	var deadline *time.Time
	err := row.Scan(&in.JobID, &in.Action, &in.BeforeAction, &in.BeforeAt, &in.Accepted, &deadline)
	if deadline != nil {
		in.WaitDeadline = *deadline
	}
	return in, translate(err)
}

// RecordDeployIntent records, before the call, that job is about to ask
// the panel for a deploy, with the newest deploy the panel had; it
// replaces the intent of any earlier job (not accepted, no wait yet).
func (s *Store) RecordDeployIntent(ctx context.Context, tenantID int64, in DeployIntent) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO deploy_intents (deployment_id, tenant_id, job_id, action, before_action, before_at)
		SELECT id, tenant_id, $3, $4, $5, $6 FROM deployments WHERE tenant_id = $1 AND id = $2
		ON CONFLICT (deployment_id) DO UPDATE SET job_id = $3, action = $4, before_action = $5, before_at = $6,
		    accepted_at = NULL, wait_deadline = NULL, updated_at = now()`,
		tenantID, in.DeploymentID, in.JobID, in.Action, in.BeforeAction, in.BeforeAt)
	return translate(err)
}

// AcceptDeployIntent records that the panel accepted job's deploy.
func (s *Store) AcceptDeployIntent(ctx context.Context, tenantID, deploymentID int64, jobID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deploy_intents SET accepted_at = now(), updated_at = now()
		WHERE tenant_id = $1 AND deployment_id = $2 AND job_id = $3`, tenantID, deploymentID, jobID)
	return oneRow(tag.RowsAffected(), err)
}

// StartDeployWait starts job's wait for the app to run and returns the
// intent it waits on: its WaitDeadline is the one recorded when the job's
// wait started, or, at its start, now (the database's clock) plus wait. An
// action that triggers no deploy (start) takes the intent over from an
// earlier job, without the earlier job's BeforeAction and BeforeAt.
func (s *Store) StartDeployWait(ctx context.Context, tenantID, deploymentID int64, jobID, action string, wait time.Duration) (DeployIntent, error) {
	return scanDeployIntent(deploymentID, s.pool.QueryRow(ctx, `
		INSERT INTO deploy_intents (deployment_id, tenant_id, job_id, action, wait_deadline)
		SELECT id, tenant_id, $3, $4, now() + make_interval(secs => $5) FROM deployments WHERE tenant_id = $1 AND id = $2
		ON CONFLICT (deployment_id) DO UPDATE SET
		    wait_deadline = CASE WHEN deploy_intents.job_id = $3 AND deploy_intents.wait_deadline IS NOT NULL
		        THEN deploy_intents.wait_deadline ELSE now() + make_interval(secs => $5) END,
		    before_action = CASE WHEN deploy_intents.job_id = $3 THEN deploy_intents.before_action ELSE '' END,
		    before_at = CASE WHEN deploy_intents.job_id = $3 THEN deploy_intents.before_at ELSE '' END,
		    job_id = $3, action = $4, updated_at = now()
		RETURNING `+deployIntentColumns, tenantID, deploymentID, jobID, action, wait.Seconds()))
}

// RetargetDeployment moves a deployment on which nothing was created on
// the panel yet (step none or names_chosen) to project, forgetting its
// names (chosen free in the old project) so they are chosen again there.
// A deployment past those steps is left as it is: not found.
func (s *Store) RetargetDeployment(ctx context.Context, tenantID, id int64, project string) (Deployment, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deployments SET project = $3, app_service = NULL, db_service = NULL,
		db_name = NULL, db_user = NULL, db_password_enc = NULL, db_root_password_enc = NULL, step = 'none',
		updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND step IN ('none', 'names_chosen')`, tenantID, id, project)
	if err := oneRow(tag.RowsAffected(), err); err != nil {
		return Deployment{}, err
	}
	return s.GetDeployment(ctx, tenantID, id)
}
