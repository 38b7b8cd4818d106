package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/client"
)

// tenant is one tenant of the run and the items it pushes through.
type tenant struct {
	c      *chaos
	n      int
	id     string
	api    *client.Client
	siteID int64

	mu       sync.Mutex
	draftIDs []int64
	gaveUp   map[int64]string // drafts given up on: the error of their last failed publish
	resubmit int              // items submitted again after a failed job
}

var (
	ownerKeyRe = regexp.MustCompile(`owner API key \(shown once, keep it\): (\S+)`)
	tenantIDRe = regexp.MustCompile(`^tenant (\d+) `)
)

func (c *chaos) newTenant(ctx context.Context, n int) (*tenant, error) {
	out, err := c.presswork(ctx, "tenant", "create", "-name", fmt.Sprintf("Chaos Media %d", n+1),
		"-slug", fmt.Sprintf("chaos-%d", n+1), "-plan", "agency", "-credits", "100000")
	if err != nil {
		return nil, fmt.Errorf("presswork tenant create: %v\n%s", err, out)
	}
	key, id := ownerKeyRe.FindStringSubmatch(out), tenantIDRe.FindStringSubmatch(out)
	if key == nil || id == nil {
		return nil, fmt.Errorf("presswork tenant create printed no key: %s", out)
	}
	t := &tenant{c: c, n: n, id: id[1], gaveUp: map[int64]string{},
		api: &client.Client{BaseURL: c.apiURL, Key: key[1], HTTP: &http.Client{Timeout: 30 * time.Second}}}
	var site struct {
		ID int64 `json:"id"`
	}
	if err := t.do(ctx, http.MethodPost, "/v1/sites", map[string]any{"name": fmt.Sprintf("Chaos blog %d", n+1),
		"url": c.front.URL, "username": c.wp.user, "application_password": c.wp.appPassword}, &site); err != nil {
		return nil, fmt.Errorf("create site: %w", err)
	}
	t.siteID = site.ID
	if c.probeKey == "" {
		c.probeKey = key[1]
	}
	c.logf("tenant %s (chaos-%d) with site %d", t.id, n+1, t.siteID)
	return t, nil
}

// do calls the API as a user would: a POST carries an Idempotency-Key, and
// a request that fails for a reason outside the client's control (no
// answer, 5xx, 429) is sent again, for up to five minutes.
func (t *tenant) do(ctx context.Context, method, path string, body, out any, header ...string) error {
	if method == http.MethodPost {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		header = append(header, "Idempotency-Key", "chaos-"+hex.EncodeToString(b))
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		err := t.api.Do(ctx, method, path, body, out, header...)
		var apiErr *client.Error
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		if errors.As(err, &apiErr) && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests &&
			apiErr.Status != http.StatusConflict {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type accepted struct {
	BatchID string `json:"batch_id"`
	Jobs    []struct {
		ID string `json:"id"`
	} `json:"jobs"`
}

// pipeline takes the tenant's keywords to published posts: import,
// clustering, ideas, drafts, images, publishing, each stage in one bulk
// request; the items of failed jobs are submitted again (up to 4 times),
// as a user would.
func (t *tenant) pipeline(ctx context.Context) error {
	csv, err := os.ReadFile("testdata/sample-keywords.csv")
	if err != nil {
		return err
	}
	var report map[string]any
	if err := t.do(ctx, http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", t.siteID), csv, &report,
		"Content-Type", "text/csv"); err != nil {
		return fmt.Errorf("tenant %s: import: %w", t.id, err)
	}
	t.c.logf("tenant %s: imported %v keywords; clustering", t.id, report["imported"])
	if _, err := t.stage(ctx, "clustering", []int64{0}, func(ids []int64) (string, any) {
		return fmt.Sprintf("/v1/sites/%d/clustering", t.siteID), nil
	}); err != nil {
		return err
	}
	clusters, err := t.ids(ctx, fmt.Sprintf("/v1/sites/%d/clusters", t.siteID))
	if err != nil || len(clusters) == 0 {
		return fmt.Errorf("tenant %s: clusters: %v (%d)", t.id, err, len(clusters))
	}
	count := min((t.c.opts.items+len(clusters)-1)/len(clusters)+1, 10)
	t.c.logf("tenant %s: %d clusters; %d ideas each", t.id, len(clusters), count)
	if _, err := t.stage(ctx, "ideas", clusters, func(ids []int64) (string, any) {
		return "/v1/ideas/generate", map[string]any{"cluster_ids": ids, "count": count}
	}); err != nil {
		return err
	}
	ideas, err := t.ids(ctx, fmt.Sprintf("/v1/ideas?site_id=%d", t.siteID))
	if err != nil {
		return err
	}
	ideas = ideas[:min(len(ideas), t.c.opts.items)]
	t.c.logf("tenant %s: %d ideas taken on; drafts", t.id, len(ideas))
	if _, err := t.stage(ctx, "drafts", ideas, func(ids []int64) (string, any) {
		return "/v1/drafts/generate", map[string]any{"idea_ids": ids}
	}); err != nil {
		return err
	}
	drafts, err := t.ids(ctx, fmt.Sprintf("/v1/drafts?site_id=%d", t.siteID))
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.draftIDs = drafts
	t.mu.Unlock()
	t.c.logf("tenant %s: %d drafts; images", t.id, len(drafts))
	if _, err := t.stage(ctx, "images", drafts, func(ids []int64) (string, any) {
		return "/v1/images/generate", map[string]any{"draft_ids": ids}
	}); err != nil {
		return err
	}
	t.c.logf("tenant %s: images done; publishing %d drafts", t.id, len(drafts))
	failed, err := t.stage(ctx, "publish", drafts, func(ids []int64) (string, any) {
		return "/v1/drafts/publish", map[string]any{"draft_ids": ids, "status": "publish"}
	})
	t.mu.Lock()
	for id, e := range failed {
		t.gaveUp[id] = e
	}
	t.mu.Unlock()
	if err != nil {
		return err
	}
	t.c.logf("tenant %s: publishing done (%d given up)", t.id, len(failed))
	return nil
}

// stage submits subjects with the request req builds and waits for their
// jobs; it submits the subjects of failed jobs again, up to 4 times, and
// returns those still failed with their errors.
func (t *tenant) stage(ctx context.Context, name string, subjects []int64, req func([]int64) (string, any)) (map[int64]string, error) {
	failed := map[int64]string{}
	for round := 0; round < 5 && len(subjects) > 0; round++ {
		if round > 0 {
			t.mu.Lock()
			t.resubmit += len(subjects)
			t.mu.Unlock()
			t.c.logf("tenant %s: %s: submitting %d items again after failed jobs", t.id, name, len(subjects))
		}
		path, body := req(subjects)
		var acc accepted
		if err := t.do(ctx, http.MethodPost, path, body, &acc); err != nil {
			return failed, fmt.Errorf("tenant %s: %s: %w", t.id, name, err)
		}
		ids := make([]string, len(acc.Jobs))
		for i, j := range acc.Jobs {
			ids[i] = j.ID
		}
		if len(ids) == 0 {
			break
		}
		list := "'{" + strings.Join(ids, ",") + "}'"
		err := waitFor(ctx, 15*time.Minute, name+" jobs", func() bool {
			n, err := t.c.pg.one(ctx, "SELECT count(*) FROM jobs WHERE id = ANY("+list+") AND state NOT IN ('succeeded','failed','canceled')")
			return err == nil && n == "0"
		})
		if err != nil {
			return failed, fmt.Errorf("tenant %s: %s: %w", t.id, name, err)
		}
		rows, err := t.c.pg.psql(ctx, "SELECT subject_id, coalesce(last_error,'') FROM jobs WHERE id = ANY("+list+") AND state <> 'succeeded'")
		if err != nil {
			return failed, err
		}
		subjects = subjects[:0:0]
		failed = map[int64]string{}
		for _, r := range rows {
			var id int64
			fmt.Sscan(r[0], &id)
			subjects = append(subjects, id)
			failed[id] = r[1]
			t.c.logf("tenant %s: %s job of subject %d failed: %s", t.id, name, id, trimLog(r[1], 200))
		}
		if name == "clustering" && len(subjects) > 0 {
			subjects = []int64{0}
		}
	}
	return failed, nil
}

// ids reads every page of a listing and returns the items' ids.
func (t *tenant) ids(ctx context.Context, path string) ([]int64, error) {
	return client.IDs(ctx, func(ctx context.Context, path string, out any) error {
		return t.do(ctx, http.MethodGet, path, nil, out)
	}, path)
}
