package worker

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
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
// may publish and upload. It stores the site's health and the reason, and
// costs nothing. A site that cannot be reached is retried a few times; on
// the last attempt it is recorded unhealthy with what went wrong.
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
		if !isLastAttempt(ctx) {
			return err
		}
		res.Reason = "The site could not be reached: " + err.Error()
	}
	check := store.SiteCheck{RESTStyle: string(res.Style), Health: store.HealthUnhealthy, Reason: res.Reason}
	if res.Healthy {
		check.Health = store.HealthHealthy
	}
	if err := c.store.RecordSiteCheck(ctx, p.TenantID, site.ID, check); err != nil {
		return err
	}
	result := map[string]any{"site_id": site.ID, "health": check.Health, "reason": check.Reason,
		"rest_style": res.Style, "user": res.Username, "can_publish": res.CanPublish,
		"can_upload": res.CanUpload, "can_manage_terms": res.CanManageTerms}
	return c.store.FinishJob(ctx, outcome(p, job, 0, ai.Usage{}, result))
}
