package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// PanelCredentials is a tenant's own Easypanel; the password is sealed.
type PanelCredentials struct {
	TenantID    int64
	URL         string
	Email       string
	PasswordEnc []byte
	Project     string
	UpdatedAt   time.Time
}

// PutPanelCredentials stores (or replaces) a tenant's panel.
func (s *Store) PutPanelCredentials(ctx context.Context, c PanelCredentials) (PanelCredentials, error) {
	err := s.pool.QueryRow(ctx, `
		INSERT INTO panel_credentials (tenant_id, url, email, password_enc, project) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id) DO UPDATE SET url = $2, email = $3, password_enc = $4, project = $5, updated_at = now()
		RETURNING updated_at`, c.TenantID, c.URL, c.Email, c.PasswordEnc, c.Project).Scan(&c.UpdatedAt)
	return c, translate(err)
}

// GetPanelCredentials returns a tenant's panel; not found when it has none.
func (s *Store) GetPanelCredentials(ctx context.Context, tenantID int64) (PanelCredentials, error) {
	c := PanelCredentials{TenantID: tenantID}
	err := s.pool.QueryRow(ctx, `SELECT url, email, password_enc, project, updated_at FROM panel_credentials
		WHERE tenant_id = $1`, tenantID).Scan(&c.URL, &c.Email, &c.PasswordEnc, &c.Project, &c.UpdatedAt)
	return c, translate(err)
}

// DeletePanelCredentials forgets a tenant's panel.
func (s *Store) DeletePanelCredentials(ctx context.Context, tenantID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM panel_credentials WHERE tenant_id = $1`, tenantID)
	return oneRow(tag.RowsAffected(), err)
}

// Deployment conflicts, each an errs.ErrConflict.
var (
	// ErrSiteDeployed: the site's deployment is pending, deploying,
	// running or stopped; it cannot be deployed anew.
	ErrSiteDeployed = fmt.Errorf("%w: the site is deployed already", errs.ErrConflict)
	// ErrDeploymentBusy: another action on the deployment is in flight.
	ErrDeploymentBusy = fmt.Errorf("%w: another action on the deployment is queued or running", errs.ErrConflict)
	// ErrSiteHasServices: the site's deployment has services on the panel.
	ErrSiteHasServices = fmt.Errorf("%w: the site is deployed on the panel", errs.ErrConflict)
)

// deploySteps are the deploy steps, in order; a deployment's Step is the last one finished.
var deploySteps = []string{"none", "names_chosen", "database_created", "app_created", "domain_set",
	"deploy_triggered", "running"}

// DeploySource is what an app is built from: a git repository with a
// Dockerfile, or an image.
type DeploySource struct {
	Type       string `json:"type"` // git or image
	Repo       string `json:"repo,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Path       string `json:"path,omitempty"`
	Dockerfile string `json:"dockerfile,omitempty"`
	Image      string `json:"image,omitempty"`
}

// Deployment is a site deployed through Easypanel. Sealed fields never
// leave the store's callers (they have no JSON names).
type Deployment struct {
	ID         int64        `json:"id"`
	TenantID   int64        `json:"-"`
	SiteID     int64        `json:"site_id"`
	Panel      string       `json:"panel"`
	Project    string       `json:"project"`
	AppService *string      `json:"app_service"`
	DBService  *string      `json:"db_service"`
	DBName     *string      `json:"db_name"`
	DBUser     *string      `json:"db_user"`
	Source     DeploySource `json:"source"`
	Domain     string       `json:"domain"`
	HTTPS      bool         `json:"https"`
	Step       string       `json:"step"`
	Status     string       `json:"status"`
	Error      string       `json:"error"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`

	DBPasswordEnc     []byte `json:"-"`
	DBRootPasswordEnc []byte `json:"-"`
	EnvEnc            []byte `json:"-"`
}

// StepDone reports whether the deployment has finished step.
func (d Deployment) StepDone(step string) bool {
	return stepIndex(d.Step) >= stepIndex(step)
}

func stepIndex(step string) int {
	for i, s := range deploySteps {
		if s == step {
			return i
		}
	}
	return -1
}

const deploymentColumns = `id, tenant_id, site_id, panel, project, app_service, db_service, db_name, db_user,
	source, domain, https, step, status, error, created_at, updated_at, db_password_enc, db_root_password_enc, env_enc`

func scanDeployment(r pgx.Row) (d Deployment, err error) {
	var source []byte
	err = r.Scan(&d.ID, &d.TenantID, &d.SiteID, &d.Panel, &d.Project, &d.AppService, &d.DBService, &d.DBName,
		&d.DBUser, &source, &d.Domain, &d.HTTPS, &d.Step, &d.Status, &d.Error, &d.CreatedAt, &d.UpdatedAt,
		&d.DBPasswordEnc, &d.DBRootPasswordEnc, &d.EnvEnc)
	if err == nil {
		err = json.Unmarshal(source, &d.Source)
	}
	return d, err
}

// SaveDeployment records what a site's deployment should be and the job
// that deploys it, in one transaction: a new deployment, or a destroyed,
// failed or pending one deployed again (it keeps the service names it
// created, and a failed one its step). job gets the deployment as its
// subject. A site whose deployment is deploying, running or stopped, or
// has an action in flight, is a conflict; a tenant who cannot afford the
// job gets *errs.InsufficientCreditsError. Nothing is written then.
func (s *Store) SaveDeployment(ctx context.Context, d Deployment, job NewJob) (Deployment, Job, error) {
	source, _ := json.Marshal(d.Source)
	var out Deployment
	var created Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanDeployment(tx.QueryRow(ctx, `
			INSERT INTO deployments (tenant_id, site_id, panel, project, source, env_enc, domain, https)
			SELECT $1, id, $3, $4, $5::jsonb, $6, $7, $8 FROM sites WHERE tenant_id = $1 AND id = $2
			ON CONFLICT (site_id) DO UPDATE SET panel = $3, project = CASE WHEN deployments.app_service IS NULL
			        THEN $4 ELSE deployments.project END,
			    source = $5::jsonb, env_enc = $6, domain = $7, https = $8, error = '', updated_at = now(),
			    status = 'pending',
			    step = CASE WHEN deployments.status = 'destroyed' AND deployments.app_service IS NOT NULL THEN 'names_chosen'
			                WHEN deployments.status = 'destroyed' THEN 'none' ELSE deployments.step END
			WHERE deployments.status IN ('destroyed', 'failed', 'pending')
			RETURNING `+deploymentColumns,
			d.TenantID, d.SiteID, d.Panel, d.Project, string(source), d.EnvEnc, d.Domain, d.HTTPS))
		if isNoRows(err) {
			return ErrSiteDeployed
		}
		if err != nil {
			return err
		}
		created, err = s.insertActionJob(ctx, tx, out, job)
		return err
	})
	return out, created, domainTaken(err)
}

// QueueDeploymentAction records the job of an action on a deployment and,
// when domain is not empty, the deployment's new domain, in one
// transaction. An action already in flight is a conflict and changes
// nothing.
func (s *Store) QueueDeploymentAction(ctx context.Context, d Deployment, domain string, job NewJob) (Deployment, Job, error) {
	var created Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if domain != "" {
			if _, err := tx.Exec(ctx, `UPDATE deployments SET domain = $3, updated_at = now()
				WHERE tenant_id = $1 AND id = $2`, d.TenantID, d.ID, domain); err != nil {
				return err
			}
			d.Domain = domain
		}
		var err error
		created, err = s.insertActionJob(ctx, tx, d, job)
		return err
	})
	return d, created, domainTaken(err)
}

func (s *Store) insertActionJob(ctx context.Context, tx pgx.Tx, d Deployment, job NewJob) (Job, error) {
	job.SiteID, job.SubjectID = d.SiteID, d.ID
	jobs, err := s.insertJobs(ctx, tx, d.TenantID, "", []NewJob{job})
	if err != nil {
		return Job{}, err
	}
	if len(jobs) == 0 {
		return Job{}, ErrDeploymentBusy
	}
	return jobs[0], nil
}

// GetDeployment returns one of a tenant's deployments.
func (s *Store) GetDeployment(ctx context.Context, tenantID, id int64) (Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx,
		`SELECT `+deploymentColumns+` FROM deployments WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return d, missing(translate(err), "deployment", id)
}

// SiteDeployment returns the deployment of one of a tenant's sites.
func (s *Store) SiteDeployment(ctx context.Context, tenantID, siteID int64) (Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx,
		`SELECT `+deploymentColumns+` FROM deployments WHERE tenant_id = $1 AND site_id = $2`, tenantID, siteID))
	return d, translate(err)
}

// DeploymentNames are the service names and database credentials chosen
// once for a deployment.
type DeploymentNames struct {
	AppService, DBService, DBName, DBUser string
	DBPasswordEnc, DBRootPasswordEnc      []byte
}

// ChooseDeploymentNames stores a deployment's names if it has none yet
// and returns the deployment as stored: names once chosen are kept, so a
// concurrent or repeated choice loses to the first.
func (s *Store) ChooseDeploymentNames(ctx context.Context, tenantID, id int64, n DeploymentNames) (Deployment, error) {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET app_service = $3, db_service = $4, db_name = $5, db_user = $6,
		db_password_enc = $7, db_root_password_enc = $8, step = 'names_chosen', updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND app_service IS NULL`,
		tenantID, id, n.AppService, n.DBService, n.DBName, n.DBUser, n.DBPasswordEnc, n.DBRootPasswordEnc)
	if err != nil {
		return Deployment{}, translate(err)
	}
	return s.GetDeployment(ctx, tenantID, id)
}

// SetDeploymentState records a deployment's step, status and the error a
// user reads ("" when none).
// A deployment that comes to rest (running, stopped, failed or destroyed)
// from another status records deployment.finished in the same transaction.
func (s *Store) SetDeploymentState(ctx context.Context, tenantID, id int64, step, status, userError string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var before string
		err := tx.QueryRow(ctx, `WITH old AS (SELECT status FROM deployments WHERE tenant_id = $1 AND id = $2 FOR UPDATE)
			UPDATE deployments d SET step = $3, status = $4, error = $5, updated_at = now() FROM old
			WHERE d.tenant_id = $1 AND d.id = $2 RETURNING old.status`, tenantID, id, step, status, userError).Scan(&before)
		if err != nil {
			return err // no row: not found
		}
		return deploymentSettled(ctx, tx, tenantID, id, before, status, userError)
	})
}

// DeploymentLogEntry is one thing an action did. Detail is the panel's
// reply (secrets masked), for operators.
type DeploymentLogEntry struct {
	ID           int64     `json:"id"`
	DeploymentID int64     `json:"-"`
	TenantID     int64     `json:"-"`
	JobID        string    `json:"job_id"`
	Action       string    `json:"action"`
	Step         string    `json:"step"`
	Message      string    `json:"message"`
	Detail       string    `json:"detail,omitempty"`
	At           time.Time `json:"at"`
}

// AppendDeploymentLog adds an entry to a deployment's log.
func (s *Store) AppendDeploymentLog(ctx context.Context, e DeploymentLogEntry) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO deployment_log (deployment_id, tenant_id, job_id, action, step, message, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.DeploymentID, e.TenantID, e.JobID, e.Action, e.Step, e.Message, e.Detail)
	return translate(err)
}

// DeploymentLog returns a deployment's log, oldest first, the last limit
// entries; withDetail keeps the panel's replies (operators only).
func (s *Store) DeploymentLog(ctx context.Context, deploymentID int64, withDetail bool, limit int) ([]DeploymentLogEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT * FROM (
		SELECT id, deployment_id, tenant_id, job_id, action, step, message, CASE WHEN $2 THEN detail ELSE '' END, at
		FROM deployment_log WHERE deployment_id = $1 ORDER BY id DESC LIMIT $3) l ORDER BY id`,
		deploymentID, withDetail, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (e DeploymentLogEntry, err error) {
		err = r.Scan(&e.ID, &e.DeploymentID, &e.TenantID, &e.JobID, &e.Action, &e.Step, &e.Message, &e.Detail, &e.At)
		return e, err
	})
}

// DeploymentByID returns any tenant's deployment: for operators.
func (s *Store) DeploymentByID(ctx context.Context, id int64) (Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE id = $1`, id))
	return d, translate(err)
}
