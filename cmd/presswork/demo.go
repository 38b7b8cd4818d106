package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apiapp"
	"github.com/presswork/presswork/internal/app/workerapp"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// runDemo boots the API and a worker in this process, creates a demo
// tenant and site, and drives keywords -> clusters -> ideas -> drafts
// through the real HTTP API with the offline provider.
func runDemo(ctx context.Context, open opener, args []string, out io.Writer) error {
	fs := commandFlags("demo", out)
	keywordsFile := fs.String("keywords", "testdata/sample-keywords.csv", "CSV file of keywords to import")
	ideasPerCluster := fs.Int("ideas", 2, "ideas per cluster")
	publishN := fs.Int("publish", 5, "drafts to illustrate and publish when DEMO_WP_URL names a WordPress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	csv, err := os.ReadFile(*keywordsFile)
	if err != nil {
		return fmt.Errorf("read keywords: %w", err)
	}
	a, err := open()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	baseURL, stop, err := startInProcess(ctx, a)
	if err != nil {
		return err
	}
	defer stop()

	start := time.Now()
	t, err := auth.CreateTenant(ctx, a.Store, auth.NewTenantRequest{
		Name: "Demo Media", Slug: fmt.Sprintf("demo-%d", time.Now().Unix()), Plan: "agency", Credits: 2000})
	if err != nil {
		return err
	}
	d := demo{api: &client.Client{BaseURL: baseURL, Key: t.OwnerKey}, out: out, wp: demoWordPress()}
	fmt.Fprintf(out, "demo tenant %q (id %d), API at %s, provider: offline\n", t.Tenant.Slug, t.Tenant.ID, baseURL)
	if err := d.run(ctx, csv, *ideasPerCluster); err != nil {
		return err
	}
	if d.wp.URL == "" {
		fmt.Fprintln(out, "  publish    skipped: no WordPress configured. Set DEMO_WP_URL, DEMO_WP_USER and "+
			"DEMO_WP_APP_PASSWORD (and ALLOW_PRIVATE_URLS=true for a site on this machine), or run "+
			"`make demo-wordpress`, which starts a local WordPress with scripts/wordpress.sh.")
	} else if err := d.publish(ctx, *publishN); err != nil {
		return err
	}
	return d.summary(ctx, t.Tenant.CreditBalance, time.Since(start))
}

// startInProcess serves the API on a free loopback port and runs a worker,
// both stopped by the returned function.
func startInProcess(ctx context.Context, a *app.App) (string, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	srv, enqClient := apiapp.New(a)
	addrCh := make(chan string, 1)
	apiDone := make(chan error, 1)
	go func() { apiDone <- srv.Serve(ctx, "127.0.0.1:0", 5*time.Second, func(addr string) { addrCh <- addr }) }()
	workerDone := make(chan error, 1)
	go func() { workerDone <- workerapp.Run(ctx, a, providers.Offline()) }()
	stop := func() {
		cancel()
		<-apiDone
		<-workerDone
		enqClient.Close()
	}
	select {
	case addr := <-addrCh:
		return "http://" + addr, stop, nil
	case err := <-apiDone:
		stop()
		return "", nil, fmt.Errorf("start API: %w", err)
	}
}

type demo struct {
	api    *client.Client
	out    io.Writer
	wp     wordpress.Credentials // the site to publish to; URL "" for none
	siteID int64
	timing []string
}

// demoWordPress reads the WordPress the demo publishes to from the
// environment.
func demoWordPress() wordpress.Credentials {
	return wordpress.Credentials{URL: os.Getenv("DEMO_WP_URL"), User: os.Getenv("DEMO_WP_USER"),
		AppPassword: os.Getenv("DEMO_WP_APP_PASSWORD")}
}

type accepted struct {
	BatchID string `json:"batch_id"`
	Jobs    []struct {
		ID string `json:"id"`
	} `json:"jobs"`
}

func (d *demo) run(ctx context.Context, csv []byte, ideasPerCluster int) error {
	var site store.Site
	siteReq := map[string]any{"name": "Demo Outdoor & Kitchen Blog",
		"url": "https://demo.example.com", "username": "editor", "application_password": "demo demo demo demo"}
	if d.wp.URL != "" {
		siteReq["url"], siteReq["username"], siteReq["application_password"] = d.wp.URL, d.wp.User, d.wp.AppPassword
		siteReq["inline_images"] = 1
	}
	err := d.api.Do(ctx, http.MethodPost, "/v1/sites", siteReq, &site)
	if err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	d.siteID = site.ID
	var report map[string]any
	t0 := time.Now()
	if err := d.api.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), csv, &report,
		"Content-Type", "text/csv"); err != nil {
		return fmt.Errorf("import keywords: %w", err)
	}
	d.step("import", t0, fmt.Sprintf("%v keywords imported, %v invalid, %v duplicates", report["imported"],
		report["invalid_count"], report["duplicates_in_file"]))

	t0 = time.Now()
	var clustering accepted
	if err := d.api.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &clustering); err != nil {
		return fmt.Errorf("start clustering: %w", err)
	}
	if err := d.waitJob(ctx, clustering.Jobs[0].ID); err != nil {
		return err
	}
	clusterIDs, err := d.ids(ctx, fmt.Sprintf("/v1/sites/%d/clusters", site.ID))
	if err != nil {
		return err
	}
	d.step("clustering", t0, fmt.Sprintf("%d clusters", len(clusterIDs)))

	t0 = time.Now()
	if err := d.generate(ctx, "/v1/ideas/generate", map[string]any{"cluster_ids": clusterIDs, "count": ideasPerCluster}); err != nil {
		return err
	}
	ideaIDs, err := d.ids(ctx, fmt.Sprintf("/v1/ideas?site_id=%d", site.ID))
	if err != nil {
		return err
	}
	d.step("ideas", t0, fmt.Sprintf("%d ideas", len(ideaIDs)))

	t0 = time.Now()
	if err := d.generate(ctx, "/v1/drafts/generate", map[string]any{"idea_ids": ideaIDs}); err != nil {
		return err
	}
	d.step("drafts", t0, fmt.Sprintf("%d drafts", len(ideaIDs)))
	return nil
}

// publish checks the site's connection, makes the images of the first n
// drafts and publishes them, then counts the posts in WordPress itself.
func (d *demo) publish(ctx context.Context, n int) error {
	t0 := time.Now()
	var check accepted
	if err := d.api.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", d.siteID), nil, &check); err != nil {
		return fmt.Errorf("check site: %w", err)
	}
	if err := d.waitJob(ctx, check.Jobs[0].ID); err != nil {
		return err
	}
	var site store.Site
	if err := d.api.Do(ctx, http.MethodGet, fmt.Sprintf("/v1/sites/%d", d.siteID), nil, &site); err != nil {
		return err
	}
	if site.Health != store.HealthHealthy {
		return fmt.Errorf("the WordPress at %s is %s: %s", d.wp.URL, site.Health, site.HealthReason)
	}
	d.step("check", t0, fmt.Sprintf("site healthy (%s URLs)", deref(site.RESTStyle)))
	draftIDs, err := d.ids(ctx, fmt.Sprintf("/v1/drafts?site_id=%d", d.siteID))
	if err != nil {
		return err
	}
	draftIDs = draftIDs[:min(n, len(draftIDs))]
	t0 = time.Now()
	if err := d.generate(ctx, "/v1/images/generate", map[string]any{"draft_ids": draftIDs}); err != nil {
		return err
	}
	d.step("images", t0, fmt.Sprintf("featured + 1 inline for %d drafts", len(draftIDs)))
	t0 = time.Now()
	if err := d.generate(ctx, "/v1/drafts/publish", map[string]any{"draft_ids": draftIDs}); err != nil {
		return err
	}
	took := time.Since(t0)
	posts, dups, err := d.countPosts(ctx, draftIDs)
	if err != nil {
		return err
	}
	d.step("publish", t0, fmt.Sprintf("%d posts, %d duplicates, %.2fs each", posts, dups,
		took.Seconds()/float64(len(draftIDs))))
	if posts != len(draftIDs) || dups != 0 {
		return fmt.Errorf("WordPress holds %d posts of %d published drafts (%d duplicates)", posts, len(draftIDs), dups)
	}
	fmt.Fprintf(d.out, "  posts are at %s/?p=ID (ids in GET /v1/drafts)\n", strings.TrimRight(d.wp.URL, "/"))
	return nil
}

// countPosts asks WordPress how many posts carry the drafts' markers, and
// how many of those are extra copies.
func (d *demo) countPosts(ctx context.Context, draftIDs []int64) (posts, duplicates int, err error) {
	wp := wordpress.New(&http.Client{Timeout: time.Minute}, d.wp, "")
	for _, id := range draftIDs {
		found, err := wp.SearchPosts(ctx, tasks.DraftMarker(id))
		if err != nil {
			return 0, 0, fmt.Errorf("count posts in WordPress: %w", err)
		}
		n := 0
		for _, p := range found {
			if strings.Contains(p.Content, tasks.DraftMarkerComment(id)) {
				n++
			}
		}
		posts += min(n, 1)
		duplicates += max(n-1, 0)
	}
	return posts, duplicates, nil
}

func (d *demo) step(name string, t0 time.Time, what string) {
	line := fmt.Sprintf("  %-10s %-40s %6.2fs", name, what, time.Since(t0).Seconds())
	d.timing = append(d.timing, line)
	fmt.Fprintln(d.out, line)
}

// generate posts a bulk request and waits for its batch to finish.
func (d *demo) generate(ctx context.Context, path string, body any) error {
	var acc accepted
	if err := d.api.Do(ctx, http.MethodPost, path, body, &acc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if acc.BatchID == "" {
		return d.waitJob(ctx, acc.Jobs[0].ID)
	}
	for {
		var b store.BatchSummary
		if err := d.api.Do(ctx, http.MethodGet, "/v1/batches/"+acc.BatchID, nil, &b); err != nil {
			return err
		}
		if b.Done == b.Total {
			if n := b.ByState[store.JobFailed]; n > 0 {
				return fmt.Errorf("%d jobs of batch %s failed, first: %+v", n, acc.BatchID, b.Errors)
			}
			return nil
		}
		if err := pause(ctx); err != nil {
			return err
		}
	}
}

func (d *demo) waitJob(ctx context.Context, id string) error {
	for {
		var j store.Job
		if err := d.api.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil, &j); err != nil {
			return err
		}
		switch j.State {
		case store.JobSucceeded:
			return nil
		case store.JobFailed, store.JobCanceled:
			return fmt.Errorf("job %s %s: %v", id, j.State, deref(j.LastError))
		}
		if err := pause(ctx); err != nil {
			return err
		}
	}
}

// ids reads every page of a listing and returns the items' ids.
func (d *demo) ids(ctx context.Context, path string) ([]int64, error) {
	return client.IDs(ctx, d.api.Get, path)
}

func (d *demo) summary(ctx context.Context, opening int64, took time.Duration) error {
	var credits struct {
		Balance int64 `json:"balance"`
	}
	if err := d.api.Do(ctx, http.MethodGet, "/v1/credits", nil, &credits); err != nil {
		return err
	}
	var drafts struct {
		Items []store.Draft `json:"items"`
	}
	if err := d.api.Do(ctx, http.MethodGet, fmt.Sprintf("/v1/drafts?site_id=%d&limit=3", d.siteID), nil, &drafts); err != nil {
		return err
	}
	if len(drafts.Items) == 0 {
		return errors.New("the demo made no drafts")
	}
	fmt.Fprintf(d.out, "\nsummary: credits used %d (balance %d of %d), total time %.2fs\n",
		opening-credits.Balance, credits.Balance, opening, took.Seconds())
	fmt.Fprintln(d.out, "sample drafts:")
	for _, dr := range drafts.Items {
		fmt.Fprintf(d.out, "  - %q (%d words, /%s)\n", dr.Title, dr.WordCount, dr.Slug)
	}
	return nil
}

func pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("demo timed out: %w", ctx.Err())
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
