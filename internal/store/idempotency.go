package store

import (
	"context"
	"fmt"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// StoredResponse is the answer first given to a request with an
// Idempotency-Key, replayed for its retries.
type StoredResponse struct {
	Status int
	Body   []byte
}

// IdempotencyKeyRetention is how long an Idempotency-Key and its answer are
// kept: a retry within it is answered from the stored response; the same
// key after it is a new request. Clients retry within minutes; the day is
// a wide margin for a client that was offline.
const IdempotencyKeyRetention = 24 * time.Hour

// abandonedClaimAge is how long a claim without a response counts as a
// request still running; no API request runs this long.
const abandonedClaimAge = "10 minutes"

// ClaimIdempotencyKey claims key for a request with the given fingerprint.
// It returns nil for a first claim (the caller runs the request), the
// stored response for a retry of a finished request, and errs.ErrConflict
// when the key is in use by a request still running or by a different
// request. A claim whose request died before answering is taken over after
// abandonedClaimAge.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, tenantID int64, key, fingerprint string) (*StoredResponse, error) {
	// A claim that never got its response (the process died mid-request)
	// is taken over once it is older than abandonedClaimAge.
	tag, err := s.pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created_at = now()
		WHERE idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - $4::interval`,
		tenantID, key, fingerprint, abandonedClaimAge)
	if err != nil {
		return nil, translate(err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var storedPrint string
	var status *int
	var body []byte
	err = s.pool.QueryRow(ctx, `SELECT fingerprint, status, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
		tenantID, key).Scan(&storedPrint, &status, &body)
	if err != nil {
		return nil, translate(err)
	}
	switch {
	case storedPrint != fingerprint:
		return nil, fmt.Errorf("Idempotency-Key %q was used for a different request: %w", key, errs.ErrConflict)
	case status == nil:
		return nil, fmt.Errorf("a request with Idempotency-Key %q is still being processed: %w", key, errs.ErrConflict)
	}
	return &StoredResponse{Status: *status, Body: body}, nil
}

// SaveIdempotentResponse stores the response of a claimed key.
func (s *Store) SaveIdempotentResponse(ctx context.Context, tenantID int64, key string, r StoredResponse) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, body = $4 WHERE tenant_id = $1 AND key = $2`,
		tenantID, key, r.Status, r.Body)
	return translate(err)
}

// ReleaseIdempotencyKey forgets a claim whose request failed, so that a
// retry runs it again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, tenantID int64, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status IS NULL`,
		tenantID, key)
	return translate(err)
}
