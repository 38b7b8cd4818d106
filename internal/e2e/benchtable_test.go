package e2e_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
)

// bulkRoomUnpaced gives every plan more bulk room than a benchmark asks
// for, so that pacing holds nothing back.
const bulkRoomUnpaced = "free=100000,starter=100000,pro=100000,agency=100000"

// TestBenchTable is part of make bench (issue "Fair sharing between
// tenants, and make bench"; skipped by make test). It measures, each
// against a baseline taken in the same run on the same machine:
//
//  1. drain: draft jobs per second through the whole of Presswork (job
//     rows, credits reserved and settled, drafts stored) against raw asynq
//     tasks that each do one PostgreSQL UPDATE;
//  2. fairness: how long tenant B's single draft waits to start while
//     tenant A has 10,000 bulk drafts queued, against 1,000 queued;
//  3. idle pickup: request to start of a single draft on an idle worker
//     against asynq enqueue to handler start of a no-op task.
//
// It prints a markdown table and appends it to $PRESSWORK_BENCH_OUT when
// set. Speed never fails it; lost or repeated jobs do.
func TestBenchTable(t *testing.T) {
	if os.Getenv("PRESSWORK_BENCH") == "" {
		t.Skip("a benchmark: make bench runs it (PRESSWORK_BENCH=1)")
	}
	var rows []string
	// Each measure runs as a subtest, so that its databases and
	// connections are closed before the next (the server allows 100).
	// PRESSWORK_BENCH_ROWS (a regular expression) picks rows by name, for
	// working on one measure: PRESSWORK_BENCH_ROWS=drain.
	only := regexp.MustCompile(os.Getenv("PRESSWORK_BENCH_ROWS"))
	row := func(name string, f func(t *testing.T) []string) {
		if !only.MatchString(name) {
			return
		}
		t.Run(name, func(t *testing.T) { rows = append(rows, f(t)...) })
	}
	one := func(f func(t *testing.T) string) func(t *testing.T) []string {
		return func(t *testing.T) []string { return []string{f(t)} }
	}
	row("drain-instant", one(func(t *testing.T) string { return benchDrain(t, benchDrainJobs, true) }))
	row("drain-offline", one(func(t *testing.T) string { return benchDrain(t, benchDrainJobs, false) }))
	row("fairness", one(func(t *testing.T) string { return benchFairness(t, 1000, 10000, 20) }))
	for _, interval := range []string{"20ms", "50ms"} { // 50ms is the default
		row("pickup-"+interval, one(func(t *testing.T) string { return benchPickup(t, interval, 50) }))
	}
	row("bulk-enqueue-paced", one(func(t *testing.T) string { return benchBulkEnqueue(t, 10000, "") }))
	row("bulk-enqueue-unpaced", one(func(t *testing.T) string { return benchBulkEnqueue(t, 10000, bulkRoomUnpaced) }))
	row("steady-enqueue", one(func(t *testing.T) string { return benchSteadyEnqueue(t, 20, 10*time.Second) }))
	row("keyword-import", one(func(t *testing.T) string { return benchKeywordImport(t, 100000) }))
	row("saturation", func(t *testing.T) []string { return benchSaturation(t, 3000, 1000, 2*time.Second) })
	row("cost-per-article", one(benchCostPerArticle))
	row("cost-per-article-batch", one(func(t *testing.T) string { return benchBatchCost(t, batchCostDrafts) }))

	var b strings.Builder
	b.WriteString("| measure | figure | baseline (same run) | ratio / target |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	fmt.Print("\n" + b.String() + "\n")
	if out := os.Getenv("PRESSWORK_BENCH_OUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		apptest.Must(t, err, "open ", out)
		_, err = io.WriteString(f, b.String())
		apptest.Must(t, err, "write ", out)
		apptest.Must(t, f.Close(), "close ", out)
	}
}

// benchDrain: n draft jobs already on the queue, drained by one worker of
// concurrency 20, against n raw asynq tasks doing one UPDATE each. With
// instant the provider answers at once (Presswork's own cost per job);
// otherwise the offline writer writes each draft.
func benchDrain(t *testing.T, n int, instant bool) string {
	const concurrency = 20
	h := apptest.Start(t, apptest.WithEnv("WORKER_CONCURRENCY", fmt.Sprint(concurrency)),
		apptest.WithEnv("BULK_INFLIGHT", bulkRoomUnpaced))
	pool := benchPool(t, h)
	stopSetup := h.StartWorker(t)
	api, site := benchTenant(t, h, "drain")
	ideas := benchCloneIdeas(t, pool, site.ID, n)
	stopSetup()

	// Baseline first: raw asynq on the same Redis and PostgreSQL.
	rawRate, rawCPU, rawSQL := benchRawDrain(t, h, pool, n, concurrency)

	var acc apptest.Accepted
	api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ideas}, &acc)
	if len(acc.Jobs) != n {
		t.Fatalf("asked for %d drafts, got %d jobs", n, len(acc.Jobs))
	}
	models, what := providers.Offline(), "offline writer"
	var im *instantModel
	if instant {
		models, im = instantProviders()
		what = "instant provider"
	}
	sql0 := benchSQLNow(t, pool)
	start, cpu0 := time.Now(), benchCPUNow(pool)
	stop := h.StartWorker(t, models)
	// Polled slowly (a count of the batch costs PostgreSQL about 2 ms, a
	// share of the very CPU measured); the time is the last job's own
	// finished_at, not the poll's.
	polls := benchWaitCountEvery(t, pool, 200*time.Millisecond, 5*time.Minute, "the draft batch finishes", n,
		`SELECT count(*) FROM jobs WHERE batch_id = $1 AND state IN ('succeeded', 'failed', 'canceled')`, acc.BatchID)
	cpu := benchCPUNow(pool).minus(cpu0)
	stop()
	// Presswork's statements only: not the polls, each a statement in a
	// transaction of its own.
	sql := benchSQLNow(t, pool).minus(sql0).minus(benchSQL{statements: float64(polls), transactions: float64(polls)})
	benchTopStatements(t, pool, 25)
	if im != nil && im.calls.Load() != int64(n) {
		t.Errorf("drain: the instant provider was asked %d times for %d drafts (repairs?)", im.calls.Load(), n)
	}
	var last time.Time
	apptest.Must(t, pool.QueryRow(context.Background(), `SELECT max(finished_at) FROM jobs WHERE batch_id = $1`,
		acc.BatchID).Scan(&last), "last finish")
	// Where a job's time goes: in its handler (start to finish) against
	// the whole drain's time per slot.
	var p50, p90 float64
	apptest.Must(t, pool.QueryRow(context.Background(), `
		SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)),
		       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
		FROM jobs WHERE batch_id = $1`, acc.BatchID).Scan(&p50, &p90), "handler times")
	t.Logf("drain (%s): start to finish of a job p50 %.1f ms, p90 %.1f ms; drain time per job and slot %.1f ms", what,
		p50*1000, p90*1000, last.Sub(start).Seconds()*1000*concurrency/float64(n))
	elapsed := last.Sub(start)
	rate := float64(n) / elapsed.Seconds()

	// Correctness: every job succeeded on its first attempt, was charged
	// exactly what the ledger says, and wrote one draft.
	var bad, drafts int
	apptest.Must(t, pool.QueryRow(context.Background(), `
		SELECT count(*) FROM jobs j WHERE j.batch_id = $1 AND (j.state <> 'succeeded' OR j.attempts <> 1 OR
			j.credits_charged <> -(SELECT coalesce(sum(delta), 0) FROM credit_ledger l WHERE l.job_id = j.id))`,
		acc.BatchID).Scan(&bad), "check jobs")
	apptest.Must(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM drafts WHERE site_id = $1`,
		site.ID).Scan(&drafts), "count drafts")
	if bad != 0 || drafts != n {
		t.Errorf("drain: %d of %d jobs not succeeded once and charged once; %d drafts, want %d", bad, n, drafts, n)
		var why []string
		apptest.Must(t, pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(DISTINCT state || ': ' || coalesce(last_error, '')), '{}')
			FROM jobs WHERE batch_id = $1 AND state <> 'succeeded'`, acc.BatchID).Scan(&why), "why")
		t.Errorf("drain: ended %q", why)
	}
	perJob := func(c benchCPU) string {
		return fmt.Sprintf("CPU per job: worker %.2f ms, PostgreSQL %.2f ms", c.Go*1000/float64(n), c.Postgres*1000/float64(n))
	}
	t.Logf("drain (%s): Presswork %d jobs in %s (%.0f/s, %s; %s); raw asynq %.0f/s (%s; %s)", what, n,
		elapsed.Round(time.Millisecond), rate, perJob(cpu), sql.perJob(n), rawRate, perJob(rawCPU), rawSQL.perJob(n))
	target := "target >= 0.5"
	if !instant {
		target = "no target: the offline writer's own work"
	}
	return fmt.Sprintf("| drain, %s: %d draft jobs of one tenant, 1 worker, concurrency %d (jobs/s) | %.0f (%s; %s) | %.0f (raw asynq, 1 UPDATE per task; %s; %s) | %.2f (%s); CPU per job %.1fx the raw task's |",
		what, n, concurrency, rate, perJob(cpu), sql.perJob(n), rawRate, perJob(rawCPU), rawSQL.perJob(n), rate/rawRate, target,
		(cpu.Go+cpu.Postgres)/(rawCPU.Go+rawCPU.Postgres))
}

// benchRawDrain enqueues n raw tasks, then times an asynq server with the
// worker's concurrency and check interval draining them, each task one
// UPDATE of a scratch table. It fails on a task lost or run twice.
func benchRawDrain(t *testing.T, h *apptest.Harness, pool *pgxpool.Pool, n, concurrency int) (float64, benchCPU, benchSQL) {
	ctx := context.Background()
	_, err := pool.Exec(ctx, `CREATE TABLE bench_raw (id int PRIMARY KEY, runs int NOT NULL DEFAULT 0, done_at timestamptz)`)
	apptest.Must(t, err, "create bench_raw")
	_, err = pool.Exec(ctx, `INSERT INTO bench_raw (id) SELECT generate_series(1, $1)`, n)
	apptest.Must(t, err, "fill bench_raw")

	const queue = "bench-raw"
	client := asynq.NewClient(h.App.Redis)
	defer client.Close()
	for i := 1; i <= n; i++ {
		_, err := client.Enqueue(asynq.NewTask("bench:raw", []byte(fmt.Sprint(i))), asynq.Queue(queue))
		apptest.Must(t, err, "enqueue raw task")
	}

	// Its own pool, closed before counting, so that its backends have
	// reported their transactions.
	rawPool := benchPool(t, h)
	var done atomic.Int64
	finished := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench:raw", func(ctx context.Context, task *asynq.Task) error {
		if _, err := rawPool.Exec(ctx, `UPDATE bench_raw SET runs = runs + 1, done_at = now() WHERE id = $1`,
			string(task.Payload())); err != nil {
			return err
		}
		if done.Add(1) == int64(n) {
			close(finished)
		}
		return nil
	})
	srv := asynq.NewServer(h.App.Redis, benchServerConfig(t, h, concurrency, queue))
	sql0 := benchSQLNow(t, pool)
	start, cpu0 := time.Now(), benchCPUNow(pool)
	apptest.Must(t, srv.Start(mux), "start raw server")
	select {
	case <-finished:
	case <-time.After(5 * time.Minute):
		t.Fatalf("raw drain: %d of %d tasks after 5 minutes", done.Load(), n)
	}
	elapsed, cpu := time.Since(start), benchCPUNow(pool).minus(cpu0)
	srv.Shutdown()
	rawPool.Close()
	sql := benchSQLNow(t, pool).minus(sql0)

	var bad int
	apptest.Must(t, pool.QueryRow(ctx, `SELECT count(*) FROM bench_raw WHERE runs <> 1`).Scan(&bad), "check bench_raw")
	if bad != 0 {
		t.Errorf("raw drain: %d of %d tasks ran other than once", bad, n)
	}
	return float64(n) / elapsed.Seconds(), cpu, sql
}

// slowDraftModel takes a fixed time for every draft, as a provider would.
type slowDraftModel struct {
	ai.TextModel
	latency time.Duration
}

func (m slowDraftModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage == ai.StageDraft {
		timer := time.NewTimer(m.latency)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ai.JSONResponse{}, ctx.Err()
		}
	}
	return m.TextModel.GenerateJSON(ctx, req)
}

// benchFairness: B's single-draft wait while A has small, then large bulk
// drafts queued, on the default plan limits.
func benchFairness(t *testing.T, small, large, samples int) string {
	const latency = 100 * time.Millisecond
	waitsSmall, leftSmall := benchFairCase(t, small, samples, latency)
	waitsLarge, leftLarge := benchFairCase(t, large, samples, latency)
	p95s, p95l := benchPercentile(waitsSmall, 95), benchPercentile(waitsLarge, 95)
	t.Logf("fairness: A %d queued (%d unfinished after sampling): B waits %v", small, leftSmall, waitsSmall)
	t.Logf("fairness: A %d queued (%d unfinished after sampling): B waits %v", large, leftLarge, waitsLarge)
	return fmt.Sprintf("| fairness: B's single draft wait, A has %d bulk drafts queued (%d samples, %s per draft, 10 slots) | p50 %s, p95 %s | A has %d queued: p50 %s, p95 %s | p95 ratio %.2f (target p95 <= 2 s, ratio <= 1.5) |",
		large, samples, latency, benchMS(benchPercentile(waitsLarge, 50)), benchMS(p95l),
		small, benchMS(benchPercentile(waitsSmall, 50)), benchMS(p95s), float64(p95l)/float64(max(p95s, time.Microsecond)))
}

// benchFairCase returns B's waits and how many of A's drafts were still
// unfinished when sampling ended.
func benchFairCase(t *testing.T, bulk, samples int, latency time.Duration) ([]time.Duration, int) {
	h := apptest.Start(t)
	pool := benchPool(t, h)
	stopSetup := h.StartWorker(t)
	a, siteA := benchTenant(t, h, "fair-a")
	b, siteB := benchTenant(t, h, "fair-b")
	aIdeas := benchCloneIdeas(t, pool, siteA.ID, bulk)
	bIdeas := benchCloneIdeas(t, pool, siteB.ID, samples)
	stopSetup()

	p := providers.Offline()
	p.Text = slowDraftModel{TextModel: p.Text, latency: latency}
	stop := h.StartWorker(t, p)
	defer stop()

	var acc apptest.Accepted
	a.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": aIdeas}, &acc)
	if len(acc.Jobs) != bulk {
		t.Fatalf("asked for %d drafts, got %d jobs", bulk, len(acc.Jobs))
	}
	benchWaitCount(t, pool, time.Minute, "A's drafts fill the worker", 10,
		`SELECT count(*) FROM jobs WHERE batch_id = $1 AND state = 'running'`, acc.BatchID)

	waits := make([]time.Duration, 0, samples)
	for _, idea := range bIdeas {
		sent := time.Now()
		var one apptest.Accepted
		b.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{idea}}, &one)
		j := benchWaitJob(t, pool, one.Jobs[0].ID)
		waits = append(waits, j.StartedAt.Sub(sent))
	}
	var left int
	apptest.Must(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM jobs WHERE batch_id = $1 AND state IN ('queued', 'running')`, acc.BatchID).Scan(&left),
		"count A's unfinished drafts")
	return waits, left
}

// benchPickup: request to start of single drafts on an idle worker with
// TASK_CHECK_INTERVAL interval, against asynq enqueue to handler start of
// a no-op task with the same interval.
func benchPickup(t *testing.T, interval string, samples int) string {
	h := apptest.Start(t, apptest.WithEnv("TASK_CHECK_INTERVAL", interval))
	pool := benchPool(t, h)
	h.StartWorker(t)
	api, site := benchTenant(t, h, "pickup")
	ideas := benchCloneIdeas(t, pool, site.ID, samples+1)

	waits := make([]time.Duration, 0, samples)
	for i, idea := range ideas {
		benchIdlePause(h)
		sent := time.Now()
		var one apptest.Accepted
		api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{idea}}, &one)
		j := benchWaitJob(t, pool, one.Jobs[0].ID)
		if i > 0 { // the first warms up the connections
			waits = append(waits, j.StartedAt.Sub(sent))
		}
	}

	const queue = "bench-idle"
	started := make(chan time.Time, 1)
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench:noop", func(context.Context, *asynq.Task) error {
		started <- time.Now()
		return nil
	})
	srv := asynq.NewServer(h.App.Redis, benchServerConfig(t, h, 10, queue))
	apptest.Must(t, srv.Start(mux), "start raw server")
	defer srv.Shutdown()
	client := asynq.NewClient(h.App.Redis)
	defer client.Close()
	raw := make([]time.Duration, 0, samples)
	for i := 0; i <= samples; i++ {
		benchIdlePause(h)
		sent := time.Now()
		_, err := client.Enqueue(asynq.NewTask("bench:noop", nil), asynq.Queue(queue))
		apptest.Must(t, err, "enqueue no-op")
		select {
		case at := <-started:
			if i > 0 {
				raw = append(raw, at.Sub(sent))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no-op task %d not started after 30 s", i)
		}
	}
	t.Logf("pickup (%s): Presswork %v; raw asynq %v", interval, waits, raw)
	p50, raw50 := benchPercentile(waits, 50), benchPercentile(raw, 50)
	if interval == "50ms" { // config.go's default
		interval += " (the default)"
	}
	return fmt.Sprintf("| idle pickup, TASK_CHECK_INTERVAL %s: request to started_at of a single draft (%d samples) | p50 %s, p99 %s | raw asynq enqueue to handler: p50 %s, p99 %s | p50 ratio %.2f (target p50 <= 50 ms) |",
		interval, samples, benchMS(p50), benchMS(benchPercentile(waits, 99)),
		benchMS(raw50), benchMS(benchPercentile(raw, 99)), float64(p50)/float64(max(raw50, time.Microsecond)))
}

// benchIdlePause lets the worker go idle and spreads the arrivals over
// its polling cycle, as requests from people would arrive: a benchmark's
// arrival pattern, not a wait for a condition.
func benchIdlePause(h *apptest.Harness) {
	interval, _ := time.ParseDuration(h.Env["TASK_CHECK_INTERVAL"])
	time.Sleep(2*interval + rand.N(interval+1))
}

// benchServerConfig is an asynq server configuration like the worker's
// for one queue.
func benchServerConfig(t *testing.T, h *apptest.Harness, concurrency int, queue string) asynq.Config {
	interval, err := time.ParseDuration(h.Env["TASK_CHECK_INTERVAL"])
	apptest.Must(t, err, "TASK_CHECK_INTERVAL")
	return asynq.Config{Concurrency: concurrency, Queues: map[string]int{queue: 1}, TaskCheckInterval: interval,
		LogLevel: asynq.ErrorLevel}
}

// benchPool opens a pool on the test's database.
func benchPool(t *testing.T, h *apptest.Harness) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), h.Env["DATABASE_URL"])
	apptest.Must(t, err, "open pool")
	t.Cleanup(pool.Close)
	return pool
}

// benchTenant makes a tenant with ample credits and a site with clusters
// and ten ideas of its first cluster; a worker must be running.
func benchTenant(t *testing.T, h *apptest.Harness, slug string) (pipelineAPI, store.Site) {
	_, c := h.Tenant(t, slug, 100_000_000)
	api := pipelineAPI{t: t, c: c}
	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Bench " + slug, "url": "https://" + slug + ".example.com",
		"username": "editor", "application_password": "abcd efgh"}, &site)
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[0].ID}, "count": 10}, &acc)
	api.waitJob(acc.Jobs[0].ID)
	return api, site
}

// benchCloneIdeas copies the site's ideas (made by the ideas stage) in SQL
// until it has n, each with its own title, and returns n of their ids:
// making thousands through the ideas stage would take longer than the
// benchmark itself.
func benchCloneIdeas(t *testing.T, pool *pgxpool.Pool, siteID int64, n int) []int64 {
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		INSERT INTO ideas (tenant_id, site_id, cluster_id, job_id, title, content_type, target_keywords, outline)
		SELECT i.tenant_id, i.site_id, i.cluster_id, i.job_id, i.title || ' (' || g || ')', i.content_type,
			i.target_keywords, i.outline
		FROM (SELECT * FROM ideas WHERE site_id = $1 ORDER BY id) i
		CROSS JOIN generate_series(1, $2::int / (SELECT count(*) FROM ideas WHERE site_id = $1)::int + 1) g`,
		siteID, n)
	apptest.Must(t, err, "clone ideas")
	rows, err := pool.Query(ctx, `SELECT id FROM ideas WHERE site_id = $1 ORDER BY id LIMIT $2`, siteID, n)
	apptest.Must(t, err, "list ideas")
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		apptest.Must(t, rows.Scan(&id), "scan idea")
		ids = append(ids, id)
	}
	apptest.Must(t, rows.Err(), "list ideas")
	if len(ids) != n {
		t.Fatalf("site %d has %d ideas, want %d", siteID, len(ids), n)
	}
	return ids
}

// benchWaitJob polls the job's row every 5 ms until it succeeds.
func benchWaitJob(t *testing.T, pool *pgxpool.Pool, id string) store.Job {
	var j store.Job
	j.ID = id
	deadline := time.Now().Add(time.Minute)
	for {
		err := pool.QueryRow(context.Background(), `SELECT state, attempts, started_at FROM jobs WHERE id = $1`, id).
			Scan(&j.State, &j.Attempts, &j.StartedAt)
		apptest.Must(t, err, "read job ", id)
		if j.Final() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %s after a minute", id, j.State)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	if j.State != store.JobSucceeded || j.Attempts != 1 || j.StartedAt == nil {
		t.Fatalf("job %s ended %s after %d attempts", id, j.State, j.Attempts)
	}
	return j
}

// benchWaitCount polls query every 10 ms until it counts at least want.
func benchWaitCount(t *testing.T, pool *pgxpool.Pool, timeout time.Duration, what string, want int, query string, args ...any) {
	benchWaitCountEvery(t, pool, 10*time.Millisecond, timeout, what, want, query, args...)
}

// benchWaitCountEvery polls query every interval until it counts at least
// want, and returns how many times it asked.
func benchWaitCountEvery(t *testing.T, pool *pgxpool.Pool, interval, timeout time.Duration, what string, want int,
	query string, args ...any) (polls int) {
	deadline := time.Now().Add(timeout)
	for {
		var n int
		apptest.Must(t, pool.QueryRow(context.Background(), query, args...).Scan(&n), what)
		polls++
		if n >= want {
			return polls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d after %s", what, n, want, timeout)
		}
		time.Sleep(interval) // polling with a deadline
	}
}

// benchPercentile is the nearest-rank percentile of ds.
func benchPercentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func benchMS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// benchDo calls the API with a timeout of its own (a bulk request can take
// longer than pipelineAPI.do allows) and returns how long the call took.
func benchDo(t *testing.T, api pipelineAPI, timeout time.Duration, method, path string, body, out any, header ...string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := api.c.Do(ctx, method, path, body, out, header...)
	elapsed := time.Since(start)
	apptest.Must(t, err, method, " ", path)
	return elapsed
}

// benchBulkEnqueue: one POST /v1/drafts/generate of n ideas (pacing with
// BULK_INFLIGHT inflight, or the default when empty), no worker running,
// against n raw asynq enqueues from 8 goroutines on the same Redis.
func benchBulkEnqueue(t *testing.T, n int, inflight string) string {
	var opts []apptest.Option
	pacing := "default BULK_INFLIGHT (pro=16)"
	if inflight != "" {
		opts = append(opts, apptest.WithEnv("BULK_INFLIGHT", inflight))
		pacing = "BULK_INFLIGHT 100000 every plan"
	}
	h := apptest.Start(t, opts...)
	pool := benchPool(t, h)
	stopSetup := h.StartWorker(t)
	api, site := benchTenant(t, h, "bulk")
	ideas := benchCloneIdeas(t, pool, site.ID, n)
	stopSetup()

	inspector := asynq.NewInspector(h.App.Redis)
	defer inspector.Close()
	raw := benchRawEnqueue(t, h, inspector, n, 8)

	var acc apptest.Accepted
	elapsed := benchDo(t, api, 5*time.Minute, http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ideas}, &acc)

	// Correctness: one job per idea, each either delivered to asynq once
	// or held in PostgreSQL.
	ids := map[string]bool{}
	for _, j := range acc.Jobs {
		ids[j.ID] = true
	}
	var rowsN, subjects, held, delivered int
	apptest.Must(t, pool.QueryRow(context.Background(), `
		SELECT count(*), count(DISTINCT subject_id), count(*) FILTER (WHERE held), count(*) FILTER (WHERE NOT held)
		FROM jobs WHERE batch_id = $1`, acc.BatchID).Scan(&rowsN, &subjects, &held, &delivered), "count bulk jobs")
	qi, err := inspector.GetQueueInfo(jobs.QueueBulk)
	apptest.Must(t, err, "bulk queue info")
	if len(acc.Jobs) != n || len(ids) != n || rowsN != n || subjects != n || qi.Pending != delivered {
		t.Errorf("bulk enqueue: %d jobs answered (%d distinct), %d rows for %d ideas, want %d; %d delivered but %d pending on asynq",
			len(acc.Jobs), len(ids), rowsN, subjects, n, delivered, qi.Pending)
	}
	t.Logf("bulk enqueue (%s): Presswork %s (%d delivered, %d held); raw asynq %s", pacing,
		elapsed.Round(time.Millisecond), delivered, held, raw.Round(time.Millisecond))
	return fmt.Sprintf("| bulk enqueue: 1 POST /v1/drafts/generate of %d ideas, %s, no worker (request time) | %s (%.0f jobs/s; %d delivered to asynq, %d held) | %s (raw asynq, %d tasks from 8 goroutines; %.0f/s) | %.2f (raw time / Presswork time; target >= 0.5) |",
		n, pacing, benchMS(elapsed), float64(n)/elapsed.Seconds(), delivered, held,
		benchMS(raw), n, float64(n)/raw.Seconds(), raw.Seconds()/elapsed.Seconds())
}

// benchRawEnqueue times n asynq enqueues from goroutines workers on the
// test's Redis and checks they are all pending once.
func benchRawEnqueue(t *testing.T, h *apptest.Harness, inspector *asynq.Inspector, n, workers int) time.Duration {
	const queue = "bench-enqueue"
	client := asynq.NewClient(h.App.Redis)
	defer client.Close()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if _, err := client.Enqueue(asynq.NewTask("bench:enqueue", []byte(fmt.Sprint(i))), asynq.Queue(queue)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	qi, err := inspector.GetQueueInfo(queue)
	apptest.Must(t, err, "raw queue info")
	if failed.Load() != 0 || qi.Pending != n {
		t.Errorf("raw enqueue: %d failed, %d pending, want %d", failed.Load(), qi.Pending, n)
	}
	return elapsed
}

// benchOpenLoop calls f(i) for i < n, one start every interval whatever
// the earlier calls are doing (an open loop, as independent clients
// would), and returns each call's duration and error.
func benchOpenLoop(n int, interval time.Duration, f func(i int) error) ([]time.Duration, []error) {
	lat, errList := make([]time.Duration, n), make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval))) // the arrival schedule
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			errList[i] = f(i)
			lat[i] = time.Since(sent)
		}()
	}
	wg.Wait()
	return lat, errList
}

// benchSteadyEnqueue: single-draft requests at rate per second for d (a
// distinct idea each, no worker running) against raw asynq enqueues at
// the same rate.
func benchSteadyEnqueue(t *testing.T, rate int, d time.Duration) string {
	n := rate * int(d/time.Second)
	interval := time.Second / time.Duration(rate)
	h := apptest.Start(t)
	pool := benchPool(t, h)
	stopSetup := h.StartWorker(t)
	api, site := benchTenant(t, h, "steady")
	ideas := benchCloneIdeas(t, pool, site.ID, n+1)
	stopSetup()

	post := func(idea int64, out *apptest.Accepted) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return api.c.Do(ctx, http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{idea}}, out)
	}
	var warm apptest.Accepted
	apptest.Must(t, post(ideas[n], &warm), "warm-up request")
	accs := make([]apptest.Accepted, n)
	lat, errList := benchOpenLoop(n, interval, func(i int) error { return post(ideas[i], &accs[i]) })
	ids := make([]string, 0, n)
	for i, err := range errList {
		if err != nil {
			t.Errorf("steady enqueue: request %d: %v", i, err)
		} else if len(accs[i].Jobs) != 1 {
			t.Errorf("steady enqueue: request %d answered %d jobs", i, len(accs[i].Jobs))
		} else {
			ids = append(ids, accs[i].Jobs[0].ID)
		}
	}
	var rowsN int
	apptest.Must(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE id = ANY($1::text[])`, ids).Scan(&rowsN),
		"count steady jobs")
	if slices.Sort(ids); len(slices.Compact(ids)) != n || rowsN != n {
		t.Errorf("steady enqueue: %d distinct jobs, %d rows, want %d", len(ids), rowsN, n)
	}

	const queue = "bench-steady"
	client := asynq.NewClient(h.App.Redis)
	defer client.Close()
	enqueue := func(i int) error {
		_, err := client.Enqueue(asynq.NewTask("bench:steady", []byte(fmt.Sprint(i))), asynq.Queue(queue))
		return err
	}
	apptest.Must(t, enqueue(-1), "warm-up enqueue")
	raw, rawErrs := benchOpenLoop(n, interval, enqueue)
	for i, err := range rawErrs {
		if err != nil {
			t.Errorf("steady raw enqueue %d: %v", i, err)
		}
	}
	inspector := asynq.NewInspector(h.App.Redis)
	defer inspector.Close()
	qi, err := inspector.GetQueueInfo(queue)
	apptest.Must(t, err, "raw queue info")
	if qi.Pending != n+1 {
		t.Errorf("steady raw enqueue: %d pending, want %d", qi.Pending, n+1)
	}

	p50, p99, raw50, raw99 := benchPercentile(lat, 50), benchPercentile(lat, 99), benchPercentile(raw, 50), benchPercentile(raw, 99)
	t.Logf("steady enqueue: Presswork p50 %s p99 %s; raw asynq p50 %s p99 %s", p50, p99, raw50, raw99)
	return fmt.Sprintf("| steady enqueue: POST /v1/drafts/generate of 1 idea, %d/s for %s (%d requests, open loop), no worker (request latency) | p50 %s, p99 %s | raw asynq Enqueue at %d/s: p50 %s, p99 %s | p50 ratio %.1f, p99 ratio %.1f |",
		rate, d, n, benchMS(p50), benchMS(p99), rate, benchMS(raw50), benchMS(raw99),
		float64(p50)/float64(max(raw50, time.Microsecond)), float64(p99)/float64(max(raw99, time.Microsecond)))
}

// benchKeywordImport: POST /v1/sites/:id/keywords of an n-row CSV of
// distinct phrases against kwimport.ParseCSV of the same bytes.
func benchKeywordImport(t *testing.T, n int) string {
	h := apptest.Start(t)
	pool := benchPool(t, h)
	_, c := h.Tenant(t, "kwimport", 1000)
	api := pipelineAPI{t: t, c: c}
	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Bench import", "url": "https://import.example.com",
		"username": "editor", "application_password": "abcd efgh"}, &site)

	var b strings.Builder
	b.WriteString("phrase,volume,difficulty,intent\n")
	for i := range n {
		fmt.Fprintf(&b, "bench keyword %d trail shoes,%d,%d,informational\n", i, 10+i%5000, i%100)
	}
	csvData := b.String()

	start := time.Now()
	parsed, err := kwimport.ParseCSV(strings.NewReader(csvData), 0)
	parse := time.Since(start)
	apptest.Must(t, err, "parse CSV")
	if len(parsed.Rows) != n {
		t.Errorf("keyword import: parse kept %d rows, want %d", len(parsed.Rows), n)
	}

	var report struct {
		Imported int `json:"imported"`
	}
	elapsed := benchDo(t, api, 2*time.Minute, http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), []byte(csvData), &report,
		"Content-Type", "text/csv")
	var stored, distinct int
	apptest.Must(t, pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT phrase) FROM keywords WHERE site_id = $1`,
		site.ID).Scan(&stored, &distinct), "count keywords")
	if report.Imported != n || stored != n || distinct != n {
		t.Errorf("keyword import: %d imported, %d rows, %d distinct, want %d", report.Imported, stored, distinct, n)
	}
	t.Logf("keyword import: %d rows (%d bytes) in %s; parse only %s", n, len(csvData), elapsed, parse)
	return fmt.Sprintf("| keyword import: POST /v1/sites/:id/keywords of a %d-row CSV (%.1f MB), request time | %s | %s (kwimport.ParseCSV only) | %.1fx parse (target request <= 5 s) |",
		n, float64(len(csvData))/1e6, benchMS(elapsed), benchMS(parse), elapsed.Seconds()/parse.Seconds())
}

// benchSatResult is one run of benchSatCase.
type benchSatResult struct {
	maxConns, finished, serverMaxConns int
	rate, rssMB, hwmMB                 float64
	window                             time.Duration
}

// benchSaturation: one worker of the given concurrency, each draft taking
// latency at the provider, n drafts queued; jobs/s once saturated and the
// process's peak RSS, against Little's law. It runs with the default
// DATABASE_MAX_CONNS (20), then with 100 (or, leaving room for the
// server's other clients, 60% of what it allows: a pool that takes the
// server's last connections makes other clients' jobs fail and retry).
func benchSaturation(t *testing.T, n, concurrency int, latency time.Duration) []string {
	bound := float64(concurrency) / latency.Seconds()
	var first, second benchSatResult
	t.Run("conns-20", func(t *testing.T) { first = benchSatCase(t, n, concurrency, latency, 20) })
	more := 100
	note := ""
	if first.serverMaxConns > 0 && first.serverMaxConns*6/10 < more {
		more = first.serverMaxConns * 6 / 10
		note = fmt.Sprintf(" (60%% of the server's max_connections %d)", first.serverMaxConns)
	}
	t.Run(fmt.Sprintf("conns-%d", more), func(t *testing.T) { second = benchSatCase(t, n, concurrency, latency, more) })
	row := func(r benchSatResult, note, extra string) string {
		done := ""
		if r.finished != n {
			done = fmt.Sprintf("; only %d of %d finished", r.finished, n)
		}
		return fmt.Sprintf("| saturation (instant provider behind the latency): 1 worker, WORKER_CONCURRENCY %d, DATABASE_MAX_CONNS %d%s, %s per draft, %d drafts queued (jobs/s from t=4 s to the end; peak RSS) | %.0f jobs/s over %s, peak RSS %.0f MB (VmHWM %.0f MB)%s | %.0f jobs/s (Little's law: %d / %s) | %.2f (target >= 0.9, i.e. >= %.0f/s; RSS < 500 MB)%s |",
			concurrency, r.maxConns, note, latency, n, r.rate, r.window.Round(time.Millisecond), r.rssMB, r.hwmMB, done,
			bound, concurrency, latency, r.rate/bound, 0.9*bound, extra)
	}
	var limited string
	if second.rate > 1.2*first.rate {
		limited = fmt.Sprintf("; DATABASE_MAX_CONNS 20 limits it: %d connections give %.2fx", second.maxConns, second.rate/first.rate)
	} else {
		limited = fmt.Sprintf("; more connections (%d) give %.2fx, so the pool is not the limit", second.maxConns, second.rate/max(first.rate, 1e-9))
	}
	return []string{row(first, "", ""), row(second, note, limited)}
}

func benchSatCase(t *testing.T, n, concurrency int, latency time.Duration, maxConns int) benchSatResult {
	res := benchSatResult{maxConns: maxConns}
	h := apptest.Start(t, apptest.WithEnv("WORKER_CONCURRENCY", fmt.Sprint(concurrency)),
		apptest.WithEnv("BULK_INFLIGHT", bulkRoomUnpaced), apptest.WithEnv("DATABASE_MAX_CONNS", fmt.Sprint(maxConns)))
	pool := benchPool(t, h)
	var serverMax string
	apptest.Must(t, pool.QueryRow(context.Background(), `SHOW max_connections`).Scan(&serverMax), "max_connections")
	fmt.Sscan(serverMax, &res.serverMaxConns)
	stopSetup := h.StartWorker(t)
	api, site := benchTenant(t, h, "saturate")
	ideas := benchCloneIdeas(t, pool, site.ID, n)
	stopSetup()

	var acc apptest.Accepted
	benchDo(t, api, 5*time.Minute, http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ideas}, &acc)
	if len(acc.Jobs) != n {
		t.Fatalf("asked for %d drafts, got %d jobs", n, len(acc.Jobs))
	}

	// Peak RSS of the run: reset the high-water mark (Linux 4.0+) and
	// sample VmRSS as well, in case the reset is not allowed.
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	var peakKB atomic.Int64
	sampleDone := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := benchProcStatus("VmRSS"); kb > peakKB.Load() {
				peakKB.Store(kb)
			}
			select {
			case <-sampleDone:
				return
			case <-tick.C:
			}
		}
	}()

	// The instant provider behind the fixed latency: Presswork's own cost
	// per job is what the rate shows (#24).
	p, _ := instantProviders()
	p.Text = slowDraftModel{TextModel: p.Text, latency: latency}
	type sample struct {
		at   time.Duration
		done int
	}
	var samples []sample
	start := time.Now()
	stop := h.StartWorker(t, p)
	deadline := start.Add(150 * time.Second)
	for {
		var done int
		apptest.Must(t, pool.QueryRow(context.Background(),
			`SELECT count(*) FROM jobs WHERE batch_id = $1 AND state IN ('succeeded', 'failed', 'canceled')`, acc.BatchID).Scan(&done),
			"count finished drafts")
		samples = append(samples, sample{time.Since(start), done})
		if done >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	close(sampleDone)
	<-sampled
	res.rssMB = float64(peakKB.Load()) / 1024
	res.hwmMB = float64(benchProcStatus("VmHWM")) / 1024
	stop()

	end := samples[len(samples)-1]
	res.finished = end.done
	from := end
	for _, s := range samples {
		if s.at >= 4*time.Second {
			from = s
			break
		}
	}
	res.window = end.at - from.at
	if res.window > 0 {
		res.rate = float64(end.done-from.done) / res.window.Seconds()
	}

	// Correctness: no job ran twice, each succeeded one wrote one draft,
	// and a finished run succeeded throughout.
	var succeeded, repeated, drafts int
	apptest.Must(t, pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE attempts > 1)
		FROM jobs WHERE batch_id = $1`, acc.BatchID).Scan(&succeeded, &repeated), "check drafts")
	apptest.Must(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM drafts WHERE site_id = $1`, site.ID).Scan(&drafts),
		"count drafts")
	if repeated != 0 || drafts != succeeded || (res.finished == n && succeeded != n) {
		t.Errorf("saturation: %d of %d succeeded, %d ran more than once, %d drafts", succeeded, n, repeated, drafts)
	}
	t.Logf("saturation (DATABASE_MAX_CONNS %d): %d of %d finished in %s; %.0f jobs/s over %s from t=%s; RSS peak %.0f MB, VmHWM %.0f MB",
		maxConns, end.done, n, end.at.Round(time.Millisecond), res.rate, res.window.Round(time.Millisecond),
		from.at.Round(time.Millisecond), res.rssMB, res.hwmMB)
	return res
}

// benchProcStatus reads a kB field of /proc/self/status (0 if absent).
func benchProcStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb
		}
	}
	return 0
}
