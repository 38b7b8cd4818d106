package tasks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// TypeDeploy is an action on a site's deployment through Easypanel.
const TypeDeploy = "site:deploy"

// Deployment actions.
const (
	ActionDeploy   = "deploy"
	ActionRedeploy = "redeploy"
	ActionStop     = "stop"
	ActionStart    = "start"
	ActionDomain   = "domain"
	ActionDestroy  = "destroy"
)

// DeployParams are the parameters of a site:deploy job.
type DeployParams struct {
	Action string `json:"action"`
}

// Deployment statuses.
const (
	deployDeploying = "deploying"
	deployRunning   = "running"
	deployStopped   = "stopped"
	deployFailed    = "failed"
	deployDestroyed = "destroyed"
)

// errNotRunningYet is a wait for the app that reached its deadline.
var errNotRunningYet = errors.New("the app is not running yet")

// deployFailedError is a deploy the panel ended in error: its own reason.
type deployFailedError struct{ reason string }

func (e *deployFailedError) Error() string { return "the panel's deploy ended in error: " + e.reason }

// missingProjectError is a project the panel does not have.
type missingProjectError struct{ project string }

func (e *missingProjectError) Error() string {
	return fmt.Sprintf("the panel has no project %q", e.project)
}

// deployer carries out one action on one deployment.
type deployer struct {
	h       *Handlers
	job     store.Job
	action  string
	d       store.Deployment
	panel   *easypanel.Client
	project string   // the project the panel's settings name now
	secrets []string // every secret the action knows, masked out of logs
}

// deploySite runs a site:deploy job: an action on the deployment named by
// the subject. Every step is recorded as it finishes, so a retried job
// continues after the last one and never creates a service twice.
func (h *Handlers) deploySite(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, -1, "deploying")
	if err != nil {
		return err
	}
	var params DeployParams
	if err := json.Unmarshal(job.Params, &params); err != nil || params.Action == "" {
		return errs.Permanent(fmt.Errorf("unreadable deploy parameters: %v", err))
	}
	d, err := h.Store.GetDeployment(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("deployment %d: %w", p.SubjectID, err)
	}
	dp := &deployer{h: h, job: job, action: params.Action, d: d}
	if err := dp.open(ctx); err != nil {
		return dp.fail(ctx, "none", "Deployment failed: the panel's credentials cannot be used", err)
	}
	if err := dp.run(ctx); err != nil {
		return err
	}
	result := map[string]any{"action": dp.action, "status": dp.d.Status, "step": dp.d.Step}
	return h.Store.FinishJob(ctx, outcome(p, job, job.CreditsReserved, ai.Usage{}, result))
}

// open builds the client of the deployment's panel: the tenant's own or
// the operator's.
func (dp *deployer) open(ctx context.Context) error {
	h, d := dp.h, dp.d
	url, email, password := h.OperatorPanel.URL, h.OperatorPanel.Email, h.OperatorPanel.Password
	dp.project = h.OperatorPanel.Project
	if d.Panel == "tenant" {
		creds, err := h.Store.GetPanelCredentials(ctx, d.TenantID)
		if err != nil {
			return errs.Permanent(fmt.Errorf("the tenant's Easypanel access: %w", err))
		}
		pw, err := h.Box.Open(creds.PasswordEnc, secret.PanelPasswordAD(d.TenantID))
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
	dp.panel = easypanel.New(url, email, password, h.PanelHTTP)
	dp.learnSecrets()
	return nil
}

// minSecretLen is the shortest value masked as a secret: secret.Scrub's
// floor. A shorter one (an environment's WP_DEBUG=1) would blank ordinary
// words ("blog1.example.com") in every message.
const minSecretLen = 4

// remember adds values to the secrets masked, each once; values shorter
// than minSecretLen are skipped.
func (dp *deployer) remember(values ...string) {
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(dp.secrets, v) {
			dp.secrets = append(dp.secrets, v)
		}
	}
}

// learnSecrets adds the deployment's own secrets (its database passwords,
// its environment's values) to those masked, whatever step the action
// starts at: a redeploy, or an attempt resumed past the steps that open
// them, may still meet them in the panel's words (a build log quoting the
// environment). A value that cannot be opened here fails the step that
// needs it.
func (dp *deployer) learnSecrets() {
	for _, pw := range []struct {
		enc  []byte
		what string
	}{{dp.d.DBPasswordEnc, "db-password"}, {dp.d.DBRootPasswordEnc, "db-root-password"}} {
		if len(pw.enc) > 0 {
			_, _ = dp.openSecret(pw.enc, pw.what)
		}
	}
	_, _ = dp.userEnv()
}

func (dp *deployer) run(ctx context.Context) error {
	switch dp.action {
	case ActionDeploy:
		return dp.deploy(ctx)
	case ActionRedeploy:
		return dp.redeploy(ctx)
	case ActionStart:
		return dp.start(ctx)
	case ActionStop:
		return dp.stop(ctx)
	case ActionDomain:
		return dp.changeDomain(ctx)
	case ActionDestroy:
		return dp.destroy(ctx)
	}
	return errs.Permanent(fmt.Errorf("unknown deployment action %q", dp.action))
}

// deploy runs the steps not finished yet: names chosen -> database created
// -> app created -> domain set -> deploy triggered -> running.
func (dp *deployer) deploy(ctx context.Context) error {
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
		{"running", "Deployment failed: the app did not start running within " + dp.h.DeployWait.String(), dp.watch},
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

func (dp *deployer) requireApp(what string) error {
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
func (dp *deployer) retarget(ctx context.Context) error {
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
	d, err := dp.h.Store.RetargetDeployment(ctx, dp.d.TenantID, dp.d.ID, dp.project)
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
func (dp *deployer) rewindTrigger(ctx context.Context) error {
	if !dp.d.StepDone("deploy_triggered") {
		return nil
	}
	in, err := dp.h.Store.GetDeployIntent(ctx, dp.d.TenantID, dp.d.ID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	if err == nil && in.JobID == dp.job.ID {
		return nil
	}
	return dp.state(ctx, "domain_set", deployDeploying, "")
}

func (dp *deployer) redeploy(ctx context.Context) error {
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
	return dp.awaitRunning(ctx, "Redeploy failed: the app did not start running within "+dp.h.DeployWait.String())
}

func (dp *deployer) start(ctx context.Context) error {
	if err := dp.requireApp("start"); err != nil {
		return err
	}
	if err := dp.panel.StartApp(ctx, dp.d.Project, *dp.d.AppService); err != nil {
		return dp.fail(ctx, dp.d.Step, "Start failed: the panel refused to start the app", err)
	}
	dp.log(ctx, dp.d.Step, "app start requested", "")
	return dp.awaitRunning(ctx, "Start failed: the app did not start running within "+dp.h.DeployWait.String())
}

func (dp *deployer) awaitRunning(ctx context.Context, failure string) error {
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

func (dp *deployer) stop(ctx context.Context) error {
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
func (dp *deployer) changeDomain(ctx context.Context) error {
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
func (dp *deployer) destroy(ctx context.Context) error {
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

func notFound(err error) bool {
	var pe *easypanel.Error
	return errors.As(err, &pe) && pe.NotFound()
}

func conflict(err error) bool {
	var pe *easypanel.Error
	return errors.As(err, &pe) && pe.Conflict()
}

// chooseNames picks {tenant}-{site} (and -db), or -2, -3 ... when the
// panel has either name, with fresh database passwords, and stores them
// before anything is created.
func (dp *deployer) chooseNames(ctx context.Context) (string, error) {
	if dp.d.AppService != nil {
		return "names kept from before", nil
	}
	inv, err := dp.panel.ListProjectsAndServices(ctx)
	if err != nil {
		return "", err
	}
	if !inv.HasProject(dp.d.Project) {
		return "", errs.Permanent(&missingProjectError{project: dp.d.Project})
	}
	tenant, err := dp.h.Store.GetTenant(ctx, dp.d.TenantID)
	if err != nil {
		return "", err
	}
	site, err := dp.h.Store.GetSite(ctx, dp.d.TenantID, dp.d.SiteID)
	if err != nil {
		return "", err
	}
	base := serviceName(tenant.Slug, site.Name)
	app := base
	for n := 2; inv.Has(dp.d.Project, app) || inv.Has(dp.d.Project, app+"-db"); n++ {
		app = fmt.Sprintf("%s-%d", base, n)
	}
	names := store.DeploymentNames{AppService: app, DBService: app + "-db", DBName: "wordpress", DBUser: "wordpress"}
	if names.DBPasswordEnc, err = dp.sealNew("db-password"); err != nil {
		return "", err
	}
	if names.DBRootPasswordEnc, err = dp.sealNew("db-root-password"); err != nil {
		return "", err
	}
	if dp.d, err = dp.h.Store.ChooseDeploymentNames(ctx, dp.d.TenantID, dp.d.ID, names); err != nil {
		return "", err
	}
	return fmt.Sprintf("names chosen: app %s, database %s", *dp.d.AppService, *dp.d.DBService), nil
}

// serviceName is the panel name of a tenant's site: lower-case letters,
// digits and dashes, at most 40 characters.
func serviceName(tenantSlug, siteName string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(tenantSlug + "-" + siteName) {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if ok {
			b.WriteRune(r)
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = !ok
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-")
	}
	if name == "" {
		return "site"
	}
	return name
}

// sealNew makes a password from crypto/rand and seals it.
func (dp *deployer) sealNew(what string) ([]byte, error) {
	return dp.h.Box.Seal([]byte(rand.Text()), secret.DeploymentSecretAD(dp.d.TenantID, dp.d.SiteID, what))
}

// openSecret opens one of the deployment's sealed values and remembers it
// as a secret to mask.
func (dp *deployer) openSecret(enc []byte, what string) (string, error) {
	b, err := dp.h.Box.Open(enc, secret.DeploymentSecretAD(dp.d.TenantID, dp.d.SiteID, what))
	if err != nil {
		return "", errs.Permanent(fmt.Errorf("open the deployment's %s: %w", what, err))
	}
	dp.remember(string(b))
	return string(b), nil
}

// userEnv opens the user's environment variables (none when the deployment
// has none) and remembers their values as secrets to mask.
func (dp *deployer) userEnv() (map[string]string, error) {
	user := map[string]string{}
	if len(dp.d.EnvEnc) == 0 {
		return user, nil
	}
	raw, err := dp.openSecret(dp.d.EnvEnc, "env")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(raw), &user); err != nil {
		return nil, errs.Permanent(fmt.Errorf("unreadable environment: %w", err))
	}
	for _, v := range user {
		dp.remember(v)
	}
	return user, nil
}

func (dp *deployer) database() (easypanel.MariaDB, error) {
	pw, err := dp.openSecret(dp.d.DBPasswordEnc, "db-password")
	if err != nil {
		return easypanel.MariaDB{}, err
	}
	root, err := dp.openSecret(dp.d.DBRootPasswordEnc, "db-root-password")
	if err != nil {
		return easypanel.MariaDB{}, err
	}
	return easypanel.MariaDB{ProjectName: dp.d.Project, ServiceName: *dp.d.DBService, DatabaseName: *dp.d.DBName,
		User: *dp.d.DBUser, Password: pw, RootPassword: root}, nil
}

// createDatabase creates the database service. A name the panel reports
// taken is the one an earlier attempt created (its reply was lost): the
// name was chosen free and stored before the first attempt.
func (dp *deployer) createDatabase(ctx context.Context) (string, error) {
	db, err := dp.database()
	if err != nil {
		return "", err
	}
	if _, err := dp.panel.CreateMariaDB(ctx, db); adoptTaken(err) != nil {
		return "", err
	}
	return "database " + db.ServiceName + " created", nil
}

// adoptTaken treats a create refused because the name is taken as done.
func adoptTaken(err error) error {
	if conflict(err) {
		return nil
	}
	return err
}

// createApp creates the app service with its source, domain and
// environment: the database's address (as DATABASE_URL and as the
// variables of the wordpress image) and the user's variables.
func (dp *deployer) createApp(ctx context.Context) (string, error) {
	db, err := dp.database()
	if err != nil {
		return "", err
	}
	env, err := dp.env(db)
	if err != nil {
		return "", err
	}
	src := dp.d.Source
	app := easypanel.App{ProjectName: dp.d.Project, ServiceName: *dp.d.AppService, Domain: dp.d.Domain, HTTPS: dp.d.HTTPS,
		Source:     easypanel.Source{Type: src.Type, Repo: src.Repo, Ref: src.Ref, Path: src.Path, Image: src.Image},
		Dockerfile: src.Dockerfile, Env: env}
	if src.Type == "image" && strings.HasPrefix(src.Image, "wordpress") {
		app.VolumeName, app.MountPath = "wp_data", "/var/www/html"
	}
	if _, err := dp.panel.CreateApp(ctx, app); adoptTaken(err) != nil {
		return "", err
	}
	return "app " + app.ServiceName + " created", nil
}

func (dp *deployer) env(db easypanel.MariaDB) (string, error) {
	user, err := dp.userEnv()
	if err != nil {
		return "", err
	}
	lines := []string{
		"DATABASE_URL=" + db.ConnectionURL(),
		"WORDPRESS_DB_HOST=" + db.ProjectName + "_" + db.ServiceName + ":3306",
		"WORDPRESS_DB_NAME=" + db.DatabaseName, "WORDPRESS_DB_USER=" + db.User, "WORDPRESS_DB_PASSWORD=" + db.Password,
	}
	for _, k := range slices.Sorted(maps.Keys(user)) {
		lines = append(lines, k+"="+user[k])
	}
	return strings.Join(lines, "\n"), nil
}

// setDomain points the app's primary domain at the deployment's domain.
func (dp *deployer) setDomain(ctx context.Context) (string, error) {
	svc, err := dp.panel.InspectApp(ctx, dp.d.Project, *dp.d.AppService)
	if err != nil {
		return "", err
	}
	if svc.PrimaryDomainID == "" {
		return "", errs.Permanent(errors.New("the panel shows no primary domain for the app"))
	}
	err = dp.panel.UpdateDomain(ctx, easypanel.Domain{ID: svc.PrimaryDomainID, Host: dp.d.Domain, HTTPS: dp.d.HTTPS,
		Port: 80, ProjectName: dp.d.Project, ServiceName: *dp.d.AppService})
	if err != nil {
		return "", err
	}
	return "domain set to " + dp.d.Domain, nil
}

// trigger asks the panel to deploy the app, once per job: the intent is
// recorded before the call with the newest deploy the panel had, and a
// resumed job whose call may have reached the panel (a lost reply, a
// worker killed before it recorded the answer) looks for a newer deploy
// on the panel instead of asking again.
func (dp *deployer) trigger(ctx context.Context) (string, error) {
	project, app := dp.d.Project, *dp.d.AppService
	in, err := dp.h.Store.GetDeployIntent(ctx, dp.d.TenantID, dp.d.ID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	mine := err == nil && in.JobID == dp.job.ID
	if mine && in.Accepted {
		return "deploy triggered (recorded before)", nil
	}
	acts, err := dp.panel.DeployActions(ctx, project, app)
	if err != nil {
		return "", err
	}
	if mine {
		before := easypanel.Action{ID: in.BeforeAction, CreatedAt: in.BeforeAt}
		if act, ok := easypanel.NewerThan(acts, before); ok {
			if err := dp.h.Store.AcceptDeployIntent(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID); err != nil {
				return "", err
			}
			return "the panel had started the deploy already (" + act.ID + "); not asked again", nil
		}
	} else {
		in = store.DeployIntent{DeploymentID: dp.d.ID, JobID: dp.job.ID, Action: dp.action}
		if len(acts) > 0 {
			in.BeforeAction, in.BeforeAt = acts[0].ID, acts[0].CreatedAt
		}
		if err := dp.h.Store.RecordDeployIntent(ctx, dp.d.TenantID, in); err != nil {
			return "", err
		}
	}
	if err := dp.panel.Deploy(ctx, project, app); err != nil {
		return "", err
	}
	if err := dp.h.Store.AcceptDeployIntent(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID); err != nil {
		return "", err
	}
	return "deploy triggered", nil
}

// watch waits for the app to run: one wait per action, up to the
// deadline recorded in PostgreSQL when the wait started (DeployWait
// later), which retried attempts keep. The app runs once the deploy the
// action waits for is done and the panel shows the app enabled; a deploy
// that ended in error fails at once. A failed look (the panel down for a
// moment) is not the app failing: the wait goes on to its deadline.
func (dp *deployer) watch(ctx context.Context) (string, error) {
	in, err := dp.h.Store.StartDeployWait(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID, dp.action, dp.h.DeployWait)
	if err != nil {
		return "", err
	}
	deadline, before := in.WaitDeadline, easypanel.Action{ID: in.BeforeAction, CreatedAt: in.BeforeAt}
	ticker := time.NewTicker(max(dp.h.DeployPollEvery, 10*time.Millisecond))
	defer ticker.Stop()
	var lastErr error
	for {
		msg, err := dp.look(ctx, before)
		switch {
		case err == nil && msg != "":
			return msg, nil
		case err != nil && (errs.IsPermanent(err) || !retryable(err)):
			return "", err
		case err != nil:
			lastErr = err
		}
		if !time.Now().Before(deadline) {
			if lastErr != nil {
				return "", errs.Permanent(fmt.Errorf("%w (the last look failed: %w)", errNotRunningYet, lastErr))
			}
			return "", errs.Permanent(errNotRunningYet)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-ticker.C:
		}
	}
}

// look reports whether the app runs ("" while not yet): by the state of
// the deploy the action waits for (this job's newest; for a start, the
// app's newest deploy), then by the app being enabled.
func (dp *deployer) look(ctx context.Context, before easypanel.Action) (string, error) {
	acts, err := dp.panel.DeployActions(ctx, dp.d.Project, *dp.d.AppService)
	if err != nil {
		return "", err
	}
	act, found := easypanel.NewerThan(acts, before)
	switch {
	case !found && (dp.action != ActionStart || len(acts) > 0):
		return "", nil // the panel has not listed the deploy yet
	case found && act.Status == easypanel.ActionError:
		return "", errs.Permanent(&deployFailedError{reason: act.Description})
	case found && act.Status != easypanel.ActionDone:
		return "", nil
	}
	svc, err := dp.panel.InspectApp(ctx, dp.d.Project, *dp.d.AppService)
	if err != nil || !svc.Enabled {
		return "", err
	}
	if !found {
		return "app is running (enabled; the panel lists no deploy of it)", nil
	}
	return "app is running (deploy " + act.ID + " done)", nil
}

// state records the deployment's step and status.
func (dp *deployer) state(ctx context.Context, step, status, userError string) error {
	if err := dp.h.Store.SetDeploymentState(ctx, dp.d.TenantID, dp.d.ID, step, status, userError); err != nil {
		return err
	}
	dp.d.Step, dp.d.Status, dp.d.Error = step, status, userError
	return nil
}

// log appends to the deployment's log; detail is masked of every secret.
func (dp *deployer) log(ctx context.Context, step, message, detail string) {
	entry := store.DeploymentLogEntry{DeploymentID: dp.d.ID, TenantID: dp.d.TenantID, JobID: dp.job.ID,
		Action: dp.action, Step: step, Message: message, Detail: string(easypanel.Mask([]byte(detail), dp.secrets...))}
	if err := dp.h.Store.AppendDeploymentLog(ctx, entry); err != nil {
		dp.h.Log.Warn("deployment log write failed", "deployment", dp.d.ID, "error", err)
	}
}

// fail records a failed step: the user's short message on the deployment
// and in the log, the panel's whole reply (masked) as the log's detail. A
// failure that can pass (the panel or the network down for a while, an
// app still starting) is retried while attempts remain; any other, or the
// last attempt, marks the deployment failed.
func (dp *deployer) fail(ctx context.Context, step, userMsg string, err error) error {
	err = maskedError{err: err, secrets: dp.secrets}
	detail := err.Error()
	var pe *easypanel.Error
	if errors.As(err, &pe) {
		detail = string(pe.Reply)
	}
	userMsg = dp.userMessage(userMsg, err)
	if ctx.Err() != nil {
		return err // shutting down: the job goes back to the queue
	}
	retry := !errs.IsPermanent(err) && retryable(err) && !isLastAttempt(ctx)
	if retry {
		dp.log(ctx, step, userMsg+" (will retry)", detail)
		return err
	}
	dp.log(ctx, step, userMsg, detail)
	status := dp.d.Status
	if dp.action == ActionDeploy || dp.action == ActionRedeploy || dp.action == ActionStart {
		status = deployFailed
	}
	if serr := dp.state(ctx, dp.d.Step, status, userMsg); serr != nil {
		dp.h.Log.Warn("recording a failed deployment", "deployment", dp.d.ID, "error", serr)
	}
	return errs.Permanent(&remoteError{msg: userMsg, err: err})
}

// maxReasonLen bounds the panel's reason in a user's message.
const maxReasonLen = 200

// userMessage is failure ("Deployment failed: the panel refused the
// domain") made precise: what was wrong when the panel said it (the login,
// the project, a newer panel), else the panel's own reason appended, each
// scrubbed of every secret the action knows.
func (dp *deployer) userMessage(failure string, err error) string {
	head, _, _ := strings.Cut(failure, ": ")
	var mp *missingProjectError
	var df *deployFailedError
	pe, fromPanel := errors.AsType[*easypanel.Error](err)
	projectMissing := errors.As(err, &mp) || fromPanel && pe.ProjectMissing()
	var reason string
	switch {
	case errors.Is(err, easypanel.ErrUnsupportedPanel):
		return head + ": the panel runs a newer Easypanel (2.31 or later) that Presswork does not support yet"
	case errors.Is(err, easypanel.ErrLoginRefused) && dp.d.Panel == "tenant":
		return head + ": the panel refused Presswork's login; correct the email or password with PUT /v1/easypanel"
	case errors.Is(err, easypanel.ErrLoginRefused):
		return head + ": the operator's panel refused Presswork's login (EASYPANEL_EMAIL, EASYPANEL_PASSWORD)"
	case projectMissing && dp.d.Panel == "tenant":
		return fmt.Sprintf("%s: the panel has no project %q; create it on the panel or name another with PUT /v1/easypanel",
			head, dp.d.Project)
	case projectMissing:
		return fmt.Sprintf("%s: the operator's panel has no project %q (EASYPANEL_PROJECT)", head, dp.d.Project)
	case errors.As(err, &df):
		return head + ": the panel's deploy ended in error: " + dp.scrubReason(df.reason)
	case fromPanel:
		reason = dp.scrubReason(pe.Message)
	}
	if reason == "" {
		return failure
	}
	return failure + ": " + reason
}

// scrubReason is the panel's reason as a user may read it: without any
// secret the action knows, and short.
func (dp *deployer) scrubReason(reason string) string {
	reason = strings.TrimSpace(string(easypanel.Mask([]byte(reason), dp.secrets...))) // Mask ends in secret.Scrub
	if len(reason) > maxReasonLen {
		reason = strings.ToValidUTF8(reason[:maxReasonLen], "") + "..."
	}
	return reason
}

// retryable reports whether a panel failure may pass: the network, a 5xx
// or 429; not a refused login or a panel Presswork does not speak.
func retryable(err error) bool {
	if errors.Is(err, easypanel.ErrUnsupportedPanel) || errors.Is(err, easypanel.ErrLoginRefused) {
		return false
	}
	var pe *easypanel.Error
	if errors.As(err, &pe) {
		return pe.Temporary()
	}
	return true
}

// maskedError is err with every secret of the action masked out of its
// text: the worker logs a failed job's error in full.
type maskedError struct {
	err     error
	secrets []string
}

func (e maskedError) Error() string {
	return string(easypanel.Mask([]byte(e.err.Error()), e.secrets...))
}

func (e maskedError) Unwrap() error { return e.err }
