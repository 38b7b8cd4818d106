package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// siteCheckStore is what the site check reads and writes.
type siteCheckStore interface {
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	RecordSiteCheck(ctx context.Context, tenantID, id int64, c store.SiteCheck) error
	FinishJob(ctx context.Context, o store.Outcome) error
}

// SiteChecker runs site:check jobs.
type SiteChecker struct {
	store siteCheckStore
	sites *siteClients
}

// Work tests a site's connection (the subject): the REST API answers (the
// style found is remembered), the application password works and the user
// may publish and upload. It stores the site's health, the reason and its
// code after every attempt, and costs nothing. A site that cannot be
// reached for a passing reason (no connection, a timeout, a 5xx) is tried
// again a few times, showing the reason meanwhile; a site that is
// unhealthy for a reason no waiting heals (a name that does not exist, a
// certificate for another name, a refused password, no REST API, a user
// without the rights) fails the job at once with that reason.
func (c *SiteChecker) Work(ctx context.Context, p tasks.Payload) error {
	job, err := c.store.StartJobCosting(ctx, p.TenantID, p.JobID, 0, "checking")
	if err != nil {
		return err
	}
	site, err := c.store.GetSite(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("site %d: %w", p.SubjectID, err)
	}
	rediscover := site
	rediscover.RESTStyle = nil // a check finds the style again: the permalinks may have changed
	wp, err := c.sites.open(ctx, rediscover)
	if err != nil {
		return err
	}
	res, err := wp.Check(ctx)
	if err != nil {
		reason := "The site could not be reached: " + unreachableReason(err)
		if rerr := c.store.RecordSiteCheck(ctx, p.TenantID, site.ID, store.SiteCheck{Health: store.HealthUnhealthy,
			Reason: reason, Code: failureCode(err)}); rerr != nil {
			return rerr
		}
		return errs.WithCode(failureCode(err), reason, err)
	}
	check := store.SiteCheck{RESTStyle: string(res.Style), Health: store.HealthUnhealthy, Reason: res.Reason, Code: res.Code}
	if res.Healthy {
		check.Health, check.Code = store.HealthHealthy, ""
	}
	if err := c.store.RecordSiteCheck(ctx, p.TenantID, site.ID, check); err != nil {
		return err
	}
	if !res.Healthy {
		return errs.Permanent(errs.WithCode(res.Code, res.Reason, errSiteUnhealthy))
	}
	result := map[string]any{"site_id": site.ID, "health": check.Health, "reason": check.Reason,
		"rest_style": res.Style, "user": res.Username, "can_publish": res.CanPublish,
		"can_upload": res.CanUpload, "can_manage_terms": res.CanManageTerms}
	return c.store.FinishJob(ctx, outcome(p, job, 0, ai.Usage{}, result))
}

// errSiteUnhealthy is the cause of a check that found the site unhealthy.
var errSiteUnhealthy = errors.New("the site check found the site unhealthy")

// unreachableReason is what a user reads of a connection that failed.
func unreachableReason(err error) string {
	var status *wordpress.StatusError
	if msg, ok := errs.MessageOf(err); ok {
		return msg
	}
	if errors.As(err, &status) {
		return fmt.Sprintf("the site answered HTTP %d %s", status.Status, http.StatusText(status.Status))
	}
	return "no answer"
}
