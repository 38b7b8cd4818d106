package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/links"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// Phases of a links refresh.
const (
	phaseLinksRead  = "reading_site"
	phaseLinksSave  = "saving_inventory"
	phaseLinksEmbed = "embedding_titles"
)

// linksStore is what the links refresh reads and writes.
type linksStore interface {
	embeddingCache
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	ReplaceLinks(ctx context.Context, tenantID, siteID int64, readAt time.Time, links []store.NewLink) (store.LinkRefresh, error)
	FinishJob(ctx context.Context, o store.Outcome) error
}

// LinkRefresher runs site:links jobs.
type LinkRefresher struct {
	store  linksStore
	sites  *siteClients
	models *Models
	retry  callRetry
	now    func() time.Time
}

// Work reads the published posts and pages of a site (the subject) from
// WordPress and makes them the site's link inventory, in one transaction,
// then embeds the titles the tenant's embedding cache lacks, so that the
// draft stage finds them there. It costs no credits. Running it twice is
// harmless: the second replace stores the same inventory, and a refresh
// that read the site before another one stored is dropped (store.ReplaceLinks).
func (r *LinkRefresher) Work(ctx context.Context, p tasks.Payload) error {
	job, err := r.store.StartJobCosting(ctx, p.TenantID, p.JobID, 0, phaseLinksRead)
	if err != nil {
		return err
	}
	site, err := r.store.GetSite(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("site %d: %w", p.SubjectID, err)
	}
	wp, err := r.sites.open(ctx, site)
	if err != nil {
		return err
	}
	readAt := r.now()
	published, skipped, err := wp.ListPublished(ctx)
	if err != nil {
		return fmt.Errorf("read the posts and pages of site %d: %w", site.ID, err)
	}
	if err := r.store.SetPhase(ctx, p.JobID, phaseLinksSave); err != nil {
		return err
	}
	res, err := r.store.ReplaceLinks(ctx, p.TenantID, site.ID, readAt, newLinks(published))
	if err != nil {
		return err
	}
	usage, embedded, err := r.embedTitles(ctx, p, published)
	if err != nil {
		return fmt.Errorf("embed the titles of site %d: %w", site.ID, err)
	}
	result := map[string]any{"site_id": site.ID, "entries": res.Entries, "removed": res.Removed,
		"skipped_off_site": skipped, "stale": res.Stale, "titles_embedded": embedded}
	return r.store.FinishJob(ctx, outcome(p, job, 0, usage, result))
}

// embedTitles puts the vectors of the titles into the embedding cache of
// the tenant's embedding model; a worker without one leaves that to the
// draft stage.
func (r *LinkRefresher) embedTitles(ctx context.Context, p tasks.Payload, published []wordpress.Published) (ai.Usage, int, error) {
	embedder, err := r.models.EmbedderFor(ctx, p.TenantID)
	if err != nil || embedder == nil || len(published) == 0 {
		return ai.Usage{}, 0, err
	}
	if err := r.store.SetPhase(ctx, p.JobID, phaseLinksEmbed); err != nil {
		return ai.Usage{}, 0, err
	}
	titles := make([]string, len(published))
	for i, pub := range published {
		titles[i] = pub.Title
	}
	_, usage, err := embedCached(ctx, r.store, r.retry, p.TenantID, embedder, titles)
	return usage, len(titles), err
}

func newLinks(published []wordpress.Published) []store.NewLink {
	out := make([]store.NewLink, len(published))
	for i, pub := range published {
		out[i] = store.NewLink{WPID: pub.ID, Kind: pub.Kind, URL: pub.Link, Title: pub.Title, TitleHash: textHash(pub.Title)}
	}
	return out
}

// linkPickStore is what choosing and checking a draft's links reads.
type linkPickStore interface {
	embeddingCache
	SiteLinks(ctx context.Context, tenantID, siteID int64) ([]store.Link, error)
}

// InternalLinks gives the draft stage a site's link inventory: the few
// entries to offer the model, and the check of what it wrote.
type InternalLinks struct {
	store linkPickStore
	retry callRetry
}

// NewInternalLinks returns the draft stage's access to the inventories in
// st; retryBase is Deps.CallRetryBase.
func NewInternalLinks(st *store.Store, retryBase time.Duration) *InternalLinks {
	return &InternalLinks{store: st, retry: callRetry{base: retryBase}}
}

// Relevant returns up to n entries of the site's inventory closest in
// meaning to idea (the idea's title and keywords as one text), by cosine
// similarity of embeddings of embedder (cached per tenant; what the cache
// lacks is embedded now and its usage returned), never the page at
// exclude (the article itself when it is already published; "" for
// none). An empty inventory gives none and costs nothing.
func (l *InternalLinks) Relevant(ctx context.Context, tenantID, siteID int64, embedder ai.Embedder, idea string,
	exclude string, n int) ([]links.Entry, ai.Usage, error) {
	inv, err := l.store.SiteLinks(ctx, tenantID, siteID)
	if err != nil {
		return []links.Entry{}, ai.Usage{}, err
	}
	return l.closest(ctx, tenantID, siteID, embedder, idea, inv, exclude, n)
}

// closest returns up to n entries of inv closest in meaning to text, as
// Relevant does.
func (l *InternalLinks) closest(ctx context.Context, tenantID, siteID int64, embedder ai.Embedder, text string,
	inv []store.Link, exclude string, n int) ([]links.Entry, ai.Usage, error) {
	if len(inv) == 0 || n <= 0 {
		return []links.Entry{}, ai.Usage{}, nil
	}
	texts := make([]string, 0, len(inv)+1)
	texts = append(texts, text)
	for _, e := range inv {
		texts = append(texts, e.Title)
	}
	vectors, usage, err := embedCached(ctx, l.store, l.retry, tenantID, embedder, texts)
	if err != nil {
		return nil, usage, fmt.Errorf("embed the link inventory of site %d: %w", siteID, err)
	}
	entries := make([]links.Entry, len(inv))
	for i, e := range inv {
		entries[i] = links.Entry{URL: e.URL, Title: e.Title, Kind: e.Kind, Vector: vectors[i+1]}
	}
	return links.Relevant(vectors[0], entries, n, exclude), usage, nil
}

// Check removes from body every link to the site that its inventory does
// not hold (links.Check) and returns the body and what it removed.
func (l *InternalLinks) Check(ctx context.Context, tenantID int64, site store.Site, body string) (string, []links.Removed, error) {
	inv, err := l.store.SiteLinks(ctx, tenantID, site.ID)
	if err != nil {
		return "", nil, fmt.Errorf("link inventory of site %d: %w", site.ID, err)
	}
	checked, removed := checkLinks(inv, site.URL, body)
	return checked, removed, nil
}

// checkLinks is links.Check against the inventory inv of the site at
// siteURL.
func checkLinks(inv []store.Link, siteURL, body string) (string, []links.Removed) {
	urls := make([]string, len(inv))
	for i, e := range inv {
		urls[i] = e.URL
	}
	return links.Check(body, urls, siteURL)
}

// sitePages reads a site's link inventory once for a job that needs it
// twice (a draft's link targets before its model call and its link check
// after).
type sitePages struct {
	links            *InternalLinks
	tenantID, siteID int64
	inv              []store.Link
	done             bool
}

// read returns the inventory, read on the first call (none without links).
func (p *sitePages) read(ctx context.Context) ([]store.Link, error) {
	if p.done || p.links == nil {
		return p.inv, nil
	}
	inv, err := p.links.store.SiteLinks(ctx, p.tenantID, p.siteID)
	if err != nil {
		return nil, err
	}
	p.inv, p.done = inv, true
	return inv, nil
}

// linkHook keeps a site's inventory current after a publish.
type linkHook struct {
	store interface {
		AddLink(ctx context.Context, tenantID, siteID int64, at time.Time, l store.NewLink) error
		CreateJobs(ctx context.Context, tenantID int64, batchID string, jobs []store.NewJob) (store.JobBatch, error)
	}
	jobs submitter // nil: no refresh is queued
	log  *slog.Logger
	now  func() time.Time
}

// published adds a post just published to its site's inventory, at once,
// and queues a refresh of the whole inventory (skipped when one is
// queued or running already). Neither may fail the publish, which is
// done: a failure is logged, and the daily refresh catches up.
func (h *linkHook) published(ctx context.Context, p tasks.Payload, site store.Site, post wordpress.Post, title string) {
	if post.Status == "publish" && links.OnSite(post.Link, site.URL) {
		l := store.NewLink{WPID: post.ID, Kind: "post", URL: post.Link, Title: title, TitleHash: textHash(title)}
		if err := h.store.AddLink(ctx, p.TenantID, site.ID, h.now(), l); err != nil {
			h.log.Warn("adding a published post to the link inventory failed", "tenant", p.TenantID, "site", site.ID, "error", err)
		}
	}
	if h.jobs == nil {
		return
	}
	h.queue(ctx, p, site, jobs.LinksJob("links-after-"+p.JobID, site.ID), "a links refresh")
	h.queueBacklinks(ctx, p, site, post)
}

// queueBacklinks queues the back-link pass of a post just published when
// its site asks for one (Site.Backlinks); its id follows the publish
// job's, so a publish delivered twice queues one pass.
func (h *linkHook) queueBacklinks(ctx context.Context, p tasks.Payload, site store.Site, post wordpress.Post) {
	if site.Backlinks <= 0 || post.Status != tasks.PostPublish {
		return
	}
	h.queue(ctx, p, site, jobs.BacklinksJob("backlinks-after-"+p.JobID, site.ID, p.SubjectID), "the back-link pass")
}

// queue creates and delivers job after the publish p; a failure is only
// logged (what names the job), since the publish is done.
func (h *linkHook) queue(ctx context.Context, p tasks.Payload, site store.Site, job store.NewJob, what string) {
	err := h.jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		made, err := h.store.CreateJobs(ctx, p.TenantID, "", []store.NewJob{job})
		return made.Deliver, err
	})
	if err != nil {
		h.log.Warn("queueing "+what+" after a publish failed", "tenant", p.TenantID, "site", site.ID, "error", err)
	}
}
