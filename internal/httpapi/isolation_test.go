package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestTenantIsolation walks every route that names a tenant's row: another
// tenant's key gets 404 for it (not 403, which would confirm the row
// exists) and changes nothing; lists and filters show only one's own rows.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixture(t, h, "alpha", 100)
	imageID := addImage(t, h, a)
	b := newFixtureLite(t, h, "beta")
	bSite := createSite(t, h, b.Key, "beta blog", "beta password")
	importCSV(t, h, b.Key, bSite, "phrase\nbeta keyword one\nbeta keyword two\n")
	bJob := startWork(t, h, b.Key, "POST", fmt.Sprintf("/v1/sites/%d/clustering", bSite), nil)
	// A's rules: one with a queued run, one free to run again.
	ruleID := createRule(t, h, a.Key, a.SiteID, "alpha rule", "@every 6h", "ideas")
	runRuleID := createRule(t, h, a.Key, a.SiteID, "alpha second rule", "@every 6h", "drafts")
	runID := startRun(t, h, a.Key, ruleID)
	// Both have a panel, so a deploy request gets as far as the site; A's
	// site has a deployment (pending, its job queued).
	setPanel(t, h, a.Key)
	setPanel(t, h, b.Key)
	deployment := deploySample(t, h, a.Key, a.SiteID)
	hookID, deliveryID := webhookWithDelivery(t, h, a)

	// The id of A's row each tenant-owned route names. A route added
	// without an entry here fails the test.
	ids := map[string]string{
		"/v1/api-keys/:id":                  fmt.Sprint(a.APIKeyID),
		"/v1/sites/:id":                     fmt.Sprint(a.SiteID),
		"/v1/sites/:id/keywords":            fmt.Sprint(a.SiteID),
		"/v1/sites/:id/clustering":          fmt.Sprint(a.SiteID),
		"/v1/sites/:id/recluster":           fmt.Sprint(a.SiteID),
		"/v1/sites/:id/check":               fmt.Sprint(a.SiteID),
		"/v1/sites/:id/profile":             fmt.Sprint(a.SiteID),
		"/v1/sites/:id/links":               fmt.Sprint(a.SiteID),
		"/v1/sites/:id/links/refresh":       fmt.Sprint(a.SiteID),
		"/v1/sites/:id/clusters":            fmt.Sprint(a.SiteID),
		"/v1/sites/:id/idea-conflicts":      fmt.Sprint(a.SiteID),
		"/v1/clusters/:id":                  fmt.Sprint(a.ClusterIDs[0]),
		"/v1/clusters/:id/keywords":         fmt.Sprint(a.ClusterIDs[0]),
		"/v1/clusters/:id/keywords/remove":  fmt.Sprint(a.ClusterIDs[0]),
		"/v1/clusters/:id/split":            fmt.Sprint(a.ClusterIDs[0]),
		"/v1/ideas/:id":                     fmt.Sprint(a.IdeaIDs[0]),
		"/v1/drafts/:id":                    fmt.Sprint(a.DraftID),
		"/v1/drafts/:id/image":              fmt.Sprint(a.DraftID),
		"/v1/drafts/:id/image/content":      fmt.Sprint(a.DraftID),
		"/v1/drafts/:id/images":             fmt.Sprint(a.DraftID),
		"/v1/images/:id/content":            fmt.Sprint(imageID),
		"/v1/jobs/:id":                      a.JobID,
		"/v1/jobs/:id/cancel":               a.JobID,
		"/v1/batches/:id":                   a.BatchID,
		"/v1/automation/rules/:id":          fmt.Sprint(ruleID),
		"/v1/automation/rules/:id/runs":     fmt.Sprint(ruleID),
		"/v1/automation/rules/:id/run":      fmt.Sprint(runRuleID),
		"/v1/automation/runs/:id":           runID,
		"/v1/sites/:id/automation/defaults": fmt.Sprint(a.SiteID),
		// The deployment routes name the deployment by its site.
		"/v1/sites/:id/deployment":                        fmt.Sprint(a.SiteID),
		"/v1/sites/:id/deployment/redeploy":               fmt.Sprint(a.SiteID),
		"/v1/sites/:id/deployment/stop":                   fmt.Sprint(a.SiteID),
		"/v1/sites/:id/deployment/start":                  fmt.Sprint(a.SiteID),
		"/v1/sites/:id/deployment/destroy":                fmt.Sprint(a.SiteID),
		"/v1/webhooks/:id":                                fmt.Sprint(hookID),
		"/v1/webhooks/:id/deliveries":                     fmt.Sprint(hookID),
		"/v1/webhooks/:id/deliveries/:delivery/redeliver": fmt.Sprintf("%d|%d", hookID, deliveryID),
	}
	var owned []string
	for _, rt := range h.API.Routes() {
		if !rt.TenantOwned {
			continue
		}
		if _, ok := ids[rt.Path]; !ok {
			t.Fatalf("tenant-owned route %s %s has no fixture id: add one to this test", rt.Method, rt.Path)
		}
		if !strings.Contains(rt.Path, ":id") {
			t.Fatalf("tenant-owned route %s %s names no :id", rt.Method, rt.Path)
		}
		owned = append(owned, rt.Method+" "+rt.Path)
	}
	if len(owned) < len(ids) {
		t.Fatalf("only %d tenant-owned routes for %d fixtures: a route lost its TenantOwned flag? %v", len(owned), len(ids), owned)
	}

	// What A sees of itself, through every GET it has.
	var aGets []string
	for _, rt := range h.API.Routes() {
		if rt.TenantOwned && rt.Method == http.MethodGet {
			aGets = append(aGets, withID(rt.Path, ids[rt.Path]))
		}
	}
	aBefore := state(t, h, a.Key, aGets...)
	bBefore := state(t, h, b.Key)
	enc, err := h.App.Store.SitePassword(t.Context(), a.tenantID(), a.SiteID)
	apptest.Must(t, err, "site password")

	for _, rt := range h.API.Routes() {
		if !rt.TenantOwned {
			continue
		}
		ct, body := sampleRequest(t, rt.Method, rt.Path)
		path := withID(rt.Path, ids[rt.Path])
		ans := call(t, h, b.Key, rt.Method, path, ct, body)
		if ans.Status != http.StatusNotFound {
			t.Errorf("%s %s as another tenant: status %d, want 404; body: %s", rt.Method, path, ans.Status, clipBody(ans.Body))
			continue
		}
		ans.problem(t, http.StatusNotFound)
		for _, secret := range []string{"alpha blog", "Trail shoes", "secret body of alpha", "best trail shoes"} {
			if bytes.Contains(ans.Body, []byte(secret)) {
				t.Errorf("%s %s as another tenant shows %q: %s", rt.Method, path, secret, ans.Body)
			}
		}
	}

	// Ids of A's rows inside bodies and filters are not found either.
	callJSON(t, h, b.Key, "POST", "/v1/ideas/generate", map[string]any{"cluster_ids": a.ClusterIDs}).problem(t, 404)
	callJSON(t, h, b.Key, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": a.IdeaIDs[1:]}).problem(t, 404)
	callJSON(t, h, b.Key, "POST", "/v1/images/generate", map[string]any{"draft_ids": []int64{a.DraftID}}).problem(t, 404)
	callJSON(t, h, b.Key, "POST", "/v1/drafts/publish", map[string]any{"draft_ids": []int64{a.DraftID}}).problem(t, 404)
	callJSON(t, h, b.Key, "POST", "/v1/drafts/approve", map[string]any{"draft_ids": []int64{a.DraftID}}).problem(t, 404)
	callJSON(t, h, b.Key, "POST", "/v1/automation/rules", map[string]any{"site_id": a.SiteID, "name": "stolen",
		"schedule": "@every 6h", "stages": []string{"pipeline"}}).problem(t, 404)
	for _, p := range []string{
		fmt.Sprintf("/v1/ideas?site_id=%d", a.SiteID),
		fmt.Sprintf("/v1/ideas?cluster_id=%d", a.ClusterIDs[0]),
		fmt.Sprintf("/v1/drafts?site_id=%d", a.SiteID),
		"/v1/jobs?batch_id=" + a.BatchID,
		"/v1/jobs?after=" + a.JobID,
		fmt.Sprintf("/v1/sites/%d/keywords?cluster_id=%d", bSite, a.ClusterIDs[0]),
		fmt.Sprintf("/v1/ideas?after=%d", a.IdeaIDs[0]-1),
		fmt.Sprintf("/v1/automation/rules?site_id=%d", a.SiteID),
		"/v1/automation/rules",
	} {
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		call(t, h, b.Key, "GET", p, "", nil).must(t, 200, &l)
		if len(l.Items) != 0 {
			t.Errorf("GET %s as another tenant lists %d rows: %s", p, len(l.Items), l.Items)
		}
	}

	// The cluster edits name A's keywords: its unclustered one moves into
	// the first cluster and out again, then a clustered one is split off.
	unclustered, clustered := a.KeywordIDs[5], a.KeywordIDs[0]
	ownBodies := map[string]string{
		"POST /v1/clusters/:id/keywords":        fmt.Sprintf(`{"keyword_ids":[%d]}`, unclustered),
		"POST /v1/clusters/:id/keywords/remove": fmt.Sprintf(`{"keyword_ids":[%d]}`, unclustered),
		"POST /v1/clusters/:id/split":           fmt.Sprintf(`{"keyword_ids":[%d],"name":"Split off"}`, clustered),
	}
	// Their bodies naming A's keywords are not found for B either.
	for route, body := range ownBodies {
		method, path, _ := strings.Cut(route, " ")
		call(t, h, b.Key, method, withID(path, ids[path]), "application/json", []byte(body)).problem(t, http.StatusNotFound)
	}
	callJSON(t, h, b.Key, "POST", "/v1/clusters/merge", map[string]any{"cluster_ids": a.ClusterIDs[1:],
		"into": a.ClusterIDs[0]}).problem(t, http.StatusNotFound)

	// Nothing of A changed; B's attempts wrote nothing for B either.
	sameState(t, "another tenant's requests", aBefore, state(t, h, a.Key, aGets...))
	sameState(t, "requests for another tenant's rows", bBefore, state(t, h, b.Key))
	enc2, err := h.App.Store.SitePassword(t.Context(), a.tenantID(), a.SiteID)
	apptest.Must(t, err, "site password")
	if !bytes.Equal(enc, enc2) {
		t.Error("A's site password changed")
	}

	// B's lists hold B's rows only.
	checkList := func(path string, want []string, idOf func(json.RawMessage) string) {
		t.Helper()
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		call(t, h, b.Key, "GET", path, "", nil).must(t, 200, &l)
		got := make([]string, len(l.Items))
		for i, it := range l.Items {
			got[i] = idOf(it)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("GET %s as B lists %v, want %v", path, got, want)
		}
	}
	numID := func(raw json.RawMessage) string {
		var v struct {
			ID any `json:"id"`
		}
		_ = json.Unmarshal(raw, &v)
		return fmt.Sprint(v.ID)
	}
	checkList("/v1/sites", []string{fmt.Sprint(bSite)}, numID)
	checkList("/v1/jobs", []string{bJob}, numID)
	checkList("/v1/ideas", []string{}, numID)
	checkList("/v1/drafts", []string{}, numID)
	checkList("/v1/api-keys", []string{fmt.Sprint(b.KeyID)}, numID)
	var ledger struct {
		Items []store.LedgerEntry `json:"items"`
	}
	call(t, h, b.Key, "GET", "/v1/credits/ledger", "", nil).must(t, 200, &ledger)
	// Newest first: the reservation of B's own job, then its opening grant.
	if len(ledger.Items) != 2 || ledger.Items[0].Kind != "reserve" || ledger.Items[0].JobID == nil ||
		*ledger.Items[0].JobID != bJob || ledger.Items[1].Kind != "grant" {
		t.Errorf("B's ledger %+v, want its opening grant and its job's reservation only", ledger.Items)
	}

	// The fixtures are right: A itself reaches every route (deletes last,
	// the site's last of all: it takes the site's rows with it).
	routes := slices.Clone(h.API.Routes())
	lateness := func(r httpapi.Route) int {
		return boolInt(r.Method == http.MethodDelete) + boolInt(r.Method == http.MethodDelete && r.Path == "/v1/sites/:id")
	}
	slices.SortStableFunc(routes, func(x, y httpapi.Route) int { return lateness(x) - lateness(y) })
	for _, rt := range routes {
		if !rt.TenantOwned {
			continue
		}
		if strings.HasPrefix(rt.Path, "/v1/sites/:id/deployment") && rt.Method != http.MethodGet {
			// One action on a deployment at a time (no worker runs them):
			// end the queued one; deploying again needs a failed deployment.
			settleDeployJobs(t, h, a.tenantID())
			if rt.Method == http.MethodPost && rt.Path == "/v1/sites/:id/deployment" {
				apptest.Must(t, h.App.Store.SetDeploymentState(t.Context(), a.tenantID(), deployment.ID, "none", "failed",
					"failed for the test"), "fail the deployment")
			}
		}
		if rt.Path == "/v1/sites/:id/recluster" {
			// One clustering of a site at a time: end the one queued above.
			queued, err := h.App.Store.ListJobs(t.Context(), a.tenantID(), store.JobFilter{State: "queued", Type: tasks.TypeCluster}, "", 100)
			apptest.Must(t, err, "list clustering jobs")
			for _, j := range queued {
				_, err := h.App.Store.CancelJob(t.Context(), a.tenantID(), j.ID)
				apptest.Must(t, err, "cancel clustering job")
			}
		}
		ct, body := sampleRequest(t, rt.Method, rt.Path)
		if own, ok := ownBodies[rt.Method+" "+rt.Path]; ok {
			body = []byte(own)
		}
		path := withID(rt.Path, ids[rt.Path])
		if ans := call(t, h, a.Key, rt.Method, path, ct, body); ans.Status >= 300 {
			t.Errorf("%s %s as its own tenant: status %d, want 2xx; body: %s", rt.Method, path, ans.Status, clipBody(ans.Body))
		}
	}

	// The choices of model per stage (#23) are each tenant's own: B's
	// clearing its own leaves A's, and B sees none of A's.
	callJSON(t, h, a.Key, "PUT", "/v1/stage-models", map[string]any{"draft": offlineWriterID}).must(t, 200, nil)
	callJSON(t, h, b.Key, "PUT", "/v1/stage-models", map[string]any{}).must(t, 200, nil)
	if choices, err := h.App.Store.TenantChoices(t.Context(), a.tenantID()); err != nil || len(choices) != 1 {
		t.Errorf("A's stage models after B's PUT: %+v (%v), want A's choice of draft", choices, err)
	}
	var stages struct {
		Items []struct {
			Stage        string `json:"stage"`
			ModelID      *int64 `json:"model_id"`
			TenantChoice bool   `json:"tenant_choice"`
		} `json:"items"`
	}
	call(t, h, b.Key, "GET", "/v1/stage-models", "", nil).must(t, 200, &stages)
	for _, st := range stages.Items {
		if st.ModelID != nil || st.TenantChoice {
			t.Errorf("B's GET /v1/stage-models shows a choice for %s: %+v", st.Stage, st)
		}
	}

	// So is the bulk default of batch mode (#23).
	callJSON(t, h, a.Key, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 7}).must(t, 200, nil)
	callJSON(t, h, b.Key, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": nil}).must(t, 200, nil)
	if n, err := h.App.Store.BatchMinItems(t.Context(), a.tenantID()); err != nil || n == nil || *n != 7 {
		t.Errorf("A's batch_min_items after B's PUT: %v (%v), want 7", n, err)
	}
	var batch struct {
		BatchMinItems *int `json:"batch_min_items"`
	}
	call(t, h, b.Key, "GET", "/v1/batch-settings", "", nil).must(t, 200, &batch)
	if batch.BatchMinItems != nil {
		t.Errorf("B's GET /v1/batch-settings shows %d, want null", *batch.BatchMinItems)
	}
}

// webhookWithDelivery gives the fixture's tenant a webhook and one
// delivery to it: a free job of the tenant's that failed.
func webhookWithDelivery(t testing.TB, h *apptest.Harness, f fixture) (hookID, deliveryID int64) {
	t.Helper()
	var hook struct{ ID int64 }
	callJSON(t, h, f.Key, "POST", "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/alpha",
		"events": []string{"job.failed"}}).must(t, http.StatusCreated, &hook)
	job := apptest.FreeJob(t, h.App.Store, f.tenantID(), "site:check", f.SiteID, f.SiteID)
	apptest.Must(t, h.App.Store.FailJob(t.Context(), f.tenantID(), job, store.Failure{Message: "failed for the test"}), "fail a job")
	var deliveries struct{ Items []struct{ ID int64 } }
	callJSON(t, h, f.Key, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", hook.ID), nil).must(t, http.StatusOK, &deliveries)
	if len(deliveries.Items) != 1 {
		t.Fatalf("deliveries of the failed job: %+v, want one", deliveries.Items)
	}
	return hook.ID, deliveries.Items[0].ID
}

// addImage gives the fixture's draft a ready featured image, made by a
// free job through the store as a worker would.
func addImage(t testing.TB, h *apptest.Harness, f fixture) (imageID int64) {
	t.Helper()
	ctx, st := t.Context(), h.App.Store
	jobID := "image-" + f.Tenant.Tenant.Slug
	_, err := st.CreateJobs(ctx, f.tenantID(), "", []store.NewJob{{ID: jobID, Type: tasks.TypeImage,
		Queue: jobs.QueueDefault, SiteID: f.SiteID, SubjectID: f.DraftID}})
	apptest.Must(t, err, "create image job")
	o := startJob(t, h, f.tenantID(), jobID)
	imgs, err := st.PrepareImages(ctx, f.tenantID(), f.DraftID, jobID, []store.ImageSlot{{Role: store.ImageRoleFeatured,
		Prompt: "A photograph of trail shoes on a forest path", AltText: "Trail shoes on a forest path"}})
	apptest.Must(t, err, "prepare image")
	data := []byte("\x89PNG not really")
	sum := sha256.Sum256(data)
	apptest.Must(t, st.StoreImage(ctx, f.tenantID(), jobID, imgs[0].ID, store.ImageFile{Data: data, ContentType: "image/png",
		SHA256: sum[:], Model: "test"}), "store image")
	_, err = st.FinishImageJob(ctx, o, o.Charged) // one image: the charge the outcome names
	apptest.Must(t, err, "finish image job")
	return imgs[0].ID
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
