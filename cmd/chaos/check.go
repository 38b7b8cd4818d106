package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// result holds the figures of the final line and what explains them.
type result struct {
	items, completed, lost, duplicates, doubleCharges int
	ledgerOK                                          bool

	unfinished  []string // jobs still queued or running
	notDone     []string // items neither completed nor given up with an error
	gaveUp      []string
	dupDetail   []string
	chargeIssue []string
	ledgerIssue []string
	posts       int
	stray       int
	resubmits   int
	crashes     []string
	attempts    []string
}

func (r result) ok() bool {
	return r.completed == r.items && r.lost == 0 && r.duplicates == 0 && r.doubleCharges == 0 && r.ledgerOK
}

type wpPost struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Slug    string `json:"slug"`
	Content struct {
		Raw string `json:"raw"`
	} `json:"content"`
	Title struct {
		Raw string `json:"raw"`
	} `json:"title"`
}

// wpPosts lists every post of the site from WordPress itself (not through
// the fault proxy), all statuses.
func (c *chaos) wpPosts(ctx context.Context) ([]wpPost, error) {
	var all []wpPost
	for page := 1; ; page++ {
		q := url.Values{"rest_route": {"/wp/v2/posts"}, "status": {"any"}, "per_page": {"100"},
			"page": {strconv.Itoa(page)}, "context": {"edit"},
			// A stable order: by date, posts made in the same second may
			// swap between pages and be counted twice or missed.
			"orderby": {"id"}, "order": {"asc"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.wp.url+"/?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(c.wp.user, c.wp.appPassword)
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			return nil, err
		}
		var posts []wpPost
		err = json.NewDecoder(resp.Body).Decode(&posts)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return nil, fmt.Errorf("WordPress posts page %d: HTTP %d: %v", page, resp.StatusCode, err)
		}
		all = append(all, posts...)
		total, _ := strconv.Atoi(resp.Header.Get("X-WP-TotalPages"))
		if page >= total {
			return all, nil
		}
	}
}

func (c *chaos) check(ctx context.Context, tenants []*tenant) (result, error) {
	var res result
	res.items = c.opts.tenants * c.opts.items
	posts, err := c.wpPosts(ctx)
	if err != nil {
		return res, err
	}
	res.posts = len(posts)
	byDraft := map[int64][]wpPost{}
	titles := map[string]int{}
	seen := map[int64]bool{}
	for _, p := range posts {
		if seen[p.ID] {
			return res, fmt.Errorf("WordPress listed post %d twice: its paging is not stable", p.ID)
		}
		seen[p.ID] = true
		m := draftMarkerRe.FindStringSubmatch(p.Content.Raw)
		if m == nil {
			if p.Slug != "hello-world" { // WordPress's own first post
				res.stray++
			}
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		byDraft[id] = append(byDraft[id], p)
		titles[p.Title.Raw]++
	}
	for id, ps := range byDraft {
		if len(ps) > 1 {
			res.duplicates += len(ps) - 1
			var ids []string
			for _, p := range ps {
				ids = append(ids, fmt.Sprintf("%d(%s)", p.ID, p.Status))
			}
			res.dupDetail = append(res.dupDetail, fmt.Sprintf("draft %d: posts %s", id, strings.Join(ids, " ")))
		}
	}
	for title, n := range titles {
		if n > 1 {
			res.dupDetail = append(res.dupDetail, fmt.Sprintf("title %q on %d posts", title, n))
		}
	}

	rows, err := c.pg.psql(ctx, "SELECT id, status, coalesce(wp_post_id, 0) FROM drafts")
	if err != nil {
		return res, err
	}
	type draftRow struct {
		status string
		wpID   int64
	}
	drafts := map[int64]draftRow{}
	for _, r := range rows {
		id, _ := strconv.ParseInt(r[0], 10, 64)
		wpID, _ := strconv.ParseInt(r[2], 10, 64)
		drafts[id] = draftRow{r[1], wpID}
	}
	taken := 0
	for _, t := range tenants {
		t.mu.Lock()
		ids, gaveUp := append([]int64(nil), t.draftIDs...), t.gaveUp
		res.resubmits += t.resubmit
		t.mu.Unlock()
		taken += len(ids)
		for _, id := range ids {
			d := drafts[id]
			ps := byDraft[id]
			switch {
			case d.status == "published" && len(ps) == 1 && ps[0].ID == d.wpID && ps[0].Status == "publish":
				res.completed++
			case gaveUp[id] != "":
				res.gaveUp = append(res.gaveUp, fmt.Sprintf("tenant %s draft %d: %s", t.id, id, trimLog(gaveUp[id], 200)))
			default:
				res.notDone = append(res.notDone, fmt.Sprintf("tenant %s draft %d: status %s, wp_post_id %d, %d posts in WordPress",
					t.id, id, d.status, d.wpID, len(ps)))
			}
		}
	}
	// Items the pipeline never got to (a stage that failed before them)
	// count as not done too.
	missing := max(res.items-taken, 0)

	unf, err := c.pg.psql(ctx, "SELECT id, type, state, phase, attempts, coalesce(last_error,'') FROM jobs WHERE state IN ('queued','running','blocked') ORDER BY id")
	if err != nil {
		return res, err
	}
	for _, r := range unf {
		res.unfinished = append(res.unfinished, strings.Join(r, " | "))
	}
	res.lost = len(res.unfinished) + len(res.notDone) + missing

	dups, err := c.pg.psql(ctx, `SELECT job_id, kind, count(*) FROM credit_ledger WHERE job_id IS NOT NULL
		GROUP BY job_id, kind HAVING count(*) > 1`)
	if err != nil {
		return res, err
	}
	for _, r := range dups {
		res.chargeIssue = append(res.chargeIssue, fmt.Sprintf("job %s: %s rows of kind %s", r[0], r[2], r[1]))
	}
	mism, err := c.pg.psql(ctx, `SELECT j.id, j.type, j.state, j.credits_charged, coalesce(-sum(l.delta), 0)
		FROM jobs j LEFT JOIN credit_ledger l ON l.job_id = j.id
		WHERE j.state IN ('succeeded','failed','canceled')
		GROUP BY j.id HAVING j.credits_charged <> coalesce(-sum(l.delta), 0)`)
	if err != nil {
		return res, err
	}
	for _, r := range mism {
		res.chargeIssue = append(res.chargeIssue, fmt.Sprintf("job %s (%s, %s): credits_charged %s, ledger %s", r[0], r[1], r[2], r[3], r[4]))
	}
	res.doubleCharges = len(res.chargeIssue)

	led, err := c.pg.psql(ctx, `SELECT t.id, t.credit_balance, coalesce((SELECT sum(delta) FROM credit_ledger l WHERE l.tenant_id = t.id), 0)
		FROM tenants t ORDER BY t.id`)
	if err != nil {
		return res, err
	}
	res.ledgerOK = len(led) > 0
	for _, r := range led {
		if r[1] != r[2] {
			res.ledgerOK = false
			res.ledgerIssue = append(res.ledgerIssue, fmt.Sprintf("tenant %s: balance %s, ledger sums to %s", r[0], r[1], r[2]))
		}
	}
	att, err := c.pg.psql(ctx, `SELECT type, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), max(attempts),
		sum(CASE WHEN state='failed' THEN 1 ELSE 0 END) FROM jobs GROUP BY type ORDER BY type`)
	if err != nil {
		return res, err
	}
	for _, r := range att {
		res.attempts = append(res.attempts, fmt.Sprintf("%-16s %4s jobs, %4s retried, max %2s attempts, %3s failed", r[0], r[1], r[2], r[3], r[4]))
	}
	for _, p := range c.procs {
		res.crashes = append(res.crashes, p.crashList()...)
	}
	return res, nil
}

// report prints what the run measured and the final line.
func (c *chaos) report(res result) {
	fmt.Println()
	fmt.Println("== faults and recovery (measured from the moment each fault ended)")
	recs := c.rec.all()
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at.Before(recs[j].at) })
	fmt.Println("ready: every process's /readyz 200 again; first job: a job (of the stage hit) succeeded;")
	fmt.Println("jobs ended: the jobs running at a kill (queued or running at other faults) all ended")
	fmt.Printf("%-48s %8s %8s  %-10s %-10s %-18s %s\n", "fault", "at", "lasted", "ready", "first job", "jobs ended", "")
	for _, r := range recs {
		drained := "-"
		if r.drainJobs > 0 {
			drained = fmt.Sprintf("%d ended %s", r.drainJobs, fmtDur(r.drained, r.drainErr))
		}
		fmt.Printf("%-48s %7.1fs %7.1fs  %-10s %-10s %-18s %s\n", r.fault, r.at.Sub(c.start).Seconds(),
			r.cleared.Sub(r.at).Seconds(), fmtDur(r.ready, r.readyErr), fmtDur(r.progress, r.progErr), drained, r.detail)
	}
	fmt.Println()
	if c.outage.status == 0 && c.outage.body == "" {
		fmt.Println("PostgreSQL was not restarted (the pipeline had ended before)")
	} else {
		c.reportOutage()
	}
	c.reportRest(res)
}

func (c *chaos) reportOutage() {
	fmt.Printf("while PostgreSQL was down: GET /v1/credits -> %d in %.1fs %s\n", c.outage.status, c.outage.took.Seconds(), trimLog(c.outage.body, 400))
	fmt.Printf("                           GET /readyz     -> %d %s\n", c.outage.readyzStatus, trimLog(c.outage.readyzBody, 400))
	if c.outage.status != http.StatusServiceUnavailable || !strings.Contains(strings.ToLower(c.outage.body), "database") {
		fmt.Println("  NOT AS REQUIRED: the API should answer 503 with a problem document naming the database")
	}
}

func (c *chaos) reportRest(res result) {
	fmt.Printf("AI providers: %d requests answered 429, %d slowed; WordPress proxy: %d of %d requests failed\n",
		c.ai.throttled.Load(), c.ai.slowed.Load(), c.flaky.Failures(), c.flaky.Requests())
	fmt.Printf("WordPress holds %d posts (%d without a Presswork marker); %d items submitted again after failed jobs\n",
		res.posts, res.stray, res.resubmits)
	fmt.Println("jobs by type:")
	for _, a := range res.attempts {
		fmt.Println("  " + a)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Printf("%s (%d):\n", title, len(lines))
		for i, l := range lines {
			if i == 30 {
				fmt.Printf("  ... %d more\n", len(lines)-30)
				break
			}
			fmt.Println("  " + l)
		}
	}
	if len(res.crashes) == 0 {
		fmt.Println("process exits the driver did not cause: none (no process crashed through the outages)")
	}
	section("process exits the driver did not cause", res.crashes)
	section("jobs never finished", res.unfinished)
	section("items not completed", res.notDone)
	section("items given up after failed publish jobs", res.gaveUp)
	section("duplicate posts", res.dupDetail)
	section("charge mismatches", res.chargeIssue)
	section("ledger mismatches", res.ledgerIssue)
	fmt.Println()
	fmt.Printf("items=%d completed=%d lost=%d duplicate_posts=%d double_charges=%d ledger_matches_balance=%t\n",
		res.items, res.completed, res.lost, res.duplicates, res.doubleCharges, res.ledgerOK)
}

func fmtDur(d time.Duration, err string) string {
	if err == "idle" {
		return "idle" // no work was left to do
	}
	if err != "" {
		return "never"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
