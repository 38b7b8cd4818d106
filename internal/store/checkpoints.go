package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// A checkpoint is what an attempt of an unfinished job already has, saved
// the moment it has it: a retry reads it instead of paying a model again.
// Steps are named by the stage (a clustering's "grouping" and
// "name/<i>", an ideas or draft job's "answer"). finishJob and
// endUnfinished delete a job's checkpoints when it ends.

// SaveCheckpoint stores value as the job's step, replacing an earlier one.
func (s *Store) SaveCheckpoint(ctx context.Context, tenantID int64, jobID, step string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encode checkpoint %s: %w", step, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO job_checkpoints (tenant_id, job_id, step, value)
		VALUES ($1, $2, $3, $4) ON CONFLICT (job_id, step) DO UPDATE SET value = excluded.value`,
		tenantID, jobID, step, b)
	if err != nil {
		return fmt.Errorf("save checkpoint %s of job %s: %w", step, jobID, translate(err))
	}
	return nil
}

// Checkpoints returns the job's checkpoints whose step starts with prefix,
// by step.
func (s *Store) Checkpoints(ctx context.Context, tenantID int64, jobID, prefix string) (map[string]json.RawMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT step, value FROM job_checkpoints
		WHERE tenant_id = $1 AND job_id = $2 AND starts_with(step, $3)`, tenantID, jobID, prefix)
	if err != nil {
		return nil, translate(err)
	}
	out := map[string]json.RawMessage{}
	var step string
	var value json.RawMessage
	_, err = pgx.ForEachRow(rows, []any{&step, &value}, func() error {
		out[step] = append(json.RawMessage(nil), value...)
		return nil
	})
	return out, translate(err)
}

func deleteCheckpoints(ctx context.Context, tx pgx.Tx, jobID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM job_checkpoints WHERE job_id = $1`, jobID); err != nil {
		return fmt.Errorf("delete checkpoints of job %s: %w", jobID, err)
	}
	return nil
}

// CachedEmbeddings returns the tenant's cached vectors of model for the
// text hashes given, keyed by string(hash); hashes not cached are absent.
func (s *Store) CachedEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte) (map[string][]float32, error) {
	rows, err := s.pool.Query(ctx, `SELECT text_hash, vector FROM embedding_cache
		WHERE tenant_id = $1 AND model = $2 AND text_hash = ANY($3)`, tenantID, model, hashes)
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string][]float32, len(hashes))
	var hash, vector []byte
	_, err = pgx.ForEachRow(rows, []any{&hash, &vector}, func() error {
		v, err := decodeVector(vector)
		if err != nil {
			return err
		}
		out[string(hash)] = v
		return nil
	})
	return out, translate(err)
}

// CacheEmbeddings stores the tenant's vectors of model, vectors[i] for the
// text of hashes[i]; a vector already cached is kept.
func (s *Store) CacheEmbeddings(ctx context.Context, tenantID int64, model string, hashes [][]byte, vectors [][]float32) error {
	if len(hashes) != len(vectors) {
		return fmt.Errorf("cache embeddings: %d hashes for %d vectors", len(hashes), len(vectors))
	}
	encoded := make([][]byte, len(vectors))
	for i, v := range vectors {
		encoded[i] = encodeVector(v)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO embedding_cache (tenant_id, model, text_hash, vector)
		SELECT $1, $2, h, v FROM unnest($3::bytea[], $4::bytea[]) AS t (h, v)
		ON CONFLICT DO NOTHING`, tenantID, model, hashes, encoded)
	if err != nil {
		return fmt.Errorf("cache embeddings: %w", translate(err))
	}
	return nil
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("cached vector of %d bytes is not float32s", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
