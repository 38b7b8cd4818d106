package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

var manualRuns atomic.Int64

// automation is one tenant's site with keywords, for automation tests.
type automation struct {
	t      *testing.T
	h      *apptest.Harness
	api    pipelineAPI
	tenant store.Tenant
	site   store.Site
}

func startAutomation(t *testing.T, h *apptest.Harness, slug string, credits int64) *automation {
	t.Helper()
	tk, c := h.Tenant(t, slug, credits)
	a := &automation{t: t, h: h, api: pipelineAPI{t: t, c: c}, tenant: tk.Tenant}
	a.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Automated " + slug,
		"url": "https://" + slug + ".example.com", "username": "editor", "application_password": "abcd efgh"}, &a.site)
	a.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", a.site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	return a
}

// rule stores an enabled rule (due in an hour) for the site.
func (a *automation) rule(stages []string, maxItems int, change ...func(*store.Rule)) store.Rule {
	a.t.Helper()
	next := time.Now().Add(time.Hour)
	r := store.Rule{SiteID: a.site.ID, Name: fmt.Sprintf("rule %d", manualRuns.Add(1)), Schedule: "@every 1h",
		Timezone: "UTC", Stages: stages, IdeasPerCluster: 2, MaxItems: maxItems, Enabled: true, NextFireAt: &next}
	for _, c := range change {
		c(&r)
	}
	r, err := a.h.App.Store.CreateRule(a.t.Context(), a.tenant.ID, r)
	apptest.Must(a.t, err, "create rule")
	return r
}

// run starts a run of the rule through the API (POST .../run, the
// scheduler's code path) and waits until it has planned.
func (a *automation) run(r store.Rule) store.Run {
	a.t.Helper()
	var started store.Run
	a.api.do(http.MethodPost, fmt.Sprintf("/v1/automation/rules/%d/run", r.ID), nil, &started)
	return a.waitRun(started.ID)
}

// fire makes the rule due now and fires it as the scheduler does, then
// waits until the run has planned.
func (a *automation) fire(r store.Rule) store.Run {
	a.t.Helper()
	return a.fireAt(r, time.Now().Truncate(time.Second))
}

// fireAt makes the rule due at slot (in the past) and fires it as the
// scheduler does, then waits until the run has planned. The run's id
// answers with the record it was folded into, if it was.
func (a *automation) fireAt(r store.Rule, slot time.Time) store.Run {
	a.t.Helper()
	a.fireDue(r, slot)
	return a.waitRun(store.RunID(r.ID, slot))
}

// fireDue sets the rule's next_fire_at to slot (in the past) and fires the
// due rules once, as the scheduler does.
func (a *automation) fireDue(r store.Rule, slot time.Time) {
	a.t.Helper()
	_, err := a.h.App.Store.UpdateRule(a.t.Context(), a.tenant.ID, r.ID, func(r *store.Rule) error {
		r.NextFireAt = &slot
		return nil
	})
	apptest.Must(a.t, err, "make the rule due")
	s, closeScheduler := schedulerapp.NewScheduler(a.h.App)
	defer closeScheduler()
	_, err = s.FireDue(a.t.Context())
	apptest.Must(a.t, err, "fire due rules")
}

func (a *automation) waitRun(id string) store.Run {
	a.t.Helper()
	var run store.Run
	apptest.Eventually(a.t, 60*time.Second, "run "+id+" plans", func() (bool, error) {
		var err error
		run, err = a.h.App.Store.GetRun(a.t.Context(), a.tenant.ID, id)
		if errors.Is(err, errs.ErrNotFound) {
			return false, nil // not fired yet
		}
		return err == nil && run.Status != store.RunQueued, err
	})
	return run
}

// finish waits for every job a run enqueued to succeed.
func (a *automation) finish(run store.Run) {
	a.t.Helper()
	for _, e := range run.Enqueued {
		a.api.waitBatch(e.BatchID, e.Jobs)
	}
}

func enqueued(run store.Run, stage string) int {
	for _, e := range run.Enqueued {
		if e.Stage == stage {
			return e.Jobs
		}
	}
	return 0
}

func skipReason(run store.Run, stage string) string {
	for _, s := range run.Skipped {
		if s.Stage == stage {
			return s.Reason
		}
	}
	return ""
}

// TestAutomationRunsThePipeline runs a whole-pipeline rule (without
// publishing) again and again: each run takes the next step for what the
// previous runs made, within the cap, and stops when nothing is left.
func TestAutomationRunsThePipeline(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "auto-pipeline", 1000)
	r := a.rule([]string{store.StageCluster, store.StageIdeas, store.StageDrafts, store.StageImages}, 4)

	first := a.run(r)
	if enqueued(first, store.StageCluster) != 1 || len(first.Enqueued) != 1 {
		t.Fatalf("first run enqueued %+v, want one clustering job only", first.Enqueued)
	}
	if !strings.Contains(skipReason(first, store.StageIdeas), "nothing to do") {
		t.Errorf("first run's ideas stage: %q, want nothing to do", skipReason(first, store.StageIdeas))
	}
	a.finish(first)

	second := a.run(r)
	if n := enqueued(second, store.StageIdeas); n == 0 || n > 4 {
		t.Fatalf("second run enqueued %+v, want 1-4 ideas jobs (cap 4)", second.Enqueued)
	}
	a.finish(second)
	var clusters []store.Cluster
	a.api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", a.site.ID), &clusters)
	if len(clusters) > 4 && !strings.Contains(skipReason(second, store.StageDrafts), "cap of 4 items") {
		t.Errorf("second run with %d clusters and a cap of 4: drafts stage %q, want the cap named", len(clusters),
			skipReason(second, store.StageDrafts))
	}

	// Run until a draft has its images, then until nothing is left.
	var runs []store.Run
	for range 40 {
		run := a.run(r)
		runs = append(runs, run)
		if run.Status == store.RunSkipped {
			break
		}
		if total := len(run.Enqueued); total == 0 {
			t.Fatalf("run %s is done without jobs: %+v", run.ID, run)
		}
		a.finish(run)
	}
	last := runs[len(runs)-1]
	if last.Status != store.RunSkipped || len(last.Skipped) != 4 {
		t.Fatalf("the pipeline did not run dry in %d runs: last %+v", len(runs), last)
	}
	var ideas []store.Idea
	a.api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", a.site.ID), &ideas)
	var drafts []store.Draft
	a.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", a.site.ID), &drafts)
	if len(ideas) != 2*len(clusters) || len(drafts) != len(ideas) {
		t.Errorf("%d clusters -> %d ideas -> %d drafts, want 2 ideas per cluster and a draft per idea",
			len(clusters), len(ideas), len(drafts))
	}
	for _, d := range drafts {
		var imgs []store.Image
		a.api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d/images", d.ID), nil, &imgs)
		if len(imgs) == 0 {
			t.Errorf("draft %d has no images", d.ID)
		}
	}
	t.Logf("%d runs after the first two: %d clusters -> %d ideas -> %d drafts with images", len(runs), len(clusters), len(ideas), len(drafts))
	checkChargedOnce(t, a.api)
}

// checkChargedOnce checks that every job's ledger entries net to what the
// job says it charged.
func checkChargedOnce(t *testing.T, api pipelineAPI) {
	t.Helper()
	ledger := api.ledgerByJob()
	for _, j := range api.jobs() {
		if -ledger[j.ID] != j.CreditsCharged {
			t.Errorf("job %s (%s, %s) charged %d but the ledger nets %d", j.ID, j.Type, j.State, j.CreditsCharged, -ledger[j.ID])
		}
	}
}

// TestAutomationTopsUpAndSaysWhatItSkipped checks the cap counts the
// unfinished jobs of earlier runs, and that suspended tenants, disabled
// sites and tenants short of credits get runs that say why they did
// nothing.
func TestAutomationTopsUpAndSaysWhatItSkipped(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "auto-topup", 1000)
	a.finish(a.run(a.rule([]string{store.StageCluster}, 1)))

	// Hold the bulk queue so that the ideas jobs stay unfinished.
	inspector := asynq.NewInspector(h.App.Redis)
	defer inspector.Close()
	apptest.Must(t, inspector.PauseQueue(jobs.QueueBulk), "pause bulk")
	// With a cap of 1 the first run leaves a cluster without ideas, so the
	// second has work and only the first's unfinished job stops it.
	var clusters []store.Cluster
	a.api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", a.site.ID), &clusters)
	if len(clusters) < 2 {
		t.Fatalf("%d clusters; the test needs two, one left for the second run", len(clusters))
	}
	r := a.rule([]string{store.StageIdeas}, 1)
	first := a.run(r)
	if enqueued(first, store.StageIdeas) != 1 {
		t.Fatalf("first run: %+v, want 1 ideas job", first)
	}
	second := a.run(r)
	if reason := skipReason(second, store.StageIdeas); second.Status != store.RunSkipped ||
		!strings.Contains(reason, "the cap of 1 items is reached") || !strings.Contains(reason, "1 jobs of earlier runs are unfinished") {
		t.Fatalf("second run with the first's job unfinished: %+v, want skipped for the cap, naming it", second)
	}
	var held struct {
		Items []store.Job `json:"items"`
	}
	a.api.do(http.MethodGet, "/v1/jobs?batch_id="+first.Enqueued[0].BatchID, nil, &held)
	a.api.do(http.MethodPost, "/v1/jobs/"+held.Items[0].ID+"/cancel", nil, nil)
	third := a.run(r)
	if enqueued(third, store.StageIdeas) != 1 {
		t.Fatalf("third run after one job was canceled: %+v, want it to top up one job", third)
	}
	apptest.Must(t, inspector.UnpauseQueue(jobs.QueueBulk), "unpause bulk")
	a.finish(third)

	// Short of credits: drafts cost 3 each.
	poor := startAutomation(t, h, "auto-poor", 5)
	poor.finish(poor.run(poor.rule([]string{store.StageCluster}, 1)))
	poor.finish(poor.run(poor.rule([]string{store.StageIdeas}, 1)))
	var credits struct {
		Balance int64 `json:"balance"`
	}
	poor.api.do(http.MethodGet, "/v1/credits", nil, &credits)
	if credits.Balance >= h.App.Config.Costs.Draft {
		t.Fatalf("the poor tenant has %d credits left, enough for a draft", credits.Balance)
	}
	run := poor.run(poor.rule([]string{store.StageDrafts}, 5))
	if run.Status != store.RunSkipped || !strings.Contains(skipReason(run, store.StageDrafts), "not enough credits") {
		t.Errorf("run without credits for a draft: %+v, want skipped for credits", run)
	}

	// A disabled site, then a suspended tenant.
	rule := a.rule([]string{store.StageIdeas}, 5)
	a.api.do(http.MethodPatch, fmt.Sprintf("/v1/sites/%d", a.site.ID), map[string]any{"enabled": false}, nil)
	if run := a.run(rule); run.Status != store.RunSkipped || !strings.Contains(run.Skipped[0].Reason, "is disabled") {
		t.Errorf("run on a disabled site: %+v", run)
	}
	a.api.do(http.MethodPatch, fmt.Sprintf("/v1/sites/%d", a.site.ID), map[string]any{"enabled": true}, nil)
	_, err := h.App.Store.SetTenantStatus(t.Context(), a.tenant.ID, "suspended")
	apptest.Must(t, err, "suspend")
	// A suspended tenant cannot start a run through the API (403); its
	// rules still fire on schedule, and those runs say why they did nothing.
	if run := a.fire(rule); run.Status != store.RunSkipped || run.Skipped[0].Reason != "the tenant is suspended" {
		t.Errorf("run of a suspended tenant: %+v", run)
	}
}
