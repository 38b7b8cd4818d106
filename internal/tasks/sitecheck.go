package tasks

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

// checkSite tests a site's connection (the subject): the REST API answers
// (the style found is remembered), the application password works and the
// user may publish and upload. It stores the site's health and the reason,
// and costs nothing. A site that cannot be reached is retried a few times;
// on the last attempt it is recorded unhealthy with what went wrong.
func (h *Handlers) checkSite(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, 0, "checking")
	if err != nil {
		return err
	}
	site, err := h.Store.GetSite(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("site %d: %w", p.SubjectID, err)
	}
	rediscover := site
	rediscover.RESTStyle = nil // a check finds the style again: the permalinks may have changed
	wp, err := h.siteClient(ctx, rediscover)
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
	if err := h.Store.RecordSiteCheck(ctx, p.TenantID, site.ID, check); err != nil {
		return err
	}
	result := map[string]any{"site_id": site.ID, "health": check.Health, "reason": check.Reason,
		"rest_style": res.Style, "user": res.Username, "can_publish": res.CanPublish,
		"can_upload": res.CanUpload, "can_manage_terms": res.CanManageTerms}
	return h.Store.FinishJob(ctx, outcome(p, job, 0, ai.Usage{}, result))
}
