package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Deployment statuses.
const (
	deployDeploying = "deploying"
	deployRunning   = "running"
	deployStopped   = "stopped"
	deployFailed    = "failed"
	deployDestroyed = "destroyed"
)

// deployStore is what a deployment action reads and writes.
type deployStore interface {
	StartJob(ctx context.Context, tenantID int64, jobID, phase string) (store.Job, error)
	FinishJob(ctx context.Context, o store.Outcome) error
	GetTenant(ctx context.Context, id int64) (store.Tenant, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	GetPanelCredentials(ctx context.Context, tenantID int64) (store.PanelCredentials, error)
	GetDeployment(ctx context.Context, tenantID, id int64) (store.Deployment, error)
	RetargetDeployment(ctx context.Context, tenantID, id int64, project string) (store.Deployment, error)
	ChooseDeploymentNames(ctx context.Context, tenantID, id int64, n store.DeploymentNames) (store.Deployment, error)
	SetDeploymentState(ctx context.Context, tenantID, id int64, step, status, userError string) error
	AppendDeploymentLog(ctx context.Context, e store.DeploymentLogEntry) error
	GetDeployIntent(ctx context.Context, tenantID, deploymentID int64) (store.DeployIntent, error)
	RecordDeployIntent(ctx context.Context, tenantID int64, in store.DeployIntent) error
	AcceptDeployIntent(ctx context.Context, tenantID, deploymentID int64, jobID string) error
	StartDeployWait(ctx context.Context, tenantID, deploymentID int64, jobID, action string, wait time.Duration) (store.DeployIntent, error)
}

// Deployer runs site:deploy jobs through Easypanel.
type Deployer struct {
	store deployStore
	// box opens the panels' passwords and seals and opens the
	// deployments' secrets.
	box *secret.Box
	// http is the HTTP client for Easypanel; operator the operator's
	// panel, for deployments that use it.
	http     *http.Client
	operator config.EasypanelConfig
	// A deploy waits up to wait for the app to run, looking every
	// pollEvery.
	pollEvery time.Duration
	wait      time.Duration
	log       *slog.Logger
}

// deployJob carries out one action on one deployment.
type deployJob struct {
	w       *Deployer
	job     store.Job
	action  string
	d       store.Deployment
	panel   *easypanel.Client
	project string   // the project the panel's settings name now
	secrets []string // every secret the action knows, masked out of logs
}

// Work runs a site:deploy job: an action on the deployment named by the
// subject. Every step is recorded as it finishes, so a retried job
// continues after the last one and never creates a service twice.
func (w *Deployer) Work(ctx context.Context, p tasks.Payload) error {
	job, err := w.store.StartJob(ctx, p.TenantID, p.JobID, "deploying")
	if err != nil {
		return err
	}
	var params tasks.DeployParams
	if err := json.Unmarshal(job.Params, &params); err != nil || params.Action == "" {
		return errs.Permanent(fmt.Errorf("unreadable deploy parameters: %v", err))
	}
	d, err := w.store.GetDeployment(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("deployment %d: %w", p.SubjectID, err)
	}
	dp := &deployJob{w: w, job: job, action: params.Action, d: d}
	if err := dp.open(ctx); err != nil {
		return dp.fail(ctx, "none", "Deployment failed: the panel's credentials cannot be used", err)
	}
	if err := dp.run(ctx); err != nil {
		return err
	}
	result := map[string]any{"action": dp.action, "status": dp.d.Status, "step": dp.d.Step}
	return w.store.FinishJob(ctx, outcome(p, job, job.CreditsReserved, ai.Usage{}, result))
}

// open builds the client of the deployment's panel: the tenant's own or
// the operator's.
func (dp *deployJob) open(ctx context.Context) error {
	w, d := dp.w, dp.d
	url, email, password := w.operator.URL, w.operator.Email, w.operator.Password
	dp.project = w.operator.Project
	if d.Panel == "tenant" {
		creds, err := w.store.GetPanelCredentials(ctx, d.TenantID)
		if err != nil {
			return errs.Permanent(fmt.Errorf("the tenant's Easypanel access: %w", err))
		}
		pw, err := w.box.Open(creds.PasswordEnc, secret.PanelPasswordAD(d.TenantID))
		if err != nil {
			return errs.Permanent(fmt.Errorf("open the panel password: %w", err))
		}
		url, email, password = creds.URL, creds.Email, string(pw)
		dp.project = creds.Project
	}
	if url == "" {
		return errs.Permanent(errors.New("no Easypanel is configured"))
	}
	dp.remember(password, email+":"+password)
	dp.panel = easypanel.New(url, email, password, w.http)
	dp.learnSecrets()
	return nil
}

func (dp *deployJob) run(ctx context.Context) error {
	switch dp.action {
	case tasks.ActionDeploy:
		return dp.deploy(ctx)
	case tasks.ActionRedeploy:
		return dp.redeploy(ctx)
	case tasks.ActionStart:
		return dp.start(ctx)
	case tasks.ActionStop:
		return dp.stop(ctx)
	case tasks.ActionDomain:
		return dp.changeDomain(ctx)
	case tasks.ActionDestroy:
		return dp.destroy(ctx)
	}
	return errs.Permanent(fmt.Errorf("unknown deployment action %q", dp.action))
}

// deploy runs the steps not finished yet: names chosen -> database created
// -> app created -> domain set -> deploy triggered -> running.
func (dp *deployJob) deploy(ctx context.Context) error {
	if err := dp.state(ctx, dp.d.Step, deployDeploying, ""); err != nil {
		return err
	}
	if err := dp.retarget(ctx); err != nil {
		return err
	}
	if err := dp.rewindTrigger(ctx); err != nil {
		return err
	}
	steps := []struct {
		name, failure string
		do            func(context.Context) (string, error)
	}{
		{"names_chosen", "Deployment failed: the panel's services could not be listed", dp.chooseNames},
		{"database_created", "Deployment failed: the panel refused to create the database", dp.createDatabase},
		{"app_created", "Deployment failed: the panel refused to create the app", dp.createApp},
		{"domain_set", "Deployment failed: the panel refused the domain", dp.setDomain},
		{"deploy_triggered", "Deployment failed: the panel refused to start the deploy", dp.trigger},
		{"running", "Deployment failed: the app did not start running within " + dp.w.wait.String(), dp.watch},
	}
	for _, st := range steps {
		if dp.d.StepDone(st.name) {
			continue
		}
		msg, err := st.do(ctx)
		if err != nil {
			return dp.fail(ctx, st.name, st.failure, err)
		}
		status := deployDeploying
		if st.name == "running" {
			status = deployRunning
		}
		if err := dp.state(ctx, st.name, status, ""); err != nil {
			return err
		}
		dp.log(ctx, st.name, msg, "")
	}
	return nil
}

func (dp *deployJob) requireApp(what string) error {
	if dp.d.AppService == nil || !dp.d.StepDone("app_created") {
		return errs.Permanent(fmt.Errorf("the site has no app on the panel yet: deploy it before you %s it", what))
	}
	return nil
}

// retarget moves a deployment on which nothing was created yet to the
// project the panel's settings name now (PUT /v1/easypanel may have
// corrected it since the deploy was asked for). Services of the chosen
// names in the old project are an earlier attempt's whose reply was lost:
// then the deployment stays where they are. A listing the panel fails
// fails the deployment; a store error is returned as it is.
func (dp *deployJob) retarget(ctx context.Context) error {
	if dp.project == "" || dp.project == dp.d.Project || dp.d.StepDone("database_created") {
		return nil
	}
	if dp.d.AppService != nil {
		inv, err := dp.panel.ListProjectsAndServices(ctx)
		if err != nil {
			return dp.fail(ctx, dp.d.Step, "Deployment failed: the panel's services could not be listed", err)
		}
		if inv.Has(dp.d.Project, *dp.d.DBService) || inv.Has(dp.d.Project, *dp.d.AppService) {
			dp.log(ctx, dp.d.Step, fmt.Sprintf("project %s kept although the panel's settings now name %s: "+
				"an earlier attempt created services there", dp.d.Project, dp.project), "")
			return nil
		}
	}
	old := dp.d.Project
	d, err := dp.w.store.RetargetDeployment(ctx, dp.d.TenantID, dp.d.ID, dp.project)
	if err != nil {
		return err
	}
	dp.d = d
	dp.log(ctx, dp.d.Step, fmt.Sprintf("project %s instead of %s, as the panel's settings now name it", dp.project, old), "")
	return nil
}

// rewindTrigger makes a deploy or redeploy trigger a deploy of its own:
// the steps deploy_triggered and running recorded by an earlier job (a
// deploy that ran, or a redeploy that failed after them) are not this
// job's. A retried attempt of the job that triggered keeps them.
func (dp *deployJob) rewindTrigger(ctx context.Context) error {
	if !dp.d.StepDone("deploy_triggered") {
		return nil
	}
	in, err := dp.w.store.GetDeployIntent(ctx, dp.d.TenantID, dp.d.ID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	if err == nil && in.JobID == dp.job.ID {
		return nil
	}
	return dp.state(ctx, "domain_set", deployDeploying, "")
}

func (dp *deployJob) redeploy(ctx context.Context) error {
	if err := dp.requireApp("redeploy"); err != nil {
		return err
	}
	if !dp.d.StepDone("domain_set") {
		// The first deploy stopped before its domain was set (the panel
		// refused it, say): a redeploy finishes those steps, or the app
		// would run without its domain and later deploys skip it.
		return dp.deploy(ctx)
	}
	if err := dp.state(ctx, dp.d.Step, deployDeploying, ""); err != nil {
		return err
	}
	if err := dp.rewindTrigger(ctx); err != nil {
		return err
	}
	if !dp.d.StepDone("deploy_triggered") {
		msg, err := dp.trigger(ctx)
		if err != nil {
			return dp.fail(ctx, "deploy_triggered", "Redeploy failed: the panel refused to start the deploy", err)
		}
		if err := dp.state(ctx, "deploy_triggered", deployDeploying, ""); err != nil {
			return err
		}
		dp.log(ctx, "deploy_triggered", msg, "")
	}
	return dp.awaitRunning(ctx, "Redeploy failed: the app did not start running within "+dp.w.wait.String())
}

func (dp *deployJob) start(ctx context.Context) error {
	if err := dp.requireApp("start"); err != nil {
		return err
	}
	if err := dp.panel.StartApp(ctx, dp.d.Project, *dp.d.AppService); err != nil {
		return dp.fail(ctx, dp.d.Step, "Start failed: the panel refused to start the app", err)
	}
	dp.log(ctx, dp.d.Step, "app start requested", "")
	return dp.awaitRunning(ctx, "Start failed: the app did not start running within "+dp.w.wait.String())
}

func (dp *deployJob) awaitRunning(ctx context.Context, failure string) error {
	msg, err := dp.watch(ctx)
	if err != nil {
		return dp.fail(ctx, dp.d.Step, failure, err)
	}
	// An app started before its domain was set runs, but its deploy is not
	// finished: the step stays, so the next deploy sets the domain.
	step := "running"
	if !dp.d.StepDone("domain_set") {
		step = dp.d.Step
	}
	if err := dp.state(ctx, step, deployRunning, ""); err != nil {
		return err
	}
	dp.log(ctx, step, msg, "")
	return nil
}

func (dp *deployJob) stop(ctx context.Context) error {
	if err := dp.requireApp("stop"); err != nil {
		return err
	}
	if err := dp.panel.StopApp(ctx, dp.d.Project, *dp.d.AppService); err != nil {
		return dp.fail(ctx, dp.d.Step, "Stop failed: the panel refused to stop the app", err)
	}
	if err := dp.state(ctx, dp.d.Step, deployStopped, ""); err != nil {
		return err
	}
	dp.log(ctx, dp.d.Step, "app stopped", "")
	return nil
}

// changeDomain gives the app the deployment's domain (the API stored the
// new one before it queued the job).
func (dp *deployJob) changeDomain(ctx context.Context) error {
	if dp.d.AppService == nil || !dp.d.StepDone("app_created") {
		dp.log(ctx, dp.d.Step, "domain "+dp.d.Domain+" will be used when the app is created", "")
		return nil
	}
	msg, err := dp.setDomain(ctx)
	if err != nil {
		return dp.fail(ctx, dp.d.Step, "Domain change failed: the panel refused the domain", err)
	}
	dp.log(ctx, dp.d.Step, msg, "")
	return nil
}

// destroy removes what the steps created, the app first; a service the
// panel no longer has counts as removed. The names stay: a later deploy
// reuses them.
func (dp *deployJob) destroy(ctx context.Context) error {
	if dp.d.AppService != nil {
		err := dp.panel.DestroyApp(ctx, dp.d.Project, *dp.d.AppService)
		if err != nil && !notFound(err) {
			return dp.fail(ctx, dp.d.Step, "Destroy failed: the panel refused to remove the app", err)
		}
		dp.log(ctx, dp.d.Step, "app "+*dp.d.AppService+" removed", "")
		err = dp.panel.DestroyMariaDB(ctx, dp.d.Project, *dp.d.DBService)
		if err != nil && !notFound(err) {
			return dp.fail(ctx, dp.d.Step, "Destroy failed: the panel refused to remove the database", err)
		}
		dp.log(ctx, dp.d.Step, "database "+*dp.d.DBService+" removed", "")
	}
	step := "none"
	if dp.d.AppService != nil {
		step = "names_chosen"
	}
	return dp.state(ctx, step, deployDestroyed, "")
}

// state records the deployment's step and status.
func (dp *deployJob) state(ctx context.Context, step, status, userError string) error {
	if err := dp.w.store.SetDeploymentState(ctx, dp.d.TenantID, dp.d.ID, step, status, userError); err != nil {
		return err
	}
	dp.d.Step, dp.d.Status, dp.d.Error = step, status, userError
	return nil
}

// log appends to the deployment's log; detail is masked of every secret.
func (dp *deployJob) log(ctx context.Context, step, message, detail string) {
	entry := store.DeploymentLogEntry{DeploymentID: dp.d.ID, TenantID: dp.d.TenantID, JobID: dp.job.ID,
		Action: dp.action, Step: step, Message: message, Detail: string(easypanel.Mask([]byte(detail), dp.secrets...))}
	if err := dp.w.store.AppendDeploymentLog(ctx, entry); err != nil {
		dp.w.log.Warn("deployment log write failed", "deployment", dp.d.ID, "error", err)
	}
}
