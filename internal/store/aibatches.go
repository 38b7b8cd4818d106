package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// A provider batch (#23) carries the model calls of batched jobs through a
// provider's Batch API at a lower price. Its row is the intent: written,
// with the jobs it takes, before anything is uploaded, so that a task
// resumed after a crash looks for the provider's batch by the row's id
// (sent as metadata) instead of creating a second one. Once the provider's
// batch has ended, each job leaves the batched state for the queue, with
// its line's answer checkpointed (or without, when its line did not run),
// and the row ends when none is left.

// Provider batch states.
const (
	AIBatchCreating  = "creating"
	AIBatchSubmitted = "submitted"
	AIBatchEnded     = "ended"
)

// AIBatch is a provider batch.
type AIBatch struct {
	ID string `json:"id"`
	// TenantID is the tenant whose own key the batch runs under; nil for
	// the server's key.
	TenantID        *int64     `json:"-"`
	Provider        string     `json:"provider"`
	Model           string     `json:"model"`
	State           string     `json:"state"`
	InputFileID     *string    `json:"input_file_id"`
	ProviderBatchID *string    `json:"provider_batch_id"`
	ProviderStatus  *string    `json:"provider_status"`
	Total           int        `json:"total"`
	Completed       int        `json:"completed"`
	Failed          int        `json:"failed"`
	CancelRequested bool       `json:"cancel_requested"`
	Error           *string    `json:"error"`
	IntentAt        time.Time  `json:"intent_at"`
	SubmittedAt     *time.Time `json:"submitted_at"`
	PolledAt        *time.Time `json:"polled_at"`
	EndedAt         *time.Time `json:"ended_at"`
	// The files at the provider, deleted once the batch has ended.
	OutputFileID       *string    `json:"output_file_id"`
	ErrorFileID        *string    `json:"error_file_id"`
	FilesDeleted       []string   `json:"files_deleted"`
	FilesCleanedAt     *time.Time `json:"files_cleaned_at"`
	FileDeleteAttempts int        `json:"file_delete_attempts"`
	FileDeleteError    *string    `json:"file_delete_error"`
}

const aiBatchColumns = `id, tenant_id, provider, model, state, input_file_id, provider_batch_id, provider_status,
	total, completed, failed, cancel_requested, error, intent_at, submitted_at, polled_at, ended_at,
	output_file_id, error_file_id, files_deleted, files_cleaned_at, file_delete_attempts, file_delete_error`

func scanAIBatch(r pgx.Row) (b AIBatch, err error) {
	err = r.Scan(&b.ID, &b.TenantID, &b.Provider, &b.Model, &b.State, &b.InputFileID, &b.ProviderBatchID,
		&b.ProviderStatus, &b.Total, &b.Completed, &b.Failed, &b.CancelRequested, &b.Error, &b.IntentAt,
		&b.SubmittedAt, &b.PolledAt, &b.EndedAt, &b.OutputFileID, &b.ErrorFileID, &b.FilesDeleted,
		&b.FilesCleanedAt, &b.FileDeleteAttempts, &b.FileDeleteError)
	return b, err
}

// Files are the ids of the batch's files at the provider that are known
// and not deleted yet.
func (b AIBatch) Files() []string {
	var ids []string
	for _, id := range []*string{b.InputFileID, b.OutputFileID, b.ErrorFileID} {
		if id != nil && *id != "" && !slices.Contains(b.FilesDeleted, *id) && !slices.Contains(ids, *id) {
			ids = append(ids, *id)
		}
	}
	return ids
}

// BatchedJobs returns up to limit jobs waiting in the batched state for a
// provider batch, oldest first.
func (s *Store) BatchedJobs(ctx context.Context, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state = 'batched' AND ai_batch_id IS NULL ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanJob)
}

// NewAIBatch is a provider batch to start.
type NewAIBatch struct {
	ID       string
	TenantID int64 // the tenant whose own key runs it; 0 for the server's key
	Provider string
	Model    string
}

// StartAIBatch records the intent of a provider batch and gives it those
// of jobIDs that are still batched and in no batch, in one transaction,
// and returns the batch and its jobs. When none of them is left (another
// task took them, or they were canceled) nothing is written and the error
// is errs.ErrConflict.
func (s *Store) StartAIBatch(ctx context.Context, nb NewAIBatch, jobIDs []string) (AIBatch, []Job, error) {
	var b AIBatch
	var jobs []Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		b, err = scanAIBatch(tx.QueryRow(ctx, `INSERT INTO ai_batches (id, tenant_id, provider, model)
			VALUES ($1, nullif($2, 0), $3, $4) RETURNING `+aiBatchColumns, nb.ID, nb.TenantID, nb.Provider, nb.Model))
		if err != nil {
			return fmt.Errorf("insert provider batch %s: %w", nb.ID, translate(err))
		}
		rows, err := tx.Query(ctx, `UPDATE jobs SET ai_batch_id = $1, phase = 'batch_submitting', updated_at = now()
			WHERE id = ANY($2) AND state = 'batched' AND ai_batch_id IS NULL RETURNING `+jobColumns, nb.ID, jobIDs)
		if err != nil {
			return fmt.Errorf("give jobs to provider batch %s: %w", nb.ID, translate(err))
		}
		if jobs, err = collect(rows, scanJob); err != nil {
			return err
		}
		if len(jobs) == 0 {
			return fmt.Errorf("provider batch %s: no job left to batch: %w", nb.ID, errs.ErrConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE ai_batches SET total = $2 WHERE id = $1`, nb.ID, len(jobs))
		b.Total = len(jobs)
		return translate(err)
	})
	if err != nil {
		return AIBatch{}, nil, err
	}
	return b, jobs, nil
}

// GetAIBatch returns a provider batch.
func (s *Store) GetAIBatch(ctx context.Context, id string) (AIBatch, error) {
	b, err := scanAIBatch(s.pool.QueryRow(ctx, `SELECT `+aiBatchColumns+` FROM ai_batches WHERE id = $1`, id))
	return b, missing(translate(err), "provider batch", id)
}

// OpenAIBatches returns up to limit provider batches that have not ended,
// the least recently polled first: the ai:batch task's work.
func (s *Store) OpenAIBatches(ctx context.Context, limit int) ([]AIBatch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+aiBatchColumns+` FROM ai_batches
		WHERE state <> 'ended' ORDER BY polled_at NULLS FIRST, intent_at LIMIT $1`, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAIBatch)
}

// RecordAIBatchUpload records the input file a creating batch uploaded,
// so that a resumed task creates the batch from it instead of uploading
// again.
func (s *Store) RecordAIBatchUpload(ctx context.Context, id, fileID string) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET input_file_id = $2 WHERE id = $1 AND state = 'creating'`, fileID)
}

// SubmitAIBatch records the provider's batch id: the batch exists there.
// Its jobs wait for it (phase batch_waiting).
func (s *Store) SubmitAIBatch(ctx context.Context, id, providerBatchID string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ai_batches SET state = 'submitted', provider_batch_id = $2, submitted_at = now()
			WHERE id = $1 AND state = 'creating'`, id, providerBatchID)
		if err != nil {
			return fmt.Errorf("submit provider batch %s: %w", id, translate(err))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("provider batch %s is not being created: %w", id, errs.ErrConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE jobs SET phase = 'batch_waiting', updated_at = now()
			WHERE ai_batch_id = $1 AND state = 'batched'`, id)
		return translate(err)
	})
}

// AIBatchStatus is what a poll of the provider learned.
type AIBatchStatus struct {
	Status                   string
	Total, Completed, Failed int
}

// RecordAIBatchStatus records the provider's status and counts of a
// batch, and when it was polled.
func (s *Store) RecordAIBatchStatus(ctx context.Context, id string, st AIBatchStatus) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET provider_status = $2, total = greatest($3, total),
		completed = $4, failed = $5, polled_at = now() WHERE id = $1 AND state <> 'ended'`,
		st.Status, st.Total, st.Completed, st.Failed)
}

// RequestAIBatchCancel marks a batch to be cancelled at the provider: the
// ai:batch task cancels it there.
func (s *Store) RequestAIBatchCancel(ctx context.Context, id string) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET cancel_requested = true WHERE id = $1 AND state <> 'ended'`)
}

func (s *Store) updateAIBatch(ctx context.Context, id, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("update provider batch %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("provider batch %s: %w", id, errs.ErrConflict)
	}
	return nil
}

// AIBatchJobs returns the jobs of a provider batch still batched: those
// not canceled since.
func (s *Store) AIBatchJobs(ctx context.Context, id string) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE ai_batch_id = $1 AND state = 'batched' ORDER BY id`, id)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanJob)
}

// UnbatchJobs puts the jobs of jobIDs still batched in batch id back in
// the state queued (phase batch_answered: their line's answer is
// checkpointed; queued: they run the ordinary way), and returns those to
// enqueue now. Jobs of the paced queue are held, as new ones are, and
// released as their tenant's room allows, so that a provider batch that
// ends does not put a whole bulk on the queue at once.
func (s *Store) UnbatchJobs(ctx context.Context, id string, jobIDs []string, answered bool) ([]Job, error) {
	phase := "queued"
	if answered {
		phase = "batch_answered"
	}
	return s.unbatch(ctx, `ai_batch_id = $5 AND id = ANY($1)`, jobIDs, phase, id)
}

// unbatch moves the batched jobs that match where (on $1 the ids, $5
// onwards the args) to queued with phase, held on the paced queue,
// and returns the jobs to enqueue: those not held and the held ones their
// tenants' room releases.
func (s *Store) unbatch(ctx context.Context, where string, jobIDs []string, phase string, args ...any) ([]Job, error) {
	var deliver []Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE jobs SET state = 'queued', held = (queue = $2 AND $3),
			phase = CASE WHEN queue = $2 AND $3 THEN 'held' ELSE $4 END, updated_at = now()
			WHERE state = 'batched' AND `+where+` RETURNING `+jobColumns,
			append([]any{jobIDs, s.pacedQueue, s.paced(), phase}, args...)...)
		if err != nil {
			return fmt.Errorf("unbatch jobs: %w", translate(err))
		}
		moved, err := collect(rows, scanJob)
		if err != nil {
			return err
		}
		tenants := map[int64]bool{}
		for _, j := range moved {
			if !j.Held {
				deliver = append(deliver, j)
			} else if !tenants[j.TenantID] {
				tenants[j.TenantID] = true
				released, err := s.release(ctx, tx, j.TenantID)
				if err != nil {
					return err
				}
				deliver = append(deliver, released...)
			}
		}
		return nil
	})
	return deliver, err
}

// RecordAIBatchFiles records the files of a provider batch that has ended
// (its input file if not recorded yet, its output and error files; ""
// for none), to be deleted at the provider.
func (s *Store) RecordAIBatchFiles(ctx context.Context, id, input, output, errorFile string) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET input_file_id = coalesce(input_file_id, nullif($2, '')),
		output_file_id = coalesce(nullif($3, ''), output_file_id), error_file_id = coalesce(nullif($4, ''), error_file_id)
		WHERE id = $1`, input, output, errorFile)
}

// AIBatchesToClean returns up to limit ended provider batches whose files
// have not all been deleted and whose next attempt is due, the longest
// waiting first: those of provider run under the server's key ("": none)
// and those run under tenants' own keys.
func (s *Store) AIBatchesToClean(ctx context.Context, provider string, limit int) ([]AIBatch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+aiBatchColumns+` FROM ai_batches
		WHERE state = 'ended' AND files_cleaned_at IS NULL AND (tenant_id IS NOT NULL OR provider = $1)
		  AND (file_delete_after IS NULL OR file_delete_after <= now())
		ORDER BY file_delete_after NULLS FIRST, ended_at LIMIT $2`, provider, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAIBatch)
}

// RecordAIBatchFileDeleted records that file fileID of a provider batch
// is deleted at the provider (again: no change).
func (s *Store) RecordAIBatchFileDeleted(ctx context.Context, id, fileID string) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET files_deleted = CASE WHEN $2 = ANY(files_deleted)
		THEN files_deleted ELSE array_append(files_deleted, $2) END WHERE id = $1`, fileID)
}

// AIBatchFilesCleaned records that none of a provider batch's files is
// left at the provider.
func (s *Store) AIBatchFilesCleaned(ctx context.Context, id string) error {
	return s.updateAIBatch(ctx, id, `UPDATE ai_batches SET files_cleaned_at = now(), file_delete_error = NULL
		WHERE id = $1`)
}

// AIBatchFilesFailed records a failed attempt to delete a provider batch's
// files, with why: the next is due after a wait of base that doubles with
// each attempt, at most six hours. After maxAttempts the batch is given up
// (gaveUp): its files are left.
func (s *Store) AIBatchFilesFailed(ctx context.Context, id, why string, base time.Duration, maxAttempts int) (gaveUp bool, err error) {
	err = s.pool.QueryRow(ctx, `UPDATE ai_batches SET file_delete_attempts = file_delete_attempts + 1,
		file_delete_error = $2,
		file_delete_after = now() + least(interval '1 second' * $3::float8 * power(2, least(file_delete_attempts, 20)),
			interval '6 hours'),
		files_cleaned_at = CASE WHEN file_delete_attempts + 1 >= $4 THEN now() END
		WHERE id = $1 RETURNING files_cleaned_at IS NOT NULL`, id, why, base.Seconds(), maxAttempts).Scan(&gaveUp)
	if err != nil {
		return false, missing(translate(err), "provider batch", id)
	}
	return gaveUp, nil
}

// ErrAIBatchBusy is returned by EndAIBatch while a job of the batch is
// still batched.
var ErrAIBatchBusy = errors.New("a job of the provider batch is still batched")

// EndAIBatch ends a provider batch none of whose jobs is still batched;
// with one left it returns ErrAIBatchBusy. errMsg, if not empty, records
// why the batch served none of its lines (it failed, or could not be
// created).
func (s *Store) EndAIBatch(ctx context.Context, id, errMsg string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE ai_batches SET state = 'ended', ended_at = now(), error = nullif($2, '')
		WHERE id = $1 AND state <> 'ended'
		  AND NOT EXISTS (SELECT 1 FROM jobs WHERE ai_batch_id = $1 AND state = 'batched')`, id, errMsg)
	if err != nil {
		return fmt.Errorf("end provider batch %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		b, err := s.GetAIBatch(ctx, id)
		switch {
		case err != nil:
			return err
		case b.State == AIBatchEnded:
			return nil
		}
		return fmt.Errorf("end provider batch %s: %w", id, ErrAIBatchBusy)
	}
	return nil
}

// UnbatchWaiting puts the jobs of jobIDs still batched and in no provider
// batch back in the state queued, to run the ordinary way (no batch API
// serves them), and returns those to enqueue now (see UnbatchJobs).
func (s *Store) UnbatchWaiting(ctx context.Context, jobIDs []string) ([]Job, error) {
	return s.unbatch(ctx, `ai_batch_id IS NULL AND id = ANY($1)`, jobIDs, "queued")
}

// aiBatchLockSpace keeps the provider batch pass's lock apart from the
// other advisory locks.
const aiBatchLockSpace = int64(0x4142) << 40

// LockAIBatches takes the lock of the provider batch pass without waiting;
// ErrLocked means another pass holds it. One pass at a time is what makes
// a provider batch's creation exactly-once: the pass looks for the batch
// at the provider before it creates it, and no other pass creates it
// between the look and the create. The lock is released by Unlock, or
// when the holder's process dies.
func (s *Store) LockAIBatches(ctx context.Context) (*AdvisoryLock, error) {
	return s.advisoryLock(ctx, aiBatchLockSpace, false)
}

// ProviderBatchProgress is a provider batch as a bulk's progress shows it:
// the provider's status and counts for all of the batch's lines (of this
// bulk and others).
type ProviderBatchProgress struct {
	ID             string  `json:"id"`
	State          string  `json:"state"`
	ProviderStatus *string `json:"provider_status"`
	Total          int     `json:"total"`
	Completed      int     `json:"completed"`
	Failed         int     `json:"failed"`
}

// providerProgress returns the provider batches that carry jobs of a
// tenant's bulk batchID.
func (s *Store) providerProgress(ctx context.Context, tenantID int64, batchID string) ([]ProviderBatchProgress, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.state, a.provider_status, a.total, a.completed, a.failed
		FROM ai_batches a WHERE a.id IN (SELECT DISTINCT ai_batch_id FROM jobs
		    WHERE batch_id = $1 AND tenant_id = $2 AND ai_batch_id IS NOT NULL)
		ORDER BY a.intent_at, a.id`, batchID, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (p ProviderBatchProgress, err error) {
		err = r.Scan(&p.ID, &p.State, &p.ProviderStatus, &p.Total, &p.Completed, &p.Failed)
		return p, err
	})
}
