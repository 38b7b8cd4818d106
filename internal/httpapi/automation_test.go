package httpapi_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// createRule makes an enabled rule of one stage and returns its id.
func createRule(t testing.TB, h *apptest.Harness, key string, siteID int64, name, spec, stage string) int64 {
	t.Helper()
	var r store.Rule
	callJSON(t, h, key, "POST", "/v1/automation/rules", map[string]any{"site_id": siteID, "name": name,
		"schedule": spec, "stages": []string{stage}}).must(t, 201, &r)
	return r.ID
}

// startRun runs a rule by hand and returns the run's id.
func startRun(t testing.TB, h *apptest.Harness, key string, ruleID int64) string {
	t.Helper()
	var run store.Run
	callJSON(t, h, key, "POST", fmt.Sprintf("/v1/automation/rules/%d/run", ruleID), nil).must(t, 202, &run)
	return run.ID
}

// within checks that got is in [from, to].
func within(t testing.TB, what string, got *time.Time, from, to time.Time) {
	t.Helper()
	if got == nil || got.Before(from) || got.After(to) {
		t.Errorf("%s = %v, want between %v and %v", what, got, from, to)
	}
}

func TestAutomationRuleRoundTrip(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "rules")
	siteID := createSite(t, h, f.Key, "Rules blog", "pw")
	otherSite := createSite(t, h, f.Key, "Other rules blog", "pw")

	start := time.Now()
	var created store.Rule
	a := callJSON(t, h, f.Key, "POST", "/v1/automation/rules", map[string]any{"site_id": siteID, "name": "  Everything  ",
		"schedule": "@every 6h", "stages": []string{"pipeline"},
		"conditions": []map[string]any{{"field": "unclustered_keywords", "op": "gte", "value": 5}}}).must(t, 201, &created)
	if got, want := a.Header.Get("Location"), fmt.Sprintf("/v1/automation/rules/%d", created.ID); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	want := store.Rule{ID: created.ID, SiteID: siteID, Name: "Everything", Schedule: "@every 6h", Timezone: "UTC",
		Stages: store.Stages, IdeasPerCluster: 3, MaxItems: 50, Enabled: true,
		Conditions: []store.Condition{{Field: "unclustered_keywords", Op: "gte", Value: 5}}}
	ignoreComputed := func(r store.Rule) store.Rule {
		r.NextFireAt, r.CreatedAt, r.UpdatedAt = nil, time.Time{}, time.Time{}
		return r
	}
	if diff := cmp.Diff(want, ignoreComputed(created)); diff != "" {
		t.Errorf("created rule (-want +got):\n%s", diff)
	}
	within(t, "next_fire_at", created.NextFireAt, start.Add(6*time.Hour-time.Second), time.Now().Add(6*time.Hour+time.Second))

	// Stages are stored in pipeline order, whatever order they came in.
	var second store.Rule
	callJSON(t, h, f.Key, "POST", "/v1/automation/rules", map[string]any{"site_id": otherSite, "name": "Late stages",
		"schedule": "0 9 * * 1", "timezone": "Europe/Berlin", "stages": []string{"publish", "drafts"},
		"ideas_per_cluster": 5, "max_items": 7, "max_credits": 40, "auto_approve": true, "enabled": false}).must(t, 201, &second)
	if !slices.Equal(second.Stages, []string{"drafts", "publish"}) || second.NextFireAt != nil || second.Enabled ||
		second.MaxCredits == nil || *second.MaxCredits != 40 || !second.AutoApprove || second.Timezone != "Europe/Berlin" {
		t.Errorf("second rule %+v: want stages [drafts publish], disabled without next_fire_at, max_credits 40", second)
	}

	// The same name on the same site is a conflict; on another site it is not.
	callJSON(t, h, f.Key, "POST", "/v1/automation/rules", map[string]any{"site_id": siteID, "name": "Everything",
		"schedule": "@every 6h", "stages": []string{"ideas"}}).problem(t, 409)

	var got store.Rule
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/automation/rules/%d", created.ID), "", nil).must(t, 200, &got)
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("GET rule (-created +got):\n%s", diff)
	}
	var list struct {
		Items     []store.Rule `json:"items"`
		NextAfter *int64       `json:"next_after"`
	}
	call(t, h, f.Key, "GET", "/v1/automation/rules", "", nil).must(t, 200, &list)
	if len(list.Items) != 2 || list.NextAfter != nil {
		t.Errorf("list: %d rules (next_after %v), want 2 on one page", len(list.Items), list.NextAfter)
	}
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/automation/rules?site_id=%d", otherSite), "", nil).must(t, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != second.ID {
		t.Errorf("list of site %d: %+v, want rule %d only", otherSite, list.Items, second.ID)
	}
	call(t, h, f.Key, "GET", "/v1/automation/rules?limit=1", "", nil).must(t, 200, &list)
	if len(list.Items) != 1 || list.NextAfter == nil || *list.NextAfter != list.Items[0].ID {
		t.Errorf("first page of 1: %+v next_after %v", list.Items, list.NextAfter)
	}

	path := fmt.Sprintf("/v1/automation/rules/%d", created.ID)
	patch := func(body map[string]any) store.Rule {
		t.Helper()
		var r store.Rule
		callJSON(t, h, f.Key, "PATCH", path, body).must(t, 200, &r)
		return r
	}
	// Other fields leave next_fire_at as it was.
	r := patch(map[string]any{"name": "All stages", "max_items": 9, "max_credits": 100})
	if r.Name != "All stages" || r.MaxItems != 9 || r.MaxCredits == nil || *r.MaxCredits != 100 ||
		!r.NextFireAt.Equal(*created.NextFireAt) || r.Schedule != "@every 6h" || len(r.Conditions) != 1 {
		t.Errorf("after renaming: %+v, want next_fire_at %v kept and the rest unchanged", r, created.NextFireAt)
	}
	if r = patch(map[string]any{"max_credits": nil}); r.MaxCredits != nil || r.MaxItems != 9 {
		t.Errorf("max_credits null: %+v, want no cap", r)
	}
	// A new schedule computes next_fire_at afresh.
	before := time.Now()
	r = patch(map[string]any{"schedule": "@every 12h"})
	within(t, "next_fire_at after a new schedule", r.NextFireAt, before.Add(12*time.Hour-time.Second), time.Now().Add(12*time.Hour+time.Second))
	// Disabling clears it; enabling computes it again.
	if r = patch(map[string]any{"enabled": false}); r.Enabled || r.NextFireAt != nil {
		t.Errorf("disabled rule: enabled %v next_fire_at %v, want false and null", r.Enabled, r.NextFireAt)
	}
	if r = patch(map[string]any{"stages": []string{"images"}}); r.NextFireAt != nil || !slices.Equal(r.Stages, []string{"images"}) {
		t.Errorf("disabled rule with new stages: %+v", r)
	}
	before = time.Now()
	r = patch(map[string]any{"enabled": true, "timezone": "America/New_York"})
	within(t, "next_fire_at after enabling", r.NextFireAt, before.Add(12*time.Hour-time.Second), time.Now().Add(12*time.Hour+time.Second))
	if r.Timezone != "America/New_York" {
		t.Errorf("timezone %q, want America/New_York", r.Timezone)
	}
	// A name another rule of the site uses is a conflict; site_id cannot change.
	createRule(t, h, f.Key, siteID, "Taken", "@every 6h", "ideas")
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"name": "Taken"}).problem(t, 409)
	p := callJSON(t, h, f.Key, "PATCH", path, map[string]any{"site_id": otherSite}).problem(t, 400)
	if !slices.Equal(fields(p), []string{"site_id"}) {
		t.Errorf("site_id change names %v, want [site_id]", fields(p))
	}
	// Every bad field is named at once, and nothing is written.
	p = callJSON(t, h, f.Key, "PATCH", path, map[string]any{"schedule": "* * * * *", "timezone": "Nowhere/City",
		"stages": []string{"ideas", "ideas"}, "max_items": 0}).problem(t, 400)
	for _, field := range []string{"schedule", "timezone", "stages[1]", "max_items"} {
		if !slices.Contains(fields(p), field) {
			t.Errorf("problem names %v, want %s among them", fields(p), field)
		}
	}
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &got)
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("a refused PATCH changed the rule (-before +after):\n%s", diff)
	}

	callJSON(t, h, f.Key, "DELETE", path, nil).must(t, 204, nil)
	call(t, h, f.Key, "GET", path, "", nil).problem(t, 404)
	callJSON(t, h, f.Key, "DELETE", path, nil).problem(t, 404)
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"name": "Gone"}).problem(t, 404)
}

func TestAutomationDefaults(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "defaults")
	siteID := createSite(t, h, f.Key, "Defaults blog", "pw")
	// A rule with a default's name is kept as it is.
	kept := createRule(t, h, f.Key, siteID, "Write drafts", "@daily", "drafts")

	type list struct {
		Items []store.Rule `json:"items"`
	}
	var first, again list
	path := fmt.Sprintf("/v1/sites/%d/automation/defaults", siteID)
	call(t, h, f.Key, "POST", path, "", nil).must(t, 201, &first)
	type brief struct {
		Name, Schedule string
		Stages         []string
		MaxItems       int
	}
	var got []brief
	for _, r := range first.Items {
		got = append(got, brief{r.Name, r.Schedule, r.Stages, r.MaxItems})
		if r.SiteID != siteID || r.Timezone != "UTC" || r.IdeasPerCluster != 3 || r.AutoApprove || r.MaxCredits != nil ||
			!r.Enabled || r.NextFireAt == nil {
			t.Errorf("default rule %+v: want enabled, UTC, 3 ideas per cluster, no auto-approve, no credit cap", r)
		}
	}
	want := []brief{
		{"Cluster new keywords", "@every 6h", []string{"cluster"}, 1},
		{"Generate ideas", "@every 6h", []string{"ideas"}, 20},
		{"Write drafts", "@daily", []string{"drafts"}, 50}, // the site's own rule
		{"Generate images", "@every 3h", []string{"images"}, 10},
		{"Publish approved drafts", "@every 12h", []string{"publish"}, 10},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default rules (-want +got):\n%s", diff)
	}
	if first.Items[2].ID != kept {
		t.Errorf("Write drafts is rule %d, want the existing %d", first.Items[2].ID, kept)
	}

	// Again: nothing new.
	callJSON(t, h, f.Key, "POST", path, map[string]any{"enabled": false}).must(t, 201, &again)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("a second call changed the defaults (-first +again):\n%s", diff)
	}
	var all list
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/automation/rules?site_id=%d", siteID), "", nil).must(t, 200, &all)
	if len(all.Items) != 5 {
		t.Errorf("site has %d rules, want 5", len(all.Items))
	}

	// Disabled, in a time zone.
	other := createSite(t, h, f.Key, "Quiet blog", "pw")
	callJSON(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%d/automation/defaults", other),
		map[string]any{"enabled": false, "timezone": "Asia/Tokyo"}).must(t, 201, &first)
	if len(first.Items) != 5 {
		t.Fatalf("%d default rules, want 5", len(first.Items))
	}
	for _, r := range first.Items {
		if r.Enabled || r.NextFireAt != nil || r.Timezone != "Asia/Tokyo" {
			t.Errorf("rule %q: enabled %v next_fire_at %v timezone %s, want disabled in Asia/Tokyo", r.Name, r.Enabled, r.NextFireAt, r.Timezone)
		}
	}
	call(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%s/automation/defaults", missingID), "", nil).problem(t, 404)
}

func TestAutomationManualRun(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "manual")
	siteID := createSite(t, h, f.Key, "Manual blog", "pw")
	ruleID := createRule(t, h, f.Key, siteID, "By hand", "@every 6h", "ideas")
	rulePath := fmt.Sprintf("/v1/automation/rules/%d", ruleID)

	start := time.Now()
	var run store.Run
	a := callJSON(t, h, f.Key, "POST", rulePath+"/run", nil).must(t, 202, &run)
	if got := a.Header.Get("Location"); got != "/v1/automation/runs/"+run.ID {
		t.Errorf("Location %q, want /v1/automation/runs/%s", got, run.ID)
	}
	if run.RuleID != ruleID || run.Trigger != "manual" || run.Status != store.RunQueued || run.FinishedAt != nil ||
		run.ScheduledFor.Before(start.Add(-time.Second)) || len(run.ID) > 100 {
		t.Errorf("run %+v: want a queued manual run of rule %d", run, ruleID)
	}
	var got store.Run
	call(t, h, f.Key, "GET", "/v1/automation/runs/"+run.ID, "", nil).must(t, 200, &got)
	if diff := cmp.Diff(run, got); diff != "" {
		t.Errorf("GET run (-posted +got):\n%s", diff)
	}
	// The run's job is queued; no worker runs here, so it stays queued and
	// a second run is refused.
	var job store.Job
	call(t, h, f.Key, "GET", "/v1/jobs/"+run.ID, "", nil).must(t, 200, &job)
	if job.Type != tasks.TypeAutomation || job.State != "queued" {
		t.Errorf("run job %+v, want a queued %s job", job, tasks.TypeAutomation)
	}
	p := callJSON(t, h, f.Key, "POST", rulePath+"/run", nil).problem(t, 409)
	if p.Detail == "" {
		t.Error("409 without a detail")
	}
	var jobs struct {
		Items []store.Job `json:"items"`
	}
	call(t, h, f.Key, "GET", "/v1/jobs?type="+url.QueryEscape(tasks.TypeAutomation), "", nil).must(t, 200, &jobs)
	if len(jobs.Items) != 1 {
		t.Errorf("%d run jobs, want 1", len(jobs.Items))
	}

	// Once the first run's job is over, another run may start.
	_, err := h.App.Store.CancelJob(t.Context(), f.TenantID, run.ID)
	apptest.Must(t, err, "cancel run job")
	key := []string{"Idempotency-Key", "manual-run-2"}
	var second, replay store.Run
	callJSON(t, h, f.Key, "POST", rulePath+"/run", nil, key...).must(t, 202, &second)
	callJSON(t, h, f.Key, "POST", rulePath+"/run", nil, key...).must(t, 202, &replay)
	if second.ID == run.ID || replay.ID != second.ID {
		t.Errorf("runs %s, %s, replay %s: want a new run, replayed under its key", run.ID, second.ID, replay.ID)
	}

	type runPage struct {
		Items      []store.Run `json:"items"`
		NextBefore *time.Time  `json:"next_before"`
	}
	var page runPage
	call(t, h, f.Key, "GET", rulePath+"/runs", "", nil).must(t, 200, &page)
	if len(page.Items) != 2 || page.Items[0].ID != second.ID || page.Items[1].ID != run.ID || page.NextBefore != nil {
		t.Fatalf("runs page %+v, want [%s %s] newest first without next_before", page, second.ID, run.ID)
	}
	call(t, h, f.Key, "GET", rulePath+"/runs?limit=1", "", nil).must(t, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != second.ID || page.NextBefore == nil {
		t.Fatalf("first page of 1 %+v, want %s and a next_before", page, second.ID)
	}
	call(t, h, f.Key, "GET", rulePath+"/runs?limit=1&before="+url.QueryEscape(page.NextBefore.Format(time.RFC3339Nano)), "", nil).
		must(t, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != run.ID {
		t.Fatalf("second page %+v, want %s", page, run.ID)
	}

	// Deleting the rule deletes its runs.
	callJSON(t, h, f.Key, "DELETE", rulePath, nil).must(t, 204, nil)
	call(t, h, f.Key, "GET", "/v1/automation/runs/"+run.ID, "", nil).problem(t, 404)
	call(t, h, f.Key, "GET", rulePath+"/runs", "", nil).problem(t, 404)
	callJSON(t, h, f.Key, "POST", rulePath+"/run", nil).problem(t, 404)
}

func TestSiteEnabled(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "enabled")
	siteID := createSite(t, h, f.Key, "Enabled blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d", siteID)

	var site store.Site
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
	if !site.Enabled {
		t.Error("a new site is disabled, want enabled")
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"enabled": false}).must(t, 200, &site)
	if site.Enabled {
		t.Error("PATCH enabled=false answered an enabled site")
	}
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
	if site.Enabled || site.Name != "Enabled blog" {
		t.Errorf("after PATCH enabled=false: %+v", site)
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"name": "Still off"}).must(t, 200, &site)
	if site.Enabled {
		t.Error("a PATCH without enabled turned the site on")
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"enabled": true}).must(t, 200, &site)
	if !site.Enabled {
		t.Error("PATCH enabled=true answered a disabled site")
	}

	callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]any{"name": "Off blog", "url": "https://off.example",
		"username": "wp", "application_password": "pw", "enabled": false}).must(t, 201, &site)
	if site.Enabled {
		t.Error("a site created with enabled=false is enabled")
	}
}
