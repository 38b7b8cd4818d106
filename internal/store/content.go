package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Cluster is a group of a site's keywords on one topic.
type Cluster struct {
	ID          int64  `json:"id"`
	SiteID      int64  `json:"site_id"`
	JobID       string `json:"job_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// NameSource says who named the cluster: NameByModel, NameByFallback
	// (the model gave no usable name; named after its most central
	// keyword, to be renamed) or NameByUser.
	NameSource   string `json:"name_source"`
	KeywordCount int    `json:"keyword_count"`
	// Locked keeps automatic clustering from changing the cluster; its
	// user may still edit it (see Editor).
	Locked bool `json:"locked"`
	// Edited is set once a user changed the cluster's keywords (a move,
	// a removal, a merge or a split): a full re-cluster keeps it as it is.
	Edited    bool      `json:"edited"`
	CreatedAt time.Time `json:"created_at"`
}

// Who named a cluster (Cluster.NameSource).
const (
	NameByModel    = "model"
	NameByFallback = "fallback"
	NameByUser     = "user"
)

// Heading is one outline entry of an idea.
type Heading struct {
	Level int    `json:"level"`
	Text  string `json:"text"`
}

// Idea is a proposed article for a cluster.
type Idea struct {
	ID             int64     `json:"id"`
	SiteID         int64     `json:"site_id"`
	ClusterID      int64     `json:"cluster_id"`
	JobID          string    `json:"job_id"`
	Title          string    `json:"title"`
	ContentType    string    `json:"content_type"`
	TargetKeywords []string  `json:"target_keywords"`
	Outline        []Heading `json:"outline"`
	DraftID        *int64    `json:"draft_id"`
	CreatedAt      time.Time `json:"created_at"`
}

// Draft is a written article for an idea.
type Draft struct {
	ID              int64  `json:"id"`
	SiteID          int64  `json:"site_id"`
	IdeaID          int64  `json:"idea_id"`
	JobID           string `json:"job_id"`
	Title           string `json:"title"`
	Slug            string `json:"slug"`
	Excerpt         string `json:"excerpt"`
	MetaTitle       string `json:"meta_title"`
	MetaDescription string `json:"meta_description"`
	FocusKeyword    string `json:"focus_keyword"`
	BodyHTML        string `json:"body_html,omitempty"`
	WordCount       int    `json:"word_count"`
	// Status is the editorial state: draft, awaiting_review, approved or
	// published.
	Status     string   `json:"status"`
	Categories []string `json:"categories"`
	Tags       []string `json:"tags"`
	// PublishRequest holds the options of a publish waiting for review.
	PublishRequest json.RawMessage `json:"publish_request,omitempty"`
	// What WordPress answered: the post's id, slug, address and status.
	WPPostID    *int64     `json:"wp_post_id"`
	WPSlug      *string    `json:"wp_slug"`
	WPLink      *string    `json:"wp_link"`
	WPStatus    *string    `json:"wp_status"`
	PublishedAt *time.Time `json:"published_at"`
	// PublishReport is what the last publish sent and what WordPress kept.
	PublishReport json.RawMessage `json:"publish_report,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// NewCluster is a cluster a clustering job found.
type NewCluster struct {
	Name        string
	Description string
	NameSource  string // NameByModel if empty
	KeywordIDs  []int64
	// Centroid is the mean of the members' unit vectors, over CentroidSize
	// of them (see Clustering.Model); nil keeps none.
	Centroid     []float32
	CentroidSize int
}

// SaveClusters stores a clustering job's clusters, assigns their keywords
// and finishes the job, in one transaction (SaveClustering with new
// clusters only). Keywords that another job clustered meanwhile are left
// where they are.
func (s *Store) SaveClusters(ctx context.Context, o Outcome, siteID int64, clusters []NewCluster) error {
	return s.SaveClustering(ctx, o, siteID, Clustering{New: clusters})
}

const clusterColumns = `id, site_id, job_id, name, description, name_source, keyword_count, locked, edited, created_at`

func scanCluster(r pgx.Row) (c Cluster, err error) {
	err = r.Scan(&c.ID, &c.SiteID, &c.JobID, &c.Name, &c.Description, &c.NameSource, &c.KeywordCount, &c.Locked,
		&c.Edited, &c.CreatedAt)
	return c, err
}

// GetCluster returns one of a tenant's clusters.
func (s *Store) GetCluster(ctx context.Context, tenantID, id int64) (Cluster, error) {
	c, err := scanCluster(s.pool.QueryRow(ctx,
		`SELECT `+clusterColumns+` FROM clusters WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return c, missing(translate(err), "cluster", id)
}

// ListClusters returns a site's clusters in id order.
func (s *Store) ListClusters(ctx context.Context, tenantID, siteID int64, page Page) ([]Cluster, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clusterColumns+` FROM clusters
		WHERE tenant_id = $1 AND site_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, siteID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanCluster)
}

// ClustersByIDs returns the tenant's clusters among ids; ids of other
// tenants or of no cluster are simply absent.
func (s *Store) ClustersByIDs(ctx context.Context, tenantID int64, ids []int64) ([]Cluster, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clusterColumns+` FROM clusters
		WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id`, tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanCluster)
}

// ClusterKeywords returns a cluster's keywords, highest volume first.
func (s *Store) ClusterKeywords(ctx context.Context, tenantID, clusterID int64) ([]Keyword, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keywordColumns+` FROM keywords
		WHERE tenant_id = $1 AND cluster_id = $2 ORDER BY volume DESC NULLS LAST, id`, tenantID, clusterID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanKeyword)
}

// NewIdea is an idea an ideas job wrote.
type NewIdea struct {
	Title          string
	ContentType    string
	TargetKeywords []string
	Outline        []Heading
}

// SaveIdeas stores an ideas job's ideas and finishes the job, in one
// transaction.
func (s *Store) SaveIdeas(ctx context.Context, o Outcome, cluster Cluster, ideas []NewIdea) error {
	return s.SaveIdeasRefusing(ctx, o, cluster, ideas, nil)
}

// SaveIdeasRefusing stores an ideas job's ideas and the ideas it refused
// as duplicates of the site's others, and finishes the job, in one
// transaction.
func (s *Store) SaveIdeasRefusing(ctx context.Context, o Outcome, cluster Cluster, ideas []NewIdea, refused []RefusedIdea) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if err := saveRefused(ctx, tx, o, cluster, refused); err != nil {
			return err
		}
		for _, idea := range ideas {
			outline, err := json.Marshal(idea.Outline)
			if err != nil {
				return fmt.Errorf("encode outline: %w", err)
			}
			targets := idea.TargetKeywords
			if targets == nil {
				targets = []string{} // the column is NOT NULL; nil would be NULL
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ideas (tenant_id, site_id, cluster_id, job_id, title,
				content_type, target_keywords, outline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				o.TenantID, cluster.SiteID, cluster.ID, o.JobID, idea.Title, idea.ContentType,
				targets, outline); err != nil {
				return fmt.Errorf("insert idea: %w", err)
			}
		}
		return finishJob(ctx, tx, o)
	})
}

const ideaColumns = `i.id, i.site_id, i.cluster_id, i.job_id, i.title, i.content_type, i.target_keywords,
	i.outline, d.id, i.created_at`

const ideaFrom = ` FROM ideas i LEFT JOIN drafts d ON d.idea_id = i.id `

func scanIdea(r pgx.Row) (i Idea, err error) {
	err = scanIdeaWith(r, &i)
	return i, err
}

// scanIdeaWith scans ideaColumns into i, then any further columns into
// extra.
func scanIdeaWith(r pgx.Row, i *Idea, extra ...any) error {
	return r.Scan(append([]any{&i.ID, &i.SiteID, &i.ClusterID, &i.JobID, &i.Title, &i.ContentType,
		&i.TargetKeywords, &i.Outline, &i.DraftID, &i.CreatedAt}, extra...)...)
}

// GetIdea returns one of a tenant's ideas.
func (s *Store) GetIdea(ctx context.Context, tenantID, id int64) (Idea, error) {
	i, err := scanIdea(s.pool.QueryRow(ctx,
		`SELECT `+ideaColumns+ideaFrom+`WHERE i.tenant_id = $1 AND i.id = $2`, tenantID, id))
	return i, missing(translate(err), "idea", id)
}

// IdeaInContext is an idea with what a draft of it is written under: its
// cluster's and its site's names, its site's address and the content
// profile documents of its site and tenant.
type IdeaInContext struct {
	Idea
	ClusterName, SiteName string
	SiteURL               string
	Profiles              ContentProfiles
}

// GetIdeaInContext returns one of a tenant's ideas in its context, in one
// query (the draft stage reads it for every job).
func (s *Store) GetIdeaInContext(ctx context.Context, tenantID, id int64) (IdeaInContext, error) {
	var ic IdeaInContext
	row := s.pool.QueryRow(ctx, `SELECT `+ideaColumns+`, c.name, s.name, s.url, s.content_profile, t.content_profile`+
		ideaInContextFrom+` WHERE i.tenant_id = $1 AND i.id = $2`, tenantID, id)
	err := scanIdeaWith(row, &ic.Idea, &ic.ClusterName, &ic.SiteName, &ic.SiteURL, &ic.Profiles.Site, &ic.Profiles.Tenant)
	return ic, missing(translate(err), "idea", id)
}

// StartDraftJob is StartJob for a job whose subject is an idea (a
// draft:write job), and GetIdeaInContext of that idea: in one statement
// when the job starts the common way (#24). An idea that cannot be read
// is an error naming it, after the job started.
func (s *Store) StartDraftJob(ctx context.Context, tenantID int64, jobID, phase string) (Job, IdeaInContext, error) {
	job, doc, ok, err := s.startReserved(ctx, tenantID, jobID, phase, nil, ideaInContextDoc)
	if err != nil {
		return Job{}, IdeaInContext{}, err
	}
	if !ok {
		if job, err = s.startLongWay(ctx, tenantID, jobID, phase, nil); err != nil {
			return Job{}, IdeaInContext{}, err
		}
		idea, err := s.GetIdeaInContext(ctx, tenantID, job.SubjectID)
		if err != nil {
			return job, idea, fmt.Errorf("idea %d: %w", job.SubjectID, err)
		}
		return job, idea, nil
	}
	if doc == nil {
		return job, IdeaInContext{}, fmt.Errorf("idea %d: %w", job.SubjectID, missing(errs.ErrNotFound, "idea", job.SubjectID))
	}
	var row ideaInContextRow
	if err := json.Unmarshal(doc, &row); err != nil {
		return job, IdeaInContext{}, fmt.Errorf("idea %d: %w", job.SubjectID, err)
	}
	return job, IdeaInContext{Idea: row.Idea, ClusterName: row.ClusterName, SiteName: row.SiteName, SiteURL: row.SiteURL,
		Profiles: ContentProfiles{Site: row.SiteProfile, Tenant: row.TenantProfile}}, nil
}

// ideaInContextDoc is GetIdeaInContext's query as a scalar subquery over
// a started job (startReserved), its idea as one JSON document
// (ideaInContextRow).
const ideaInContextDoc = `(SELECT to_jsonb(x) FROM (
	SELECT i.id, i.site_id, i.cluster_id, i.job_id, i.title, i.content_type, i.target_keywords, i.outline,
		d.id AS draft_id, i.created_at, c.name AS cluster_name, s.name AS site_name, s.url AS site_url,
		s.content_profile AS site_profile, t.content_profile AS tenant_profile` + ideaInContextFrom + `
	WHERE i.tenant_id = jobs.tenant_id AND i.id = jobs.subject_id) x)`

// ideaInContextFrom is where an idea in context is read from: the idea
// (i) with its draft (d), cluster (c), site (s) and tenant (t).
const ideaInContextFrom = ideaFrom + `
	JOIN clusters c ON c.id = i.cluster_id AND c.tenant_id = i.tenant_id
	JOIN sites s ON s.id = i.site_id AND s.tenant_id = i.tenant_id
	JOIN tenants t ON t.id = i.tenant_id`

// ideaInContextRow is the document of ideaInContextDoc.
type ideaInContextRow struct {
	Idea
	ClusterName   string          `json:"cluster_name"`
	SiteName      string          `json:"site_name"`
	SiteURL       string          `json:"site_url"`
	SiteProfile   json.RawMessage `json:"site_profile"`
	TenantProfile json.RawMessage `json:"tenant_profile"`
}

// IdeaFilter narrows an idea listing; zero fields match everything.
type IdeaFilter struct {
	SiteID, ClusterID int64
	WithoutDraft      bool
}

// ListIdeas returns a tenant's ideas in id order.
func (s *Store) ListIdeas(ctx context.Context, tenantID int64, f IdeaFilter, page Page) ([]Idea, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+ideaColumns+ideaFrom+`
		WHERE i.tenant_id = $1 AND i.id > $2 AND ($3 = 0 OR i.site_id = $3) AND ($4 = 0 OR i.cluster_id = $4)
		  AND (NOT $5 OR d.id IS NULL)
		ORDER BY i.id LIMIT $6`, tenantID, page.After, f.SiteID, f.ClusterID, f.WithoutDraft, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanIdea)
}

// SubjectRef names a job's subject and its site.
type SubjectRef struct{ ID, SiteID int64 }

// IdeaRefs returns the ids and sites of the tenant's ideas among ids: all
// a bulk draft request needs of up to thousands of ideas.
func (s *Store) IdeaRefs(ctx context.Context, tenantID int64, ids []int64) ([]SubjectRef, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, site_id FROM ideas WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id`,
		tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (ref SubjectRef, err error) {
		err = r.Scan(&ref.ID, &ref.SiteID)
		return ref, err
	})
}

// IdeaTitles returns the titles of a cluster's ideas.
func (s *Store) IdeaTitles(ctx context.Context, tenantID, clusterID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT title FROM ideas WHERE tenant_id = $1 AND cluster_id = $2 ORDER BY id`,
		tenantID, clusterID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (t string, err error) {
		err = r.Scan(&t)
		return t, err
	})
}

// SaveDraft stores a draft for an idea (replacing an earlier draft of the
// same idea) and finishes the job, in one transaction: the draft and its
// draft.ready event (with the event's deliveries) in one statement, the
// job's end in another (finishJob).
func (s *Store) SaveDraft(ctx context.Context, o Outcome, idea Idea, d Draft) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `WITH saved AS (
				INSERT INTO drafts (tenant_id, site_id, idea_id, job_id, title, slug, excerpt,
				meta_title, meta_description, focus_keyword, body_html, word_count)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
				ON CONFLICT (idea_id) DO UPDATE SET job_id = excluded.job_id, title = excluded.title,
				  slug = excluded.slug, excerpt = excluded.excerpt, meta_title = excluded.meta_title,
				  meta_description = excluded.meta_description, focus_keyword = excluded.focus_keyword,
				  body_html = excluded.body_html, word_count = excluded.word_count, updated_at = now()
				RETURNING id),
			event AS (
				INSERT INTO events (tenant_id, type, subject, data)
				SELECT $1, $13, 'draft:' || saved.id, jsonb_build_object('draft_id', saved.id, 'idea_id', $3::bigint,
					'site_id', $2::bigint, 'job_id', $4::text, 'title', $5::text, 'word_count', $12::int)
				FROM saved
				RETURNING `+eventReturning+`),
			`+deliveriesStep+`
			SELECT`,
			o.TenantID, idea.SiteID, idea.ID, o.JobID, d.Title, d.Slug, d.Excerpt, d.MetaTitle,
			d.MetaDescription, d.FocusKeyword, d.BodyHTML, d.WordCount, EventDraftReady); err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		return finishJob(ctx, tx, o)
	})
}

const draftColumns = `id, site_id, idea_id, job_id, title, slug, excerpt, meta_title, meta_description,
	focus_keyword, body_html, word_count, status, categories, tags, publish_request, wp_post_id, wp_slug,
	wp_link, wp_status, published_at, publish_report, created_at, updated_at`

// draftListColumns leaves the body out of listings.
var draftListColumns = strings.Replace(draftColumns, "body_html", "''", 1)

func scanDraft(r pgx.Row) (d Draft, err error) {
	err = r.Scan(&d.ID, &d.SiteID, &d.IdeaID, &d.JobID, &d.Title, &d.Slug, &d.Excerpt, &d.MetaTitle,
		&d.MetaDescription, &d.FocusKeyword, &d.BodyHTML, &d.WordCount, &d.Status, &d.Categories, &d.Tags,
		&d.PublishRequest, &d.WPPostID, &d.WPSlug, &d.WPLink, &d.WPStatus, &d.PublishedAt, &d.PublishReport,
		&d.CreatedAt, &d.UpdatedAt)
	if d.WPLink != nil && PostLink(*d.WPLink) == "" { // a link stored before links were checked
		d.WPLink = nil
	}
	return d, err
}

// GetDraft returns one of a tenant's drafts with its body.
func (s *Store) GetDraft(ctx context.Context, tenantID, id int64) (Draft, error) {
	d, err := scanDraft(s.pool.QueryRow(ctx,
		`SELECT `+draftColumns+` FROM drafts WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return d, missing(translate(err), "draft", id)
}

// ListDrafts returns a tenant's drafts without their bodies, in id order.
func (s *Store) ListDrafts(ctx context.Context, tenantID, siteID int64, page Page) ([]Draft, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+draftListColumns+` FROM drafts
		WHERE tenant_id = $1 AND ($2 = 0 OR site_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, siteID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanDraft)
}

// DraftsByIDs returns the tenant's drafts among ids, without their bodies.
func (s *Store) DraftsByIDs(ctx context.Context, tenantID int64, ids []int64) ([]Draft, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+draftListColumns+` FROM drafts
		WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id`, tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanDraft)
}
