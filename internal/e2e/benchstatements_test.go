package e2e_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
)

// instantModel answers every request of a stage with the answer the
// wrapped model gave the first request of that stage: a provider that
// costs nothing, so that a benchmark measures Presswork's own cost per job
// (issue #24). The first answer of each stage is the offline writer's, so
// it passes the stage's validation.
type instantModel struct {
	ai.TextModel
	mu      sync.Mutex
	answers map[string]ai.JSONResponse
	calls   atomic.Int64
}

// GenerateJSON answers from memory: the key is the stage and the draft's
// outline, which the draft's validation holds the answer to (the
// benchmark's ideas are copies of ten, differing only in their titles).
func (m *instantModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	m.calls.Add(1)
	key := string(req.Stage)
	if in, ok := req.Input.(ai.DraftInput); ok {
		key += fmt.Sprint(in.ContentType, in.Outline)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if answer, ok := m.answers[key]; ok {
		return answer, nil
	}
	answer, err := m.TextModel.GenerateJSON(ctx, req)
	if err == nil {
		m.answers[key] = answer
	}
	return answer, err
}

// instantProviders is the offline provider set with an instant text model.
func instantProviders() (providers.Set, *instantModel) {
	p := providers.Offline()
	m := &instantModel{TextModel: p.Text, answers: map[string]ai.JSONResponse{}}
	p.Text = m
	return p, m
}

// benchSQL is what a database has run: statements other than transaction
// control (from pg_stat_statements) and transactions (pg_stat_database).
type benchSQL struct {
	statements, transactions float64
}

func (s benchSQL) minus(o benchSQL) benchSQL {
	return benchSQL{statements: s.statements - o.statements, transactions: s.transactions - o.transactions}
}

// perJob formats s divided by n jobs.
func (s benchSQL) perJob(n int) string {
	return fmt.Sprintf("%.2f statements, %.2f transactions per job", s.statements/float64(n), s.transactions/float64(n))
}

// benchSQLNow reads the statement and transaction counts of the pool's
// database. It needs pg_stat_statements in shared_preload_libraries
// (scripts/services.sh sets it); without it the statements are -1.
func benchSQLNow(t *testing.T, pool *pgxpool.Pool) benchSQL {
	ctx := context.Background()
	var s benchSQL
	// Backends report their transactions to pg_stat_database when idle
	// (at most every second, within 10 s) or on exit: read until two
	// reads half a second apart agree.
	read := func() (n float64) {
		apptest.Must(t, pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).
			Scan(&n), "read pg_stat_database")
		return n - 1 // the read itself
	}
	s.transactions = read()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond) // statistics settle on their own clock
		if n := read(); n != s.transactions {
			s.transactions = n
			continue
		}
		break
	}
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		s.statements = -1
		return s
	}
	err := pool.QueryRow(ctx, `
		SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND upper(query) NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK', 'BEGIN ISOLATION LEVEL READ COMMITTED')`).Scan(&s.statements)
	if err != nil {
		t.Logf("pg_stat_statements: %v (add it to shared_preload_libraries: scripts/services.sh does)", err)
		s.statements = -1
	}
	return s
}

// benchTopStatements logs the pool database's statements by execution time, the
// profile behind a per-job count.
func benchTopStatements(t *testing.T, pool *pgxpool.Pool, limit int) {
	rows, err := pool.Query(context.Background(), `
		SELECT calls, total_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 140) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT $1`, limit)
	if err != nil {
		t.Logf("pg_stat_statements: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var calls int64
		var ms float64
		var query string
		if rows.Scan(&calls, &ms, &query) == nil {
			t.Logf("%8d calls %9.1f ms  %s", calls, ms, query)
		}
	}
}

// benchDrainJobs is how many drafts the drain rows run
// (PRESSWORK_BENCH_DRAIN_JOBS overrides it, for quick looks).
var benchDrainJobs = func() int {
	if n, err := strconv.Atoi(os.Getenv("PRESSWORK_BENCH_DRAIN_JOBS")); err == nil && n > 0 {
		return n
	}
	return 2000
}()
