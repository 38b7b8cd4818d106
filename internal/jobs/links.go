package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// LinksJob is the job that refreshes a site's link inventory, with id.
func LinksJob(id string, siteID int64) store.NewJob {
	return store.NewJob{ID: id, Type: tasks.TypeLinks, Queue: QueueDefault, SiteID: siteID, SubjectID: siteID}
}

// BacklinksJob is the job that links the older posts of a site to the
// post of draft draftID, just published, with id.
func BacklinksJob(id string, siteID, draftID int64) store.NewJob {
	return store.NewJob{ID: id, Type: tasks.TypeBacklinks, Queue: QueueDefault, SiteID: siteID, SubjectID: draftID}
}

// LinkRefresh queues the refresh of every site's link inventory once per
// Every: each pass submits a site:links job for the sites whose inventory
// is older (store.SitesDueForLinks), up to Batch of them. A job's id holds
// the site and the period, so a pass repeated in the same period (or by
// another scheduler) submits nothing new, and a site whose refresh failed
// is tried again in the next period.
type LinkRefresh struct {
	Store *store.Store
	Jobs  *Client
	Log   *slog.Logger
	Now   func() time.Time
	Every time.Duration
	Batch int
}

// Pass submits the refreshes due now; failures are logged.
func (l *LinkRefresh) Pass(ctx context.Context) {
	n, err := l.Once(ctx)
	if err != nil && ctx.Err() == nil {
		l.Log.Warn("queueing link inventory refreshes failed", "error", err, "queued", n)
	} else if n > 0 {
		l.Log.Info("queued link inventory refreshes", "sites", n)
	}
}

// Once submits the refreshes due now and returns how many jobs it created.
func (l *LinkRefresh) Once(ctx context.Context) (int, error) {
	now := l.Now()
	due, err := l.Store.SitesDueForLinks(ctx, now.Add(-l.Every), l.Batch)
	if err != nil {
		return 0, err
	}
	period := now.Truncate(l.Every).UTC().Format("20060102T1504")
	created := 0
	for _, ref := range due {
		id := fmt.Sprintf("links-%d-%s", ref.SiteID, period)
		made, err := l.Jobs.Create(ctx, ref.TenantID, "", []store.NewJob{LinksJob(id, ref.SiteID)})
		if err != nil {
			return created, fmt.Errorf("links refresh of site %d: %w", ref.SiteID, err)
		}
		created += len(made.Created)
	}
	return created, nil
}
