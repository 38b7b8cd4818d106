package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Image states and roles.
const (
	ImagePending = "pending"
	ImageReady   = "ready"
	// ImageFailed is an image whose job failed for good; Image.Error says
	// why. A later job (automation's, within ImageRetryLimit and with
	// back-off, or one asked for through the API) makes it pending again.
	ImageFailed = "failed"

	ImageRoleFeatured = "featured"
	ImageRoleInline   = "inline"
)

// Automation's retries of failed images: a draft whose images failed is
// retried while each has failed fewer than ImageRetryLimit times, no
// sooner than ImageRetryBase * 2^(failures-1) after the last failure.
const (
	ImageRetryLimit = 3
	ImageRetryBase  = 10 * time.Minute
)

// Image is a draft's generated image without its bytes. The featured image
// has position 0; in-article (inline) images have positions 1 to 5 and the
// text of the heading they follow.
type Image struct {
	ID       int64  `json:"id"`
	DraftID  int64  `json:"draft_id"`
	JobID    string `json:"job_id"`
	Role     string `json:"role"`
	Position int    `json:"position"`
	Heading  string `json:"heading"`
	// WPMediaID is the WordPress media item made by the upload, once made.
	WPMediaID    *int64  `json:"wp_media_id"`
	Prompt       string  `json:"prompt"`
	AltText      string  `json:"alt_text"`
	Model        *string `json:"model"`
	PredictionID *string `json:"prediction_id"`
	ContentType  *string `json:"content_type"`
	SizeBytes    *int    `json:"size_bytes"`
	Width        *int    `json:"width"`
	Height       *int    `json:"height"`
	SHA256       []byte  `json:"sha256"`
	State        string  `json:"state"`
	// Error is why the image's last job failed; null once it is ready.
	Error *string `json:"error"`
	// Failures counts the image's failed jobs, FailedAt is the last one.
	Failures  int        `json:"failures"`
	FailedAt  *time.Time `json:"failed_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ImageFile is a generated image's file and what is known about it.
type ImageFile struct {
	Data          []byte
	ContentType   string
	Width, Height int
	SHA256        []byte
	Model         string
	PredictionID  string
}

const imageColumns = `id, draft_id, job_id, role, position, heading, wp_media_id, prompt, alt_text, model,
	prediction_id, content_type, size_bytes, width, height, sha256, state, error, failures, failed_at, created_at, updated_at`

func scanImage(r pgx.Row) (i Image, err error) {
	err = r.Scan(&i.ID, &i.DraftID, &i.JobID, &i.Role, &i.Position, &i.Heading, &i.WPMediaID, &i.Prompt, &i.AltText,
		&i.Model, &i.PredictionID, &i.ContentType, &i.SizeBytes, &i.Width, &i.Height, &i.SHA256, &i.State,
		&i.Error, &i.Failures, &i.FailedAt, &i.CreatedAt, &i.UpdatedAt)
	return i, err
}

// imageOrder lists the featured image first, then the inline ones by
// position.
const imageOrder = ` ORDER BY role <> 'featured', position`

// GetImage returns the image of a tenant's draft in a role, without its
// bytes: the one with the lowest position (the featured image, or the first
// inline one).
func (s *Store) GetImage(ctx context.Context, tenantID, draftID int64, role string) (Image, error) {
	i, err := scanImage(s.pool.QueryRow(ctx, `SELECT `+imageColumns+` FROM images
		WHERE tenant_id = $1 AND draft_id = $2 AND role = $3 ORDER BY position LIMIT 1`, tenantID, draftID, role))
	return i, translate(err)
}

// ListImages returns the images of a tenant's draft, in any state and
// without their bytes: the featured image first, then the inline ones by
// position. A draft without images (or another tenant's) has none.
func (s *Store) ListImages(ctx context.Context, tenantID, draftID int64) ([]Image, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+imageColumns+` FROM images
		WHERE tenant_id = $1 AND draft_id = $2`+imageOrder, tenantID, draftID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanImage)
}

// ImageContent returns the bytes and content type of a draft's ready image
// in a role (the one with the lowest position); a missing or pending image
// is not found (so is a failed one).
func (s *Store) ImageContent(ctx context.Context, tenantID, draftID int64, role string) (contentType string, data []byte, err error) {
	err = s.pool.QueryRow(ctx, `SELECT content_type, data FROM images
		WHERE tenant_id = $1 AND draft_id = $2 AND role = $3 AND state = 'ready' ORDER BY position LIMIT 1`,
		tenantID, draftID, role).Scan(&contentType, &data)
	return contentType, data, translate(err)
}

// ImageContentByID returns the bytes and content type of a tenant's ready
// image; a missing, pending or failed image is not found.
func (s *Store) ImageContentByID(ctx context.Context, tenantID, imageID int64) (contentType string, data []byte, err error) {
	err = s.pool.QueryRow(ctx, `SELECT content_type, data FROM images
		WHERE tenant_id = $1 AND id = $2 AND state = 'ready'`, tenantID, imageID).Scan(&contentType, &data)
	return contentType, data, translate(err)
}

// ImageSlot is one image a job wants for a draft: its role and position,
// and, for a row that does not exist yet, the heading it follows, its
// prompt and its alt text.
type ImageSlot struct {
	Role     string
	Position int
	Heading  string
	Prompt   string
	AltText  string
}

// PrepareImages makes sure a tenant's draft has a row for every slot, in
// one transaction, and returns them in slot order: a missing row is written
// pending with the slot's heading, prompt and alt text; a pending or failed
// row of an earlier attempt or job keeps its own (and its prediction id, so
// that the prediction is resumed, or replaced when it failed) and is handed
// to job, pending; a ready row is returned as it is. A draft that is gone is
// not found.
func (s *Store) PrepareImages(ctx context.Context, tenantID, draftID int64, jobID string, slots []ImageSlot) ([]Image, error) {
	out := make([]Image, 0, len(slots))
	err := s.transact(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM drafts WHERE tenant_id = $1 AND id = $2 FOR SHARE`,
			tenantID, draftID).Scan(&id); err != nil {
			return fmt.Errorf("draft %d: %w", draftID, translate(err))
		}
		for _, sl := range slots {
			i, err := scanImage(tx.QueryRow(ctx, `INSERT INTO images (tenant_id, draft_id, job_id, role, position, heading,
				prompt, alt_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (draft_id, role, position) DO UPDATE SET job_id = excluded.job_id, state = 'pending',
				  updated_at = now()
				  WHERE images.state IN ('pending', 'failed')
				RETURNING `+imageColumns, tenantID, draftID, jobID, sl.Role, sl.Position, sl.Heading, sl.Prompt, sl.AltText))
			if isNoRows(err) {
				// The row is ready: the update did not apply.
				i, err = scanImage(tx.QueryRow(ctx, `SELECT `+imageColumns+` FROM images
					WHERE tenant_id = $1 AND draft_id = $2 AND role = $3 AND position = $4`,
					tenantID, draftID, sl.Role, sl.Position))
			}
			if err != nil {
				return fmt.Errorf("prepare %s image %d: %w", sl.Role, sl.Position, translate(err))
			}
			out = append(out, i)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetImagePrediction records the remote prediction a job's attempt started
// for a pending image, the moment it exists. It refuses with ErrJobFinished
// when the job is no longer running (canceled meanwhile) and with
// errs.ErrConflict when the row already names another prediction than
// previous (a concurrent delivery of the job started one): in both cases the
// caller's prediction is one nobody needs.
func (s *Store) SetImagePrediction(ctx context.Context, tenantID, imageID int64, jobID, previous, predictionID string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if err := lockRunningJob(ctx, tx, tenantID, jobID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE images SET prediction_id = $4, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state = 'pending'
			  AND (prediction_id IS NULL OR prediction_id = nullif($3, ''))`,
			tenantID, imageID, previous, predictionID)
		if err != nil {
			return fmt.Errorf("record prediction of image %d: %w", imageID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("image %d already has another prediction or is ready: %w", imageID, errs.ErrConflict)
		}
		return nil
	})
}

// StoreImage stores a pending image's file and marks it ready, made by job,
// without finishing the job: a job that makes several images keeps each
// one the moment it exists, so that a retry makes only the missing ones.
// It refuses with ErrJobFinished when the job is no longer running
// (canceled meanwhile) or the image is no longer pending (a concurrent
// delivery stored it).
func (s *Store) StoreImage(ctx context.Context, tenantID int64, jobID string, imageID int64, f ImageFile) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if err := lockRunningJob(ctx, tx, tenantID, jobID); err != nil {
			return err
		}
		return storeImage(ctx, tx, tenantID, jobID, imageID, f)
	})
}

// lockRunningJob holds a job's row for the transaction (so that a cancel
// waits for it) and refuses with ErrJobFinished when the job no longer
// runs.
func lockRunningJob(ctx context.Context, tx pgx.Tx, tenantID int64, jobID string) error {
	var state string
	err := tx.QueryRow(ctx, `SELECT state FROM jobs WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, jobID).
		Scan(&state)
	if err != nil {
		return fmt.Errorf("job %s: %w", jobID, translate(err))
	}
	if state != JobRunning {
		return ErrJobFinished
	}
	return nil
}

func storeImage(ctx context.Context, tx pgx.Tx, tenantID int64, jobID string, imageID int64, f ImageFile) error {
	tag, err := tx.Exec(ctx, `UPDATE images SET data = $3, content_type = $4, size_bytes = $5, width = nullif($6, 0),
		height = nullif($7, 0), sha256 = $8, model = nullif($9, ''), prediction_id = coalesce(nullif($10, ''), prediction_id),
		job_id = $11, state = 'ready', error = NULL, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`,
		tenantID, imageID, f.Data, f.ContentType, len(f.Data), f.Width, f.Height, f.SHA256, f.Model,
		f.PredictionID, jobID)
	if err != nil {
		return fmt.Errorf("save image %d: %w", imageID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("image %d is no longer pending: %w", imageID, ErrJobFinished)
	}
	return nil
}

// FinishImageJob finishes a running image job, charging perImage credits
// for each image the job made ready (over all its attempts; images made by
// earlier jobs are not charged again), at most what it reserved. It
// returns how many images were charged for.
func (s *Store) FinishImageJob(ctx context.Context, o Outcome, perImage int64) (made int, err error) {
	err = s.transact(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM images
			WHERE tenant_id = $1 AND job_id = $2 AND state = 'ready'`, o.TenantID, o.JobID).Scan(&made); err != nil {
			return fmt.Errorf("count the images of job %s: %w", o.JobID, err)
		}
		o.Charged = int64(made) * perImage
		return finishJob(ctx, tx, o)
	})
	return made, err
}

// FinishJob finishes a running job that had nothing to store (its work was
// already done), settling its credits as o says.
func (s *Store) FinishJob(ctx context.Context, o Outcome) error {
	return s.transact(ctx, func(tx pgx.Tx) error { return finishJob(ctx, tx, o) })
}

// ClearImagePrediction forgets a pending image's prediction after it was
// canceled: nobody can resume it, and a later job must not try.
func (s *Store) ClearImagePrediction(ctx context.Context, tenantID, imageID int64, predictionID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE images SET prediction_id = NULL, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND state = 'pending' AND prediction_id = $3`, tenantID, imageID, predictionID)
	return translate(err)
}

// failJobImages marks the pending images of a job that failed for good
// failed, with the job's message as their error, counting the failure.
// Images of other jobs, and those the job made ready, are left alone.
func failJobImages(ctx context.Context, tx pgx.Tx, tenantID int64, jobID, message string) error {
	_, err := tx.Exec(ctx, `UPDATE images SET state = 'failed', error = nullif($3, ''), failures = failures + 1,
		failed_at = now(), updated_at = now()
		WHERE tenant_id = $1 AND job_id = $2 AND state = 'pending'`, tenantID, jobID, message)
	if err != nil {
		return fmt.Errorf("fail the images of job %s: %w", jobID, err)
	}
	return nil
}
