package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// faults runs the fault schedule. Each step waits for work of the stage it
// means to hit (up to a limit), injects its fault, and starts measuring
// the recovery in the background. Once every tenant's pipeline has ended
// (done closed), the steps left are skipped: there is nothing to hit.
func (c *chaos) faults(ctx context.Context, done <-chan struct{}) {
	wait := func(d time.Duration, types ...string) bool {
		if ctx.Err() != nil {
			return false
		}
		select {
		case <-done:
			c.logf("fault schedule: every pipeline has ended; the faults left are skipped")
			return false
		default:
		}
		if len(types) == 0 {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		c.waitRunning(ctx, done, d, types...)
		return ctx.Err() == nil
	}
	steps := []struct {
		wait  time.Duration
		types []string
		do    func()
	}{
		{5 * time.Second, nil, func() {}},
		{90 * time.Second, []string{"keywords:cluster", "ideas:generate"}, func() { c.killWorkers(ctx, "SIGKILL worker-1", c.workers[0]) }},
		{3 * time.Minute, []string{"draft:write"}, func() { c.killWorkers(ctx, "SIGKILL worker-2", c.workers[1]) }},
		{2 * time.Minute, []string{"draft:write"}, func() { c.pauseWorker(ctx, "SIGSTOP worker-1 (10 s)", c.workers[0], 10*time.Second) }},
		{2 * time.Minute, aiTypes, func() { c.aiWindow(ctx, "AI 429 storm (80% of requests, 20 s)", aiStorm, 20*time.Second) }},
		{3 * time.Second, nil, func() { c.restartRedis(ctx) }},
		{4 * time.Minute, []string{"image:generate"}, func() { c.killWorkers(ctx, "SIGKILL worker-1", c.workers[0]) }},
		{2 * time.Minute, aiTypes, func() { c.aiWindow(ctx, "AI slow replies (2-6 s, 20 s)", aiSlow, 20*time.Second) }},
		{0, nil, func() { c.restartPostgres(ctx) }},
		{6 * time.Minute, []string{"post:publish"}, func() { c.wordpressWindow(ctx) }},
	}
	for _, st := range steps {
		if !wait(st.wait, st.types...) {
			return
		}
		st.do()
	}
}

// aiTypes are the job types that call the AI providers.
var aiTypes = []string{"keywords:cluster", "ideas:generate", "draft:write", "image:generate"}

// waitRunning waits until jobs of one of the types are running, for at
// most d.
func (c *chaos) waitRunning(ctx context.Context, done <-chan struct{}, d time.Duration, types ...string) {
	err := waitFor(ctx, d, strings.Join(types, " or ")+" jobs running", func() bool {
		select {
		case <-done:
			return true
		default:
		}
		n, err := c.pg.one(ctx, "SELECT count(*) FROM jobs WHERE state='running' AND type IN ('"+strings.Join(types, "','")+"')")
		return err == nil && n != "0" && n != ""
	})
	if err != nil && ctx.Err() == nil {
		c.logf("fault schedule: %v; injecting the next fault anyway", err)
	}
}

// runningByType describes the jobs running now, by type, and returns the
// ids of the jobs queued or running (all true) or running.
func (c *chaos) runningByType(ctx context.Context, all bool) (string, []string) {
	rows, err := c.pg.psql(ctx, "SELECT type, count(*) FROM jobs WHERE state='running' GROUP BY type ORDER BY type")
	if err != nil {
		return "unknown: " + err.Error(), nil
	}
	var parts []string
	for _, r := range rows {
		parts = append(parts, r[0]+"="+r[1])
	}
	q := "SELECT id FROM jobs WHERE state = 'running'"
	if all {
		q = "SELECT id FROM jobs WHERE state IN ('queued','running')"
	}
	ids, _ := c.pg.psql(ctx, q)
	var list []string
	for _, r := range ids {
		list = append(list, r[0])
	}
	if len(parts) == 0 {
		return "none running", list
	}
	return strings.Join(parts, " "), list
}

// killWorkers SIGKILLs the workers and starts them again two seconds later.
func (c *chaos) killWorkers(ctx context.Context, what string, ws ...*process) {
	running, inflight := c.runningByType(ctx, false)
	r := &recovery{fault: what, at: time.Now(), detail: "running at the kill: " + running}
	for _, w := range ws {
		w.kill()
	}
	c.logf("FAULT %s (%s)", what, r.detail)
	time.Sleep(2 * time.Second)
	for _, w := range ws {
		if err := w.start(); err != nil {
			c.logf("restart %s: %v", w.name, err)
		}
	}
	r.cleared = time.Now()
	c.measure(ctx, r, "", inflight)
}

// pauseWorker stops a worker (SIGSTOP) for d, longer than
// WORKER_LOST_AFTER, and continues it (SIGCONT): its jobs are delivered
// again to the other worker meanwhile (#25), and when it comes back its
// writes on them must change nothing (no double charge, no second post).
func (c *chaos) pauseWorker(ctx context.Context, what string, w *process, d time.Duration) {
	running, inflight := c.runningByType(ctx, false)
	r := &recovery{fault: what, at: time.Now(), detail: "running at the pause: " + running}
	w.signal(syscall.SIGSTOP)
	c.logf("FAULT %s (%s)", what, r.detail)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	w.signal(syscall.SIGCONT)
	r.cleared = time.Now()
	c.logf("FAULT %s ends: SIGCONT", what)
	c.measure(ctx, r, "", inflight)
}

// aiWindow switches the fake AI providers to mode for d.
func (c *chaos) aiWindow(ctx context.Context, what string, mode int32, d time.Duration) {
	r := &recovery{fault: what, at: time.Now()}
	t0, s0 := c.ai.throttled.Load(), c.ai.slowed.Load()
	c.ai.mode.Store(mode)
	c.logf("FAULT %s begins", what)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	c.ai.mode.Store(aiNormal)
	r.cleared = time.Now()
	r.detail = fmt.Sprintf("%d requests answered 429, %d slowed", c.ai.throttled.Load()-t0, c.ai.slowed.Load()-s0)
	c.logf("FAULT %s ends (%s)", what, r.detail)
	c.measure(ctx, r, "'"+strings.Join(aiTypes, "','")+"'", nil)
}

// restartRedis stops Redis (saving its data) and starts it 5 s later.
func (c *chaos) restartRedis(ctx context.Context) {
	r := &recovery{fault: "Redis restart (SHUTDOWN SAVE, 5 s down)", at: time.Now()}
	_, inflight := c.runningByType(ctx, true)
	c.logf("FAULT %s", r.fault)
	if err := c.redis.shutdown(ctx, true); err != nil {
		c.logf("redis shutdown: %v", err)
	}
	time.Sleep(5 * time.Second)
	if err := c.redis.start(ctx); err != nil {
		c.logf("redis start: %v", err)
	}
	r.cleared = time.Now()
	c.measure(ctx, r, "", inflight)
}

// restartPostgres crashes PostgreSQL (immediate stop), asks the API for
// work while it is down, and starts it 8 s later.
func (c *chaos) restartPostgres(ctx context.Context) {
	r := &recovery{fault: "PostgreSQL restart (immediate stop, 8 s down)", at: time.Now()}
	_, inflight := c.runningByType(ctx, true)
	c.logf("FAULT %s", r.fault)
	if err := c.pg.stop(ctx, "immediate"); err != nil {
		c.logf("postgres stop: %v", err)
	}
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		time.Sleep(2 * time.Second)
		t0 := time.Now()
		c.outage.status, c.outage.body = c.probe(ctx, "/v1/credits")
		c.outage.took = time.Since(t0)
		c.outage.readyzStatus, c.outage.readyzBody = c.probe(ctx, "/readyz")
		c.logf("while PostgreSQL is down: GET /v1/credits -> %d in %.1fs %s; GET /readyz -> %d %s", c.outage.status,
			c.outage.took.Seconds(), trimLog(c.outage.body, 300), c.outage.readyzStatus, trimLog(c.outage.readyzBody, 300))
	}()
	time.Sleep(8 * time.Second)
	if err := c.pg.start(ctx); err != nil {
		c.logf("postgres start: %v", err)
	}
	r.cleared = time.Now()
	<-probed
	c.measure(ctx, r, "", inflight)
}

// probe calls the API with the first tenant's key.
func (c *chaos) probe(ctx context.Context, path string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.probeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type") + " " + string(body)
}

// wordpressWindow makes the proxy fail 30% of WordPress requests for 60 s;
// both workers are killed 10 s in and Redis is emptied 30 s in.
func (c *chaos) wordpressWindow(ctx context.Context) {
	r := &recovery{fault: "WordPress 30% failures (500s, timeouts; 60 s)", at: time.Now()}
	q0, f0 := c.flaky.Requests(), c.flaky.Failures()
	c.flaky.SetShare(0.3)
	c.logf("FAULT %s begins", r.fault)
	time.Sleep(10 * time.Second)
	c.killWorkers(ctx, "SIGKILL both workers (publishing)", c.workers...)
	time.Sleep(18 * time.Second)
	c.flushRedis(ctx)
	time.Sleep(30 * time.Second)
	c.flaky.SetShare(0)
	r.cleared = time.Now()
	r.detail = fmt.Sprintf("%d of %d requests failed", c.flaky.Failures()-f0, c.flaky.Requests()-q0)
	c.logf("FAULT %s ends (%s)", r.fault, r.detail)
	c.measure(ctx, r, "'post:publish'", nil)
}

// flushRedis empties Redis (FLUSHALL): every queued task and every lease.
func (c *chaos) flushRedis(ctx context.Context) {
	running, inflight := c.runningByType(ctx, true)
	r := &recovery{fault: "Redis FLUSHALL", at: time.Now(), detail: "running at the flush: " + running}
	out, err := c.redis.cli(ctx, "FLUSHALL")
	c.logf("FAULT %s -> %s %v (%s, %d jobs queued or running)", r.fault, out, err, running, len(inflight))
	r.cleared = time.Now()
	c.measure(ctx, r, "", inflight)
}

// measure records r and measures in the background: how long after
// r.cleared every process was ready again, a job (of the types listed, or
// any) succeeded, and every job in flight at the fault ended.
func (c *chaos) measure(ctx context.Context, r *recovery, types string, inflight []string) {
	c.rec.add(r)
	c.rec.wg.Add(1)
	go func() {
		defer c.rec.wg.Done()
		if err := waitFor(ctx, 5*time.Minute, "readiness", func() bool { return c.allReady(ctx) }); err != nil {
			r.readyErr = err.Error()
		}
		r.ready = time.Since(r.cleared)
	}()
	c.rec.wg.Add(1)
	go func() {
		defer c.rec.wg.Done()
		q := "SELECT count(*) FROM jobs WHERE state='succeeded' AND finished_at > '" + r.cleared.UTC().Format(time.RFC3339Nano) + "'"
		if types != "" {
			q += " AND type IN (" + types + ")"
		}
		idle := false
		if err := waitFor(ctx, 8*time.Minute, "a job to succeed", func() bool {
			n, err := c.pg.one(ctx, q)
			if err == nil && n != "0" && n != "" {
				return true
			}
			left, err := c.pg.one(ctx, "SELECT count(*) FROM jobs WHERE state IN ('queued','running','blocked')")
			idle = err == nil && left == "0"
			return idle
		}); err != nil {
			r.progErr = err.Error()
		} else if idle {
			r.progErr = "idle"
		}
		r.progress = time.Since(r.cleared)
	}()
	if len(inflight) == 0 {
		return
	}
	r.drainJobs = len(inflight)
	c.rec.wg.Add(1)
	go func() {
		defer c.rec.wg.Done()
		list := "'{" + strings.Join(inflight, ",") + "}'"
		if err := waitFor(ctx, 10*time.Minute, "the jobs in flight to end", func() bool {
			n, err := c.pg.one(ctx, "SELECT count(*) FROM jobs WHERE id = ANY("+list+") AND state IN ('queued','running','blocked')")
			return err == nil && n == "0"
		}); err != nil {
			r.drainErr = err.Error()
		}
		r.drained = time.Since(r.cleared)
	}()
}
