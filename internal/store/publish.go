package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Draft statuses.
const (
	DraftWritten        = "draft"
	DraftAwaitingReview = "awaiting_review"
	DraftApproved       = "approved"
	DraftPublished      = "published"
)

// DraftEdit holds the fields an editor may change on a draft; nil leaves a
// field as it is. BodyHTML must already be sanitized.
type DraftEdit struct {
	Title, Slug, Excerpt, MetaTitle, MetaDescription, FocusKeyword, BodyHTML *string
	WordCount                                                                *int
	Categories, Tags                                                         []string // nil: unchanged
}

// EditDraft changes an editor's fields of a draft. A published draft stays
// published: publishing it again updates the same WordPress post.
func (s *Store) EditDraft(ctx context.Context, tenantID, id int64, e DraftEdit) (Draft, error) {
	d, err := scanDraft(s.pool.QueryRow(ctx, `UPDATE drafts SET title = coalesce($3, title),
		slug = coalesce($4, slug), excerpt = coalesce($5, excerpt), meta_title = coalesce($6, meta_title),
		meta_description = coalesce($7, meta_description), focus_keyword = coalesce($8, focus_keyword),
		body_html = coalesce($9, body_html), word_count = coalesce($10, word_count),
		categories = coalesce($11::text[], categories), tags = coalesce($12::text[], tags), updated_at = now()
		WHERE tenant_id = $1 AND id = $2 RETURNING `+draftColumns,
		tenantID, id, e.Title, e.Slug, e.Excerpt, e.MetaTitle, e.MetaDescription, e.FocusKeyword, e.BodyHTML,
		e.WordCount, e.Categories, e.Tags))
	return d, translate(err)
}

// HoldForReview puts drafts in awaiting_review with the options of the
// publish that waits for an editor's approval. Published drafts are held
// too: an edit of a live post is reviewed like a new one.
func (s *Store) HoldForReview(ctx context.Context, tenantID int64, ids []int64, request json.RawMessage) ([]int64, error) {
	var held []int64
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH held AS (
			UPDATE drafts SET status = 'awaiting_review', publish_request = $3, updated_at = now()
			WHERE tenant_id = $1 AND id = ANY($2) RETURNING id) SELECT id FROM held ORDER BY id`, tenantID, ids, request)
		if err != nil {
			return err
		}
		if held, err = collect(rows, func(r pgx.Row) (id int64, err error) {
			err = r.Scan(&id)
			return id, err
		}); err != nil {
			return err
		}
		for _, id := range held {
			if err := recordEvent(ctx, tx, tenantID, EventDraftAwaitingReview, fmt.Sprintf("draft:%d", id),
				map[string]any{"draft_id": id}); err != nil {
				return err
			}
		}
		return nil
	})
	return held, err
}

// ApproveDrafts marks the tenant's drafts among ids approved and returns
// them (without bodies), each with the publish request it was waiting with.
func (s *Store) ApproveDrafts(ctx context.Context, tenantID int64, ids []int64) ([]Draft, error) {
	rows, err := s.pool.Query(ctx, `UPDATE drafts SET status = 'approved', updated_at = now()
		WHERE tenant_id = $1 AND id = ANY($2) AND status <> 'published'
		RETURNING `+draftListColumns, tenantID, ids)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanDraft)
}

// DraftClusterName returns the name of the cluster a draft's idea came
// from: the category of a draft that names none.
func (s *Store) DraftClusterName(ctx context.Context, tenantID, draftID int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `SELECT c.name FROM drafts d JOIN ideas i ON i.id = d.idea_id
		JOIN clusters c ON c.id = i.cluster_id WHERE d.tenant_id = $1 AND d.id = $2`, tenantID, draftID).Scan(&name)
	return name, translate(err)
}

// WPPost is what WordPress answered about a draft's post.
type WPPost struct {
	ID     int64
	Slug   string
	Link   string
	Status string
}

// LinkRefused is the publish report's note when the site answered with a
// post link that is not an http(s) address: the link is not stored.
const LinkRefused = "the site returned an unusable link for the post (not an http or https address); no link was stored"

// PostLink returns link if it is an absolute http or https address, else
// "". A post's link comes from the remote site and is shown as an href:
// a hostile or broken site could answer javascript: or data: links.
func PostLink(link string) string {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return link
}

// RecordPost stores the WordPress post of a draft. The publisher calls it
// right after the remote create (and after adopting a post found on the
// site), before any further step, so that a retry updates that post. A
// link that is not http(s) is stored as none.
func (s *Store) RecordPost(ctx context.Context, tenantID, draftID int64, p WPPost) error {
	tag, err := s.pool.Exec(ctx, `UPDATE drafts SET wp_post_id = $3, wp_slug = $4, wp_link = nullif($5, ''), wp_status = $6
		WHERE tenant_id = $1 AND id = $2`, tenantID, draftID, p.ID, p.Slug, PostLink(p.Link), p.Status)
	return oneRow(tag.RowsAffected(), err)
}

// ForgetPost clears a draft's post id: the post was deleted in WordPress.
func (s *Store) ForgetPost(ctx context.Context, tenantID, draftID, postID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE drafts SET wp_post_id = NULL, wp_slug = NULL, wp_link = NULL, wp_status = NULL
		WHERE tenant_id = $1 AND id = $2 AND wp_post_id = $3`, tenantID, draftID, postID)
	return translate(err)
}

// RecordMedia stores the WordPress media id of an image, right after the
// upload (or after adopting media found on the site); zero forgets it.
func (s *Store) RecordMedia(ctx context.Context, tenantID, imageID, mediaID int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE images SET wp_media_id = nullif($3, 0), updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, imageID, mediaID)
	return oneRow(tag.RowsAffected(), err)
}

// FinishPublish records a draft as published with WordPress's final answer
// and the report of what was kept, and finishes the job, in one
// transaction. A post link that is not http(s) is stored as none and the
// report says so (LinkRefused, under "link_problem"); the draft is
// published all the same.
func (s *Store) FinishPublish(ctx context.Context, o Outcome, draftID int64, p WPPost, report any) error {
	encoded, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("encode publish report: %w", err)
	}
	link := PostLink(p.Link)
	if link != p.Link {
		if encoded, err = withReportNote(encoded, "link_problem", LinkRefused); err != nil {
			return err
		}
	}
	return s.transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE drafts SET status = 'published', publish_request = NULL,
			wp_post_id = $3, wp_slug = $4, wp_link = nullif($5, ''), wp_status = $6, published_at = now(),
			publish_report = $7 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, draftID, p.ID, p.Slug, link, p.Status, encoded)
		if err := oneRow(tag.RowsAffected(), err); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, o.TenantID, EventPostPublished, fmt.Sprintf("draft:%d", draftID), map[string]any{
			"draft_id": draftID, "job_id": o.JobID, "post_id": p.ID, "link": link, "wp_status": p.Status}); err != nil {
			return err
		}
		return finishJob(ctx, tx, o)
	})
}

// PublishFailure is a publish of a draft that failed, as the draft's
// publish_report shows it under "failed": the job's public message and
// code, and whether the job tries again (when, and how many tries remain)
// or has failed for good.
type PublishFailure struct {
	JobID       string     `json:"job_id"`
	Error       string     `json:"error"`
	ErrorCode   string     `json:"error_code"`
	At          time.Time  `json:"at"`
	Final       bool       `json:"final"`
	RetryAt     *time.Time `json:"retry_at"`
	RetriesLeft *int       `json:"retries_left"`
}

// RecordPublishFailure shows f on the draft's publish_report, beside what
// the last successful publish reported (the post WordPress still holds); a
// later successful publish replaces the whole report (FinishPublish). It
// writes only while f's job is in the state f describes (failed when
// final, else queued for its retry), so that a late or repeated record of
// an attempt never hides what a newer one did.
func (s *Store) RecordPublishFailure(ctx context.Context, tenantID, draftID int64, f PublishFailure) error {
	encoded, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode publish failure: %w", err)
	}
	state := JobQueued
	if f.Final {
		state = JobFailed
	}
	_, err = s.pool.Exec(ctx, `UPDATE drafts SET publish_report =
			CASE WHEN jsonb_typeof(publish_report) = 'object' THEN publish_report ELSE '{}' END
			|| jsonb_build_object('failed', $3::jsonb)
		WHERE tenant_id = $1 AND id = $2
			AND EXISTS (SELECT 1 FROM jobs WHERE tenant_id = $1 AND id = $4 AND state = $5)`,
		tenantID, draftID, encoded, f.JobID, state)
	return translate(err)
}

// withReportNote adds key: note to an encoded publish report (a JSON
// object, or null for none).
func withReportNote(report []byte, key, note string) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(report, &fields); err != nil {
		return nil, fmt.Errorf("publish report is not a JSON object: %w", err)
	}
	if fields == nil { // the report was null
		fields = map[string]json.RawMessage{}
	}
	encoded, err := json.Marshal(note)
	if err != nil {
		return nil, fmt.Errorf("encode publish report note: %w", err)
	}
	fields[key] = encoded
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode publish report: %w", err)
	}
	return out, nil
}

// AdvisoryLock is a PostgreSQL advisory lock held on a connection of its
// own: a draft's publish lock, held by the one delivery that publishes
// it, or a site's ideas lock.
type AdvisoryLock struct {
	conn *pgxpool.Conn
	key  int64
}

// publishLockSpace keeps the draft locks apart from other advisory locks
// (goose uses its own key).
const publishLockSpace = int64(0x5057) << 40

// ideasLockSpace keeps the sites' ideas locks apart from the others.
const ideasLockSpace = int64(0x4944) << 40

// ErrLocked means another delivery holds the lock.
var ErrLocked = errors.New("locked by another delivery")

// LockDraft takes the publish lock of a draft: a PostgreSQL advisory lock
// held on a connection of a pool of its own (so that holders never starve
// the main pool), released by Unlock or when the holder's process dies and
// its connection closes. ErrLocked means another delivery holds it.
func (s *Store) LockDraft(ctx context.Context, draftID int64) (*AdvisoryLock, error) {
	return s.advisoryLock(ctx, publishLockSpace|draftID, false)
}

// LockSiteIdeas takes a site's ideas lock, waiting for it: an ideas job
// holds it from reading the site's ideas to saving its own, so that two
// jobs of one site cannot both keep ideas that duplicate each other.
func (s *Store) LockSiteIdeas(ctx context.Context, siteID int64) (*AdvisoryLock, error) {
	return s.advisoryLock(ctx, ideasLockSpace|siteID, true)
}

// advisoryLock takes the advisory lock key on a connection of the lock
// pool: waiting for it, or ErrLocked at once when another holds it.
func (s *Store) advisoryLock(ctx context.Context, key int64, wait bool) (*AdvisoryLock, error) {
	pool, err := s.lockPool(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, translate(err)
	}
	if wait {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			// Canceled while waiting: the connection may get the lock later.
			_ = conn.Conn().Close(context.Background())
			conn.Release()
			return nil, translate(err)
		}
		return &AdvisoryLock{conn: conn, key: key}, nil
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Release()
		return nil, translate(err)
	}
	if !got {
		conn.Release()
		return nil, ErrLocked
	}
	return &AdvisoryLock{conn: conn, key: key}, nil
}

// Unlock releases the lock. A connection that cannot say so is closed,
// which releases it too.
func (l *AdvisoryLock) Unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key); err != nil {
		_ = l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}

// lockPool returns the pool that holds draft locks, opened on first use.
func (s *Store) lockPool(ctx context.Context) (*pgxpool.Pool, error) {
	s.locksOnce.Do(func() {
		cfg := s.pool.Config().Copy()
		cfg.MinConns = 0
		cfg.MaxConnIdleTime = time.Minute
		s.locks, s.locksErr = pgxpool.NewWithConfig(context.WithoutCancel(ctx), cfg)
	})
	return s.locks, translate(s.locksErr)
}

func oneRow(n int64, err error) error {
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return translate(pgx.ErrNoRows)
	}
	return nil
}
