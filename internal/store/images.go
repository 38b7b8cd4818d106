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

	ImageRoleFeatured = "featured"
)

// Image is a draft's generated image without its bytes.
type Image struct {
	ID           int64     `json:"id"`
	DraftID      int64     `json:"draft_id"`
	JobID        string    `json:"job_id"`
	Role         string    `json:"role"`
	Prompt       string    `json:"prompt"`
	AltText      string    `json:"alt_text"`
	Model        *string   `json:"model"`
	PredictionID *string   `json:"prediction_id"`
	ContentType  *string   `json:"content_type"`
	SizeBytes    *int      `json:"size_bytes"`
	Width        *int      `json:"width"`
	Height       *int      `json:"height"`
	SHA256       []byte    `json:"sha256"`
	State        string    `json:"state"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
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

const imageColumns = `id, draft_id, job_id, role, prompt, alt_text, model, prediction_id, content_type,
	size_bytes, width, height, sha256, state, created_at, updated_at`

func scanImage(r pgx.Row) (i Image, err error) {
	err = r.Scan(&i.ID, &i.DraftID, &i.JobID, &i.Role, &i.Prompt, &i.AltText, &i.Model, &i.PredictionID,
		&i.ContentType, &i.SizeBytes, &i.Width, &i.Height, &i.SHA256, &i.State, &i.CreatedAt, &i.UpdatedAt)
	return i, err
}

// GetImage returns the image of a tenant's draft in a role, without its
// bytes.
func (s *Store) GetImage(ctx context.Context, tenantID, draftID int64, role string) (Image, error) {
	i, err := scanImage(s.pool.QueryRow(ctx, `SELECT `+imageColumns+` FROM images
		WHERE tenant_id = $1 AND draft_id = $2 AND role = $3`, tenantID, draftID, role))
	return i, translate(err)
}

// ImageContent returns the bytes and content type of a draft's ready image
// in a role; a missing or pending image is not found.
func (s *Store) ImageContent(ctx context.Context, tenantID, draftID int64, role string) (contentType string, data []byte, err error) {
	err = s.pool.QueryRow(ctx, `SELECT content_type, data FROM images
		WHERE tenant_id = $1 AND draft_id = $2 AND role = $3 AND state = 'ready'`, tenantID, draftID, role).
		Scan(&contentType, &data)
	return contentType, data, translate(err)
}

// PrepareImage makes sure a draft has a pending image row in role for job,
// with the prompt and alt text written by the job's first attempt: a new
// row gets them, a pending row of an earlier attempt or job keeps its own
// (and its prediction id, so that the prediction is resumed) and is handed
// to job. A ready row is returned as it is.
func (s *Store) PrepareImage(ctx context.Context, tenantID, draftID int64, role, jobID, prompt, altText string) (Image, error) {
	i, err := scanImage(s.pool.QueryRow(ctx, `INSERT INTO images (tenant_id, draft_id, job_id, role, prompt, alt_text)
		SELECT $1, d.id, $3, $4, $5, $6 FROM drafts d WHERE d.tenant_id = $1 AND d.id = $2
		ON CONFLICT (draft_id, role, position) DO UPDATE SET job_id = excluded.job_id, updated_at = now()
		  WHERE images.state = 'pending'
		RETURNING `+imageColumns, tenantID, draftID, jobID, role, prompt, altText))
	if isNoRows(err) {
		// Either the draft is gone or its image is ready.
		return s.GetImage(ctx, tenantID, draftID, role)
	}
	return i, translate(err)
}

// SetImagePrediction records the remote prediction a job's attempt started
// for a pending image, the moment it exists. It refuses with ErrJobFinished
// when the job is no longer running (canceled meanwhile) and with
// errs.ErrConflict when the row already names another prediction than
// previous (a concurrent delivery of the job started one): in both cases the
// caller's prediction is one nobody needs.
func (s *Store) SetImagePrediction(ctx context.Context, tenantID, imageID int64, jobID, previous, predictionID string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM jobs WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, jobID).
			Scan(&state)
		if err != nil {
			return fmt.Errorf("job %s: %w", jobID, translate(err))
		}
		if state != JobRunning {
			return ErrJobFinished
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

// SaveImage stores a pending image's file, marks it ready and finishes the
// job, in one transaction.
func (s *Store) SaveImage(ctx context.Context, o Outcome, imageID int64, f ImageFile) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE images SET data = $3, content_type = $4, size_bytes = $5, width = nullif($6, 0),
			height = nullif($7, 0), sha256 = $8, model = nullif($9, ''), prediction_id = coalesce(nullif($10, ''), prediction_id),
			job_id = $11, state = 'ready', updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`,
			o.TenantID, imageID, f.Data, f.ContentType, len(f.Data), f.Width, f.Height, f.SHA256, f.Model,
			f.PredictionID, o.JobID)
		if err != nil {
			return fmt.Errorf("save image %d: %w", imageID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("image %d is no longer pending: %w", imageID, ErrJobFinished)
		}
		return finishJob(ctx, tx, o)
	})
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
