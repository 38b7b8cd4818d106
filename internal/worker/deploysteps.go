package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// chooseNames picks {tenant}-{site} (and -db), or -2, -3 ... when the
// panel has either name, with fresh database passwords, and stores them
// before anything is created.
func (dp *deployJob) chooseNames(ctx context.Context) (string, error) {
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
	tenant, err := dp.w.store.GetTenant(ctx, dp.d.TenantID)
	if err != nil {
		return "", err
	}
	site, err := dp.w.store.GetSite(ctx, dp.d.TenantID, dp.d.SiteID)
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
	if dp.d, err = dp.w.store.ChooseDeploymentNames(ctx, dp.d.TenantID, dp.d.ID, names); err != nil {
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

func (dp *deployJob) database() (easypanel.MariaDB, error) {
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
func (dp *deployJob) createDatabase(ctx context.Context) (string, error) {
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
func (dp *deployJob) createApp(ctx context.Context) (string, error) {
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

func (dp *deployJob) env(db easypanel.MariaDB) (string, error) {
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
func (dp *deployJob) setDomain(ctx context.Context) (string, error) {
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
func (dp *deployJob) trigger(ctx context.Context) (string, error) {
	project, app := dp.d.Project, *dp.d.AppService
	in, err := dp.w.store.GetDeployIntent(ctx, dp.d.TenantID, dp.d.ID)
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
			if err := dp.w.store.AcceptDeployIntent(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID); err != nil {
				return "", err
			}
			return "the panel had started the deploy already (" + act.ID + "); not asked again", nil
		}
	} else {
		in = store.DeployIntent{DeploymentID: dp.d.ID, JobID: dp.job.ID, Action: dp.action}
		if len(acts) > 0 {
			in.BeforeAction, in.BeforeAt = acts[0].ID, acts[0].CreatedAt
		}
		if err := dp.w.store.RecordDeployIntent(ctx, dp.d.TenantID, in); err != nil {
			return "", err
		}
	}
	if err := dp.panel.Deploy(ctx, project, app); err != nil {
		return "", err
	}
	if err := dp.w.store.AcceptDeployIntent(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID); err != nil {
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
func (dp *deployJob) watch(ctx context.Context) (string, error) {
	in, err := dp.w.store.StartDeployWait(ctx, dp.d.TenantID, dp.d.ID, dp.job.ID, dp.action, dp.w.wait)
	if err != nil {
		return "", err
	}
	deadline, before := in.WaitDeadline, easypanel.Action{ID: in.BeforeAction, CreatedAt: in.BeforeAt}
	ticker := time.NewTicker(max(dp.w.pollEvery, 10*time.Millisecond))
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
func (dp *deployJob) look(ctx context.Context, before easypanel.Action) (string, error) {
	acts, err := dp.panel.DeployActions(ctx, dp.d.Project, *dp.d.AppService)
	if err != nil {
		return "", err
	}
	act, found := easypanel.NewerThan(acts, before)
	switch {
	case !found && (dp.action != tasks.ActionStart || len(acts) > 0):
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

func notFound(err error) bool {
	var pe *easypanel.Error
	return errors.As(err, &pe) && pe.NotFound()
}

func conflict(err error) bool {
	var pe *easypanel.Error
	return errors.As(err, &pe) && pe.Conflict()
}
