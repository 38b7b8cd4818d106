package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/store"
)

// missingID names no row of any tenant.
const missingID = "999999999"

// answer is one raw HTTP answer.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// call sends one request with key (none when "") and returns the raw answer.
// header holds name, value pairs.
func call(t testing.TB, h *apptest.Harness, key, method, path, contentType string, body []byte, header ...string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	return callReader(t, h, key, method, path, contentType, r, header...)
}

// callReader is call with a body reader: one that does not tell its length
// is sent chunked, without Content-Length.
func callReader(t testing.TB, h *apptest.Harness, key, method, path, contentType string, r io.Reader, header ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, h.URL+path, r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// callJSON sends v as JSON (no body when v is nil).
func callJSON(t testing.TB, h *apptest.Harness, key, method, path string, v any, header ...string) answer {
	t.Helper()
	if v == nil {
		return call(t, h, key, method, path, "", nil, header...)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return call(t, h, key, method, path, "application/json", data, header...)
}

// must checks the status and decodes the body into out (when not nil).
func (a answer) must(t testing.TB, status int, out any) answer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d; body: %s", a.Status, status, clipBody(a.Body))
	}
	if out != nil {
		if err := json.Unmarshal(a.Body, out); err != nil {
			t.Fatalf("decode %s: %v", clipBody(a.Body), err)
		}
	}
	return a
}

// problem checks that the answer is a problem document of status and
// returns it.
func (a answer) problem(t testing.TB, status int) httpapi.Problem {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d; body: %s", a.Status, status, clipBody(a.Body))
	}
	if ct := a.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body: %s", ct, clipBody(a.Body))
	}
	var p httpapi.Problem
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem %s: %v", clipBody(a.Body), err)
	}
	if p.Status != status || p.Title == "" || p.Type == "" || p.RequestID == "" {
		t.Fatalf("problem lacks status, title, type or request id: %s", clipBody(a.Body))
	}
	return p
}

// fields returns the fields a problem names.
func fields(p httpapi.Problem) []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

func clipBody(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "..."
	}
	return string(b)
}

// sampleRequest is a request for a route valid enough to pass validation,
// so that what answers is authentication, authorization or the id.
func sampleRequest(t testing.TB, method, path string) (contentType string, body []byte) {
	t.Helper()
	j := func(s string) (string, []byte) { return "application/json", []byte(s) }
	switch method + " " + path {
	case "GET /healthz", "GET /readyz":
		return "", nil
	case "POST /v1/api-keys":
		return j(`{"name":"sample key","role":"viewer"}`)
	case "POST /v1/sites":
		return j(`{"name":"Sample","url":"https://sample.example","username":"wp","application_password":"abcd efgh"}`)
	case "PATCH /v1/sites/:id":
		return j(`{"name":"Renamed"}`)
	case "PUT /v1/sites/:id/profile", "PUT /v1/profile":
		return j(`{"language":"de","voice":"Calm and exact.","word_targets":{"guide":1500},"faq":true}`)
	case "POST /v1/sites/:id/keywords":
		return "text/csv", []byte("phrase\nsample keyword request\n")
	case "POST /v1/sites/:id/clustering", "POST /v1/sites/:id/recluster", "POST /v1/jobs/:id/cancel":
		return "", nil
	case "POST /v1/ideas/generate":
		return j(`{"cluster_ids":[` + missingID + `],"count":1}`)
	case "POST /v1/drafts/generate":
		return j(`{"idea_ids":[` + missingID + `]}`)
	case "POST /v1/images/generate", "POST /v1/drafts/approve":
		return j(`{"draft_ids":[` + missingID + `]}`)
	case "POST /v1/drafts/publish":
		return j(`{"draft_ids":[` + missingID + `],"status":"draft"}`)
	case "PATCH /v1/drafts/:id":
		return j(`{"title":"Edited title"}`)
	case "PATCH /v1/clusters/:id":
		return j(`{"name":"Renamed cluster"}`)
	case "POST /v1/clusters/merge":
		return j(`{"cluster_ids":[` + missingID + `],"into":1` + missingID + `}`)
	case "POST /v1/clusters/:id/keywords", "POST /v1/clusters/:id/keywords/remove":
		return j(`{"keyword_ids":[` + missingID + `]}`)
	case "POST /v1/clusters/:id/split":
		return j(`{"keyword_ids":[` + missingID + `],"name":"Split off"}`)
	case "POST /v1/sites/:id/check", "POST /v1/sites/:id/links/refresh":
		return "", nil
	case "POST /v1/admin/tenants":
		return j(fmt.Sprintf(`{"name":"Sample","slug":"sample-%s","plan":"free","credits":0}`, strings.ToLower(nextSuffix())))
	case "PATCH /v1/admin/tenants/:id":
		return j(`{"status":"active"}`)
	case "POST /v1/admin/tenants/:id/credits":
		return j(`{"amount":1,"note":"sample"}`)
	case "POST /v1/admin/models":
		return j(fmt.Sprintf(`{"provider":"openai","model":"sample-%s","kind":"chat","display_name":"Sample"}`, strings.ToLower(nextSuffix())))
	case "PATCH /v1/admin/models/:id":
		return j(`{"display_name":"Renamed model"}`)
	case "POST /v1/admin/models/:id/test":
		return "", nil
	case "PUT /v1/admin/routes/:stage":
		return j(fmt.Sprintf(`{"model_id":%d}`, offlineWriterID))
	case "PUT /v1/stage-models":
		return j(fmt.Sprintf(`{"draft":%d}`, offlineWriterID))
	case "POST /v1/billing/checkout":
		return j(`{"plan":"pro"}`)
	case "POST /v1/billing/portal":
		return "", nil
	case "PUT /v1/admin/plans/:name":
		return j(`{"stripe_price_id":"price_sample","monthly_credits":10}`)
	case "POST /v1/admin/credit-packs":
		return j(fmt.Sprintf(`{"name":"Sample pack","stripe_price_id":"price_sample_%s","credits":10}`, strings.ToLower(nextSuffix())))
	case "PATCH /v1/admin/credit-packs/:id":
		return j(`{"credits":20}`)
	case "PUT /v1/credits/alert":
		return j(`{"low_balance":10}`)
	case "PUT /v1/batch-settings":
		return j(`{"batch_min_items":100}`)
	case "PUT /v1/prompts/:stage":
		return j(`{"system":"You write for {{with .SiteName}}{{oneline .}}{{else}}a blog{{end}}.","user":"Write {{oneline .Title}}."}`)
	case "POST /v1/automation/rules":
		return j(`{"site_id":` + missingID + `,"name":"Sample rule","schedule":"@every 6h","stages":["pipeline"]}`)
	case "PATCH /v1/automation/rules/:id":
		return j(`{"name":"Renamed rule"}`)
	case "POST /v1/automation/rules/:id/run", "POST /v1/sites/:id/automation/defaults":
		return "", nil
	case "PUT /v1/ai-settings/openai":
		return j(`{"api_key":"sk-sample-key-0000000000000000","base_url":"https://llm.example.com/v1"}`)
	case "PUT /v1/easypanel":
		return j(`{"url":"` + samplePanelURL() + `","email":"ops@example.com","password":"sample panel password"}`)
	case "POST /v1/sites/:id/deployment":
		// Needs a panel (PUT /v1/easypanel) to be accepted.
		return j(`{"source":{"type":"image","image":"wordpress:6"},"domain":"sample.example.com"}`)
	case "PATCH /v1/sites/:id/deployment":
		return j(`{"domain":"renamed.example.com"}`)
	case "POST /v1/webhooks":
		return j(`{"url":"https://hooks.example.com/presswork","events":["job.failed","draft.ready"]}`)
	case "PATCH /v1/webhooks/:id":
		return j(`{"events":["batch.finished"]}`)
	case "POST /v1/webhooks/:id/deliveries/:delivery/redeliver":
		return "", nil
	case "POST /v1/sites/:id/deployment/redeploy", "POST /v1/sites/:id/deployment/stop",
		"POST /v1/sites/:id/deployment/start", "POST /v1/sites/:id/deployment/destroy":
		return "", nil
	}
	if method == http.MethodGet || method == http.MethodDelete {
		return "", nil
	}
	t.Fatalf("no sample request for %s %s: add one to sampleRequest", method, path)
	return "", nil
}

var suffixes atomic.Int64

// nextSuffix returns a new suffix for slugs within this test process.
func nextSuffix() string { return fmt.Sprintf("s%d", suffixes.Add(1)) }

// withID puts id in the place of :id, a stage in the place of :stage and
// a plan in the place of :name.
// An id "A|B" puts A in the place of :id and B in the place of :delivery;
// a plain id takes both places.
func withID(path, id string) string {
	first, second, ok := strings.Cut(id, "|")
	if !ok {
		second = id
	}
	return strings.NewReplacer(":id", first, ":stage", "draft", ":delivery", second, ":name", "pro").Replace(path)
}

// fixture is a tenant with one of everything: a site with keywords, two
// clusters, two ideas, a draft, a spare API key, and a queued batch of two
// ideas jobs.
type fixture struct {
	Tenant     auth.TenantWithKey
	Key        string
	SiteID     int64
	KeywordIDs []int64
	ClusterIDs []int64
	IdeaIDs    []int64
	DraftID    int64
	APIKeyID   int64
	BatchID    string
	JobID      string // queued, in the batch
}

func (f fixture) tenantID() int64 { return f.Tenant.Tenant.ID }

// newFixture builds a fixture; the finished jobs are completed through the
// store as a worker would, so no worker runs.
func newFixture(t testing.TB, h *apptest.Harness, slug string, credits int64) fixture {
	t.Helper()
	tk, _ := h.Tenant(t, slug, credits)
	f := fixture{Tenant: tk, Key: tk.OwnerKey}

	var key struct {
		ID int64 `json:"id"`
	}
	callJSON(t, h, f.Key, "POST", "/v1/api-keys", map[string]string{"name": "spare", "role": "editor"}).must(t, 201, &key)
	f.APIKeyID = key.ID

	f.SiteID = createSite(t, h, f.Key, slug+" blog", "correct horse "+slug)
	importCSV(t, h, f.Key, f.SiteID, "phrase,volume\nbest trail shoes,900\ntrail shoes for women,400\nwaterproof trail shoes,300\n"+
		"marathon training plan,800\nmarathon pace calculator,200\nhow to taper for a marathon,100\n")
	kws, err := h.App.Store.ListKeywords(context.Background(), f.tenantID(), f.SiteID, store.KeywordFilter{}, store.Page{Limit: 100})
	apptest.Must(t, err, "list keywords")
	for _, k := range kws {
		f.KeywordIDs = append(f.KeywordIDs, k.ID)
	}

	// Clustering: two clusters; the last keyword stays unclustered.
	jobID := startWork(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%d/clustering", f.SiteID), nil)
	o := startJob(t, h, f.tenantID(), jobID)
	apptest.Must(t, h.App.Store.SaveClusters(context.Background(), o, f.SiteID, []store.NewCluster{
		{Name: "Trail shoes", Description: "shoes for trails", KeywordIDs: f.KeywordIDs[:3]},
		{Name: "Marathon", Description: "marathon training", KeywordIDs: f.KeywordIDs[3:5]},
	}), "save clusters")
	clusters, err := h.App.Store.ListClusters(context.Background(), f.tenantID(), f.SiteID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	for _, c := range clusters {
		f.ClusterIDs = append(f.ClusterIDs, c.ID)
	}

	// Ideas for the first cluster.
	jobID = startWork(t, h, f.Key, "POST", "/v1/ideas/generate", map[string]any{"cluster_ids": f.ClusterIDs[:1], "count": 2})
	o = startJob(t, h, f.tenantID(), jobID)
	apptest.Must(t, h.App.Store.SaveIdeas(context.Background(), o, clusters[0], []store.NewIdea{
		{Title: "The best trail shoes", ContentType: "listicle", TargetKeywords: []string{"best trail shoes"},
			Outline: []store.Heading{{Level: 2, Text: "Grip"}}},
		{Title: "Trail shoes for women", ContentType: "guide", TargetKeywords: []string{"trail shoes for women"},
			Outline: []store.Heading{{Level: 2, Text: "Fit"}}},
	}), "save ideas")
	ideas, err := h.App.Store.ListIdeas(context.Background(), f.tenantID(), store.IdeaFilter{}, store.Page{Limit: 10})
	apptest.Must(t, err, "list ideas")
	for _, i := range ideas {
		f.IdeaIDs = append(f.IdeaIDs, i.ID)
	}

	// A draft for the first idea.
	jobID = startWork(t, h, f.Key, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": f.IdeaIDs[:1]})
	o = startJob(t, h, f.tenantID(), jobID)
	apptest.Must(t, h.App.Store.SaveDraft(context.Background(), o, ideas[0], store.Draft{Title: "The best trail shoes",
		Slug: "best-trail-shoes", Excerpt: "x", MetaTitle: "x", MetaDescription: "x", FocusKeyword: "best trail shoes",
		BodyHTML: "<p>secret body of " + slug + "</p>", WordCount: 4}), "save draft")
	drafts, err := h.App.Store.ListDrafts(context.Background(), f.tenantID(), 0, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	f.DraftID = drafts[0].ID

	// A queued batch of two ideas jobs.
	var batch jobsAnswer
	callJSON(t, h, f.Key, "POST", "/v1/ideas/generate", map[string]any{"cluster_ids": f.ClusterIDs, "count": 1}).must(t, 202, &batch)
	if batch.BatchID == "" || len(batch.Jobs) != 2 {
		t.Fatalf("batch answer %+v, want a batch of 2 jobs", batch)
	}
	f.BatchID, f.JobID = batch.BatchID, batch.Jobs[0].ID
	return f
}

// jobsAnswer is the 202 answer of the work routes.
type jobsAnswer struct {
	BatchID string `json:"batch_id"`
	Jobs    []struct {
		ID        string `json:"id"`
		SubjectID int64  `json:"subject_id"`
	} `json:"jobs"`
	Skipped []struct {
		SubjectID int64  `json:"subject_id"`
		Reason    string `json:"reason"`
	} `json:"skipped"`
	CreditsQuoted int64 `json:"credits_quoted"`
}

// startWork asks for one job and returns its id.
func startWork(t testing.TB, h *apptest.Harness, key, method, path string, body any) string {
	t.Helper()
	var a jobsAnswer
	callJSON(t, h, key, method, path, body).must(t, 202, &a)
	if len(a.Jobs) != 1 {
		t.Fatalf("%s %s: %d jobs, want 1", method, path, len(a.Jobs))
	}
	return a.Jobs[0].ID
}

// startJob moves a job to running as a worker would and returns the outcome
// that settles it at its quote.
func startJob(t testing.TB, h *apptest.Harness, tenantID int64, jobID string) store.Outcome {
	t.Helper()
	j, err := h.App.Store.StartJob(context.Background(), tenantID, jobID, "testing")
	apptest.Must(t, err, "start job")
	return store.Outcome{TenantID: tenantID, JobID: jobID, Charged: j.CreditsReserved, Model: "test"}
}

func createSite(t testing.TB, h *apptest.Harness, key, name, password string) int64 {
	t.Helper()
	var site struct {
		ID int64 `json:"id"`
	}
	callJSON(t, h, key, "POST", "/v1/sites", map[string]string{"name": name, "url": "https://" + strings.ReplaceAll(strings.ToLower(name), " ", "-") + ".example",
		"username": "editor", "application_password": password}).must(t, 201, &site)
	return site.ID
}

// importReport is the answer of a keyword import.
type importReport struct {
	Total              int `json:"total"`
	Imported           int `json:"imported"`
	DuplicatesInFile   int `json:"duplicates_in_file"`
	DuplicatesExisting int `json:"duplicates_existing"`
	InvalidCount       int `json:"invalid_count"`
	Invalid            []struct {
		Row     int    `json:"row"`
		Field   string `json:"field"`
		Problem string `json:"problem"`
	} `json:"invalid"`
}

func importCSV(t testing.TB, h *apptest.Harness, key string, siteID int64, csv string) importReport {
	t.Helper()
	var r importReport
	call(t, h, key, "POST", fmt.Sprintf("/v1/sites/%d/keywords", siteID), "text/csv", []byte(csv)).must(t, 200, &r)
	return r
}

// state is what a tenant can see of itself, for before/after comparisons.
func state(t testing.TB, h *apptest.Harness, key string, paths ...string) map[string]string {
	t.Helper()
	base := []string{"/v1/tenant", "/v1/credits", "/v1/credits/ledger?limit=500", "/v1/api-keys", "/v1/sites?limit=500",
		"/v1/ideas?limit=500", "/v1/drafts?limit=500", "/v1/jobs?limit=500"}
	out := map[string]string{}
	for _, p := range append(base, paths...) {
		out[p] = string(call(t, h, key, "GET", p, "", nil).must(t, 200, nil).Body)
	}
	return out
}

func sameState(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("%s changed what the tenant sees (-before +after):\n%s", what, diff)
	}
}

// credits is GET /v1/credits.
type credits struct {
	Balance   int64 `json:"balance"`
	Reserved  int64 `json:"reserved_by_unfinished_jobs"`
	Available int64 `json:"available_for_new_work"`
}

func getCredits(t testing.TB, h *apptest.Harness, key string) credits {
	t.Helper()
	var c credits
	call(t, h, key, "GET", "/v1/credits", "", nil).must(t, 200, &c)
	return c
}

func TestRolesMatrix(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	owner := newFixtureLite(t, h, "roles")
	keys := map[string]string{"owner": owner.Key, "operator": h.OperatorClient(t).Key}
	for _, role := range []string{"admin", "editor", "viewer", "bot"} {
		var k struct {
			Key string `json:"key"`
		}
		callJSON(t, h, owner.Key, "POST", "/v1/api-keys", map[string]string{"name": role + " key", "role": role}).must(t, 201, &k)
		keys[role] = k.Key
	}
	// A real deployment, so operators get 2xx for it.
	setPanel(t, h, owner.Key)
	deployment := deploySample(t, h, owner.Key, createSite(t, h, owner.Key, "roles blog", "pw"))
	sitesBefore := countSites(t, h, owner.Key)
	// A model no route names, so operators get 2xx for it (DELETE last).
	spare, err := h.App.Store.CreateModel(t.Context(), store.ModelFields{Provider: ptrTo("offline"),
		Model: ptrTo("roles-matrix"), Kind: ptrTo("chat"), DisplayName: ptrTo("Roles matrix")})
	apptest.Must(t, err, "create a model")
	// A credit pack, so operators get 2xx for it (DELETE last).
	sparePack, err := h.App.Store.CreatePack(t.Context(), store.CreditPack{Name: "Roles matrix", StripePriceID: "price_roles_matrix",
		Credits: 10, Active: true})
	apptest.Must(t, err, "create a credit pack")

	for _, role := range []string{"owner", "admin", "editor", "viewer", "bot", "operator"} {
		for _, rt := range h.API.Routes() {
			if rt.Permission == "" {
				continue
			}
			id := missingID
			if strings.HasPrefix(rt.Path, "/v1/admin/tenants/:id") {
				id = fmt.Sprint(owner.TenantID) // a real tenant, so operators get 2xx
			} else if rt.Path == "/v1/admin/deployments/:id" {
				id = fmt.Sprint(deployment.ID)
			} else if strings.HasPrefix(rt.Path, "/v1/admin/models/:id") {
				id = fmt.Sprint(spare.ID)
			} else if strings.HasPrefix(rt.Path, "/v1/admin/credit-packs/:id") {
				id = fmt.Sprint(sparePack.ID)
			}
			ct, body := sampleRequest(t, rt.Method, rt.Path)
			a := call(t, h, keys[role], rt.Method, withID(rt.Path, id), ct, body)
			name := fmt.Sprintf("%s %s as %s", rt.Method, rt.Path, role)
			switch {
			case auth.Allowed(role, rt.Permission):
				if a.Status == 401 || a.Status == 403 || a.Status >= 500 {
					t.Errorf("%s: status %d, want it allowed; body: %s", name, a.Status, clipBody(a.Body))
				}
				if rt.Permission == auth.PermOperator && a.Status >= 300 {
					t.Errorf("%s: status %d, want 2xx; body: %s", name, a.Status, clipBody(a.Body))
				}
			default:
				if a.Status != 403 {
					t.Errorf("%s: status %d, want 403; body: %s", name, a.Status, clipBody(a.Body))
					continue
				}
				a.problem(t, 403)
			}
		}
	}
	// Only the owner and admin could create a site (one each).
	if got := countSites(t, h, owner.Key); got != sitesBefore+2 {
		t.Errorf("sites after the matrix: %d, want %d (a denied request wrote)", got, sitesBefore+2)
	}

	// Role rules inside the key routes: only an owner makes or revokes owner keys.
	callJSON(t, h, keys["admin"], "POST", "/v1/api-keys", map[string]string{"name": "x", "role": "owner"}).problem(t, 403)
	callJSON(t, h, keys["admin"], "DELETE", fmt.Sprintf("/v1/api-keys/%d", owner.KeyID), nil).problem(t, 403)
	callJSON(t, h, keys["owner"], "GET", "/v1/tenant", nil).must(t, 200, nil)
}

// liteFixture is a tenant and its owner key.
type liteFixture struct {
	TenantID int64
	Key      string
	KeyID    int64
}

func newFixtureLite(t testing.TB, h *apptest.Harness, slug string) liteFixture {
	t.Helper()
	tk, _ := h.Tenant(t, slug, 100)
	var keys struct {
		Items []store.APIKey `json:"items"`
	}
	call(t, h, tk.OwnerKey, "GET", "/v1/api-keys", "", nil).must(t, 200, &keys)
	return liteFixture{TenantID: tk.Tenant.ID, Key: tk.OwnerKey, KeyID: keys.Items[0].ID}
}

func countSites(t testing.TB, h *apptest.Harness, key string) int {
	t.Helper()
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	call(t, h, key, "GET", "/v1/sites?limit=500", "", nil).must(t, 200, &l)
	return len(l.Items)
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.API.LimitAuthFailures(0) // hundreds of wrong keys; TestAuthFailuresLimited tests the limit
	f := newFixtureLite(t, h, "unauth")
	var revoked struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	callJSON(t, h, f.Key, "POST", "/v1/api-keys", map[string]string{"name": "soon revoked", "role": "admin"}).must(t, 201, &revoked)
	call(t, h, revoked.Key, "GET", "/v1/tenant", "", nil).must(t, 200, nil)
	callJSON(t, h, f.Key, "DELETE", fmt.Sprintf("/v1/api-keys/%d", revoked.ID), nil).must(t, 200, nil)
	before := state(t, h, f.Key)

	bad := map[string][]string{
		"no key":          nil,
		"empty bearer":    {"Authorization", "Bearer "},
		"basic auth":      {"Authorization", "Basic dXNlcjpwYXNz"},
		"unknown key":     {"Authorization", "Bearer pw_thisKeyDoesNotExist0000000000000"},
		"revoked key":     {"Authorization", "Bearer " + revoked.Key},
		"key without pw_": {"Authorization", "Bearer " + strings.TrimPrefix(f.Key, "pw_")},
	}
	for _, rt := range h.API.Routes() {
		if rt.Path == "/v1/stripe/webhook" {
			continue // refuses what Stripe did not sign: TestBillingOffByDefault, TestBillingThroughStripe
		}
		if rt.Permission == "" {
			a := call(t, h, "", rt.Method, rt.Path, "", nil)
			if a.Status != 200 {
				t.Errorf("public %s %s: status %d, want 200", rt.Method, rt.Path, a.Status)
			}
			continue
		}
		ct, body := sampleRequest(t, rt.Method, rt.Path)
		for name, header := range bad {
			a := call(t, h, "", rt.Method, withID(rt.Path, missingID), ct, body, header...)
			if a.Status != 401 {
				t.Errorf("%s %s with %s: status %d, want 401", rt.Method, rt.Path, name, a.Status)
				continue
			}
			a.problem(t, 401)
			if a.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %s: no WWW-Authenticate header", rt.Method, rt.Path, name)
			}
		}
	}
	sameState(t, "unauthenticated requests", before, state(t, h, f.Key))
}

func TestOperatorRoutes(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "opsbase")
	op := h.OperatorClient(t)

	var created auth.TenantWithKey
	callJSON(t, h, op.Key, "POST", "/v1/admin/tenants", auth.NewTenantRequest{Name: "Acme", Slug: "acme", Plan: "starter", Credits: 50}).
		must(t, 201, &created)
	if created.OwnerKey == "" || created.Tenant.CreditBalance != 50 || created.Tenant.Plan != "starter" {
		t.Fatalf("created tenant %+v", created)
	}
	tid := created.Tenant.ID
	callJSON(t, h, op.Key, "POST", "/v1/admin/tenants", auth.NewTenantRequest{Name: "Acme", Slug: "acme", Plan: "starter"}).problem(t, 409)

	var list struct {
		Items []store.Tenant `json:"items"`
	}
	call(t, h, op.Key, "GET", "/v1/admin/tenants", "", nil).must(t, 200, &list)
	if len(list.Items) != 2 {
		t.Errorf("operator lists %d tenants, want 2", len(list.Items))
	}
	getAdmin := call(t, h, op.Key, "GET", fmt.Sprintf("/v1/admin/tenants/%d", tid), "", nil).must(t, 200, nil)
	if bytes.Contains(getAdmin.Body, []byte(created.OwnerKey)) {
		t.Error("GET /v1/admin/tenants/:id shows the owner key again")
	}
	var bal map[string]int64
	callJSON(t, h, op.Key, "POST", fmt.Sprintf("/v1/admin/tenants/%d/credits", tid), map[string]any{"amount": 25, "note": "bonus"}).must(t, 200, &bal)
	if bal["balance"] != 75 {
		t.Errorf("balance after grant %d, want 75", bal["balance"])
	}
	callJSON(t, h, op.Key, "POST", "/v1/admin/tenants/"+missingID+"/credits", map[string]any{"amount": 1}).problem(t, 404)
	callJSON(t, h, op.Key, "PATCH", "/v1/admin/tenants/"+missingID, map[string]string{"status": "suspended"}).problem(t, 404)

	// The new owner key works; a suspended tenant may read but not write.
	call(t, h, created.OwnerKey, "GET", "/v1/tenant", "", nil).must(t, 200, nil)
	callJSON(t, h, op.Key, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d", tid), map[string]string{"status": "suspended"}).must(t, 200, nil)
	call(t, h, created.OwnerKey, "GET", "/v1/credits", "", nil).must(t, 200, nil)
	ct, body := sampleRequest(t, "POST", "/v1/sites")
	call(t, h, created.OwnerKey, "POST", "/v1/sites", ct, body).problem(t, 403)
	callJSON(t, h, op.Key, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d", tid), map[string]string{"status": "active"}).must(t, 200, nil)
	call(t, h, created.OwnerKey, "POST", "/v1/sites", ct, body).must(t, 201, nil)

	// Tenant keys may not use operator routes, whatever the role.
	for _, rt := range h.API.Routes() {
		if rt.Permission != auth.PermOperator {
			continue
		}
		ct, body := sampleRequest(t, rt.Method, rt.Path)
		call(t, h, f.Key, rt.Method, withID(rt.Path, fmt.Sprint(tid)), ct, body).problem(t, 403)
	}
	if c := getCredits(t, h, created.OwnerKey); c.Balance != 75 {
		t.Errorf("balance %d after tenant-key attempts at operator routes, want 75", c.Balance)
	}
}

func TestAPIKeysShownOnce(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "keys")
	secrets := []string{f.Key}
	for _, role := range []string{"admin", "viewer"} {
		var k struct {
			ID     int64  `json:"id"`
			Key    string `json:"key"`
			Prefix string `json:"prefix"`
			Role   string `json:"role"`
		}
		callJSON(t, h, f.Key, "POST", "/v1/api-keys", map[string]string{"name": role, "role": role}).must(t, 201, &k)
		if !strings.HasPrefix(k.Key, "pw_") || len(k.Key) < 30 || !strings.HasPrefix(k.Key, k.Prefix) || k.Role != role {
			t.Fatalf("created key %+v", k)
		}
		secrets = append(secrets, k.Key)
		revoke := callJSON(t, h, f.Key, "DELETE", fmt.Sprintf("/v1/api-keys/%d", k.ID), nil).must(t, 200, nil)
		if bytes.Contains(revoke.Body, []byte(k.Key)) || bytes.Contains(revoke.Body, []byte(`"key"`)) {
			t.Errorf("revoke answer shows the secret: %s", revoke.Body)
		}
	}
	list := call(t, h, f.Key, "GET", "/v1/api-keys", "", nil).must(t, 200, nil)
	for _, s := range secrets {
		if bytes.Contains(list.Body, []byte(s)) || bytes.Contains(list.Body, []byte(s[len(s)-12:])) {
			t.Errorf("GET /v1/api-keys shows a secret: %s", list.Body)
		}
	}
	var l struct {
		Items []map[string]any `json:"items"`
	}
	list.must(t, 200, &l)
	if len(l.Items) != 3 {
		t.Fatalf("%d keys listed, want 3", len(l.Items))
	}
	for _, item := range l.Items {
		if _, ok := item["key"]; ok {
			t.Errorf("listed key has a key field: %v", item)
		}
		if _, ok := item["key_hash"]; ok {
			t.Errorf("listed key has its hash: %v", item)
		}
	}

	// A key created with an Idempotency-Key: a retry creates no second key,
	// and the secret is stored nowhere (not even for the replay).
	var first, replay map[string]any
	body := map[string]string{"name": "ci bot", "role": "bot"}
	callJSON(t, h, f.Key, "POST", "/v1/api-keys", body, "Idempotency-Key", "key-once").must(t, 201, &first)
	secret, _ := first["key"].(string)
	if secret == "" {
		t.Fatalf("first answer has no key: %v", first)
	}
	a := callJSON(t, h, f.Key, "POST", "/v1/api-keys", body, "Idempotency-Key", "key-once").must(t, 201, &replay)
	if a.Header.Get("Idempotent-Replayed") != "true" || replay["id"] != first["id"] {
		t.Errorf("retry is not a replay of the first answer: %s", a.Body)
	}
	if bytes.Contains(a.Body, []byte(secret)) {
		t.Errorf("the replay shows the key a second time: %s", a.Body)
	}
	list = call(t, h, f.Key, "GET", "/v1/api-keys", "", nil).must(t, 200, &l)
	if len(l.Items) != 4 {
		t.Errorf("%d keys after a retried creation, want 4", len(l.Items))
	}
	db := h.App.Store.SQLDB()
	defer db.Close()
	var stored int
	err := db.QueryRow(`SELECT count(*) FROM idempotency_keys WHERE position(convert_to($1, 'UTF8') in body) > 0`, secret).Scan(&stored)
	apptest.Must(t, err, "search idempotency_keys")
	if stored != 0 {
		t.Error("the new key's secret is stored in idempotency_keys")
	}
	call(t, h, secret, "GET", "/v1/tenant", "", nil).must(t, 200, nil)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixture(t, h, "idem", 100)
	ctx := context.Background()
	jobsBefore, err := h.App.Store.ListJobs(ctx, f.tenantID(), store.JobFilter{}, "", 500)
	apptest.Must(t, err, "list jobs")
	creditsBefore := getCredits(t, h, f.Key)

	body := map[string]any{"idea_ids": f.IdeaIDs}
	first := callJSON(t, h, f.Key, "POST", "/v1/drafts/generate", body, "Idempotency-Key", "drafts-1")
	var a1, a2 jobsAnswer
	first.must(t, 202, &a1)
	if a1.BatchID == "" || len(a1.Jobs) != 2 || a1.CreditsQuoted != 6 {
		t.Fatalf("first answer %s, want a batch of 2 jobs quoted 6", first.Body)
	}
	afterFirst := getCredits(t, h, f.Key)
	if afterFirst.Reserved != creditsBefore.Reserved+6 || afterFirst.Balance != creditsBefore.Balance-6 {
		t.Fatalf("credits %+v after the first request, want 6 more reserved than %+v", afterFirst, creditsBefore)
	}

	second := callJSON(t, h, f.Key, "POST", "/v1/drafts/generate", body, "Idempotency-Key", "drafts-1")
	second.must(t, 202, &a2)
	if diff := cmp.Diff(a1, a2); diff != "" {
		t.Errorf("replay differs (-first +replay):\n%s", diff)
	}
	if !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("second answer is not a replay: %s", second.Body)
	}
	if got, want := second.Header.Get("Content-Type"), first.Header.Get("Content-Type"); got != want {
		t.Errorf("replay Content-Type %q, want %q", got, want)
	}
	// Without the key, the same request finds its work in flight.
	callJSON(t, h, f.Key, "POST", "/v1/drafts/generate", body).problem(t, 409)
	jobsAfter, err := h.App.Store.ListJobs(ctx, f.tenantID(), store.JobFilter{}, "", 500)
	apptest.Must(t, err, "list jobs")
	if len(jobsAfter) != len(jobsBefore)+2 {
		t.Errorf("%d jobs after a replay, want %d", len(jobsAfter), len(jobsBefore)+2)
	}
	if c := getCredits(t, h, f.Key); c != afterFirst {
		t.Errorf("credits after replay %+v, want %+v (a second quote)", c, afterFirst)
	}
	var batch store.BatchSummary
	call(t, h, f.Key, "GET", "/v1/batches/"+a1.BatchID, "", nil).must(t, 200, &batch)
	if batch.Total != 2 {
		t.Errorf("batch total %d, want 2", batch.Total)
	}

	// The same key with another body, or on another route: 409 with a problem.
	for _, other := range []struct{ path, body string }{
		{"/v1/drafts/generate", fmt.Sprintf(`{"idea_ids":[%d]}`, f.IdeaIDs[0])},
		{"/v1/drafts/generate", fmt.Sprintf(`{"idea_ids":[%d, %d]}`, f.IdeaIDs[0], f.IdeaIDs[1])}, // same ids, other bytes
		{"/v1/ideas/generate", fmt.Sprintf(`{"cluster_ids":[%d]}`, f.ClusterIDs[1])},
	} {
		p := call(t, h, f.Key, "POST", other.path, "application/json", []byte(other.body), "Idempotency-Key", "drafts-1").problem(t, 409)
		if !strings.Contains(p.Detail, "different request") {
			t.Errorf("409 detail %q does not say the key was used for a different request", p.Detail)
		}
	}
	// Even with its stored answer gone, the key names the same batch and
	// jobs, so a retry creates nothing.
	db := h.App.Store.SQLDB()
	defer db.Close()
	_, err = db.Exec(`DELETE FROM idempotency_keys WHERE key = 'drafts-1'`)
	apptest.Must(t, err, "forget the stored answer")
	gone := callJSON(t, h, f.Key, "POST", "/v1/drafts/generate", body, "Idempotency-Key", "drafts-1").problem(t, 409)
	if !strings.Contains(gone.Detail, a1.BatchID) {
		t.Errorf("409 detail %q does not name batch %s", gone.Detail, a1.BatchID)
	}
	if c := getCredits(t, h, f.Key); c != afterFirst {
		t.Errorf("credits after refused reuse %+v, want %+v", c, afterFirst)
	}
	if jobs, _ := h.App.Store.ListJobs(ctx, f.tenantID(), store.JobFilter{}, "", 500); len(jobs) != len(jobsBefore)+2 {
		t.Errorf("%d jobs after refused reuse, want %d", len(jobs), len(jobsBefore)+2)
	}

	// Keyword imports and site creation replay too, without a second write.
	csv := []byte("phrase\nidempotent one\nidempotent two\n")
	path := fmt.Sprintf("/v1/sites/%d/keywords", f.SiteID)
	var r1, r2 importReport
	call(t, h, f.Key, "POST", path, "text/csv", csv, "Idempotency-Key", "import-1").must(t, 200, &r1)
	call(t, h, f.Key, "POST", path, "text/csv", csv, "Idempotency-Key", "import-1").must(t, 200, &r2)
	if r1.Imported != 2 || r2.Imported != 2 || r2.DuplicatesExisting != 0 {
		t.Errorf("import %+v then replay %+v, want both to report 2 imported", r1, r2)
	}
	sites := countSites(t, h, f.Key)
	ct, sb := sampleRequest(t, "POST", "/v1/sites")
	var s1, s2 store.Site
	call(t, h, f.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", "site-1").must(t, 201, &s1)
	call(t, h, f.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", "site-1").must(t, 201, &s2)
	if s1.ID != s2.ID || countSites(t, h, f.Key) != sites+1 {
		t.Errorf("site %d then replay %d; %d sites, want one new", s1.ID, s2.ID, countSites(t, h, f.Key)-sites)
	}

	// A failed request does not hold its key: fixed, the retry runs.
	callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "x"}, "Idempotency-Key", "site-2").problem(t, 400)
	call(t, h, f.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", "site-2").must(t, 201, nil)

	// Keys belong to a tenant: another tenant's same key runs its own request.
	g := newFixtureLite(t, h, "idem-other")
	var other store.Site
	call(t, h, g.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", "site-1").must(t, 201, &other)
	if other.ID == s1.ID {
		t.Error("another tenant's request with the same Idempotency-Key got the first tenant's answer")
	}

	// Bad keys.
	call(t, h, f.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", strings.Repeat("k", 201)).problem(t, 400)
	p := call(t, h, f.Key, "POST", "/v1/sites", ct, sb, "Idempotency-Key", "has space").problem(t, 400)
	if !slices.Contains(fields(p), "Idempotency-Key") {
		t.Errorf("problem fields %v, want Idempotency-Key", fields(p))
	}
}

func TestInsufficientCredits(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := context.Background()
	// 8 credits: clustering 1, ideas 2 and draft 3 leave 2, and the queued
	// batch of two ideas jobs is quoted 2, so nothing is available.
	f := newFixture(t, h, "poor", 8)
	check402 := func(what, path string, body any, needed, available int64) {
		t.Helper()
		before := state(t, h, f.Key)
		jobs, err := h.App.Store.ListJobs(ctx, f.tenantID(), store.JobFilter{}, "", 500)
		apptest.Must(t, err, "list jobs")
		if c := getCredits(t, h, f.Key); c.Available != available {
			t.Fatalf("%s: available_for_new_work %d, want %d", what, c.Available, available)
		}
		p := callJSON(t, h, f.Key, "POST", path, body).problem(t, 402)
		if p.Needed == nil || p.Available == nil || *p.Needed != needed || *p.Available != available {
			t.Errorf("%s: 402 says needed %v available %v, want %d and %d", what, p.Needed, p.Available, needed, available)
		}
		after, err := h.App.Store.ListJobs(ctx, f.tenantID(), store.JobFilter{}, "", 500)
		apptest.Must(t, err, "list jobs")
		if len(after) != len(jobs) {
			t.Errorf("%s: %d jobs after a 402, want %d", what, len(after), len(jobs))
		}
		sameState(t, what+" refused with 402", before, state(t, h, f.Key))
	}
	check402("drafts", "/v1/drafts/generate", map[string]any{"idea_ids": f.IdeaIDs[1:]}, 3, 0)
	check402("clustering", fmt.Sprintf("/v1/sites/%d/clustering", f.SiteID), nil, 1, 0)

	// Cancel the queued batch: its quotes are free again.
	var batchJobs struct {
		Items []store.Job `json:"items"`
	}
	call(t, h, f.Key, "GET", "/v1/jobs?batch_id="+f.BatchID, "", nil).must(t, 200, &batchJobs)
	for _, j := range batchJobs.Items {
		callJSON(t, h, f.Key, "POST", "/v1/jobs/"+j.ID+"/cancel", nil).must(t, 200, nil)
	}
	check402("ideas", "/v1/ideas/generate", map[string]any{"cluster_ids": f.ClusterIDs, "count": 2}, 4, 2)
	check402("drafts", "/v1/drafts/generate", map[string]any{"idea_ids": f.IdeaIDs[1:]}, 3, 2)
	// What fits is accepted.
	var a jobsAnswer
	callJSON(t, h, f.Key, "POST", "/v1/ideas/generate", map[string]any{"cluster_ids": f.ClusterIDs, "count": 1}).must(t, 202, &a)
	if a.CreditsQuoted != 2 {
		t.Errorf("quoted %d, want 2", a.CreditsQuoted)
	}
	check402("clustering", fmt.Sprintf("/v1/sites/%d/clustering", f.SiteID), nil, 1, 0)
}

func TestSitePasswordNeverReturned(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "secret")
	ctx := context.Background()
	const first, second = "Xy7q plAinTexT-1", "Zk9w plAinTexT-2"
	leaks := func(what string, a answer) {
		t.Helper()
		for _, pw := range []string{first, second, "plAinTexT"} {
			if bytes.Contains(a.Body, []byte(pw)) {
				t.Errorf("%s shows the application password: %s", what, a.Body)
			}
		}
		if a.Status < 300 && bytes.Contains(a.Body, []byte("password")) {
			t.Errorf("%s has a password field: %s", what, a.Body)
		}
	}
	created := callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "Blog", "url": "https://blog.example/",
		"username": "wp", "application_password": first})
	var site store.Site
	created.must(t, 201, &site)
	leaks("POST /v1/sites", created)
	if site.URL != "https://blog.example" {
		t.Errorf("url %q, want it trimmed of its slash", site.URL)
	}
	path := fmt.Sprintf("/v1/sites/%d", site.ID)
	leaks("GET /v1/sites/:id", call(t, h, f.Key, "GET", path, "", nil).must(t, 200, nil))
	leaks("GET /v1/sites", call(t, h, f.Key, "GET", "/v1/sites", "", nil).must(t, 200, nil))

	box := h.App.Box
	ad := fmt.Appendf(nil, "site-password:tenant:%d", f.TenantID)
	stored := func(want string) []byte {
		t.Helper()
		enc, err := h.App.Store.SitePassword(ctx, f.TenantID, site.ID)
		apptest.Must(t, err, "read site password")
		if bytes.Contains(enc, []byte(want)) || bytes.Contains(enc, []byte("plAinTexT")) {
			t.Fatalf("the stored password holds the plaintext: %q", enc)
		}
		plain, err := box.Open(enc, ad)
		apptest.Must(t, err, "open the stored password")
		if string(plain) != want {
			t.Fatalf("stored password opens to %q, want %q", plain, want)
		}
		return enc
	}
	enc1 := stored(first)

	leaks("PATCH name", callJSON(t, h, f.Key, "PATCH", path, map[string]string{"name": "Renamed"}).must(t, 200, nil))
	if enc := stored(first); !bytes.Equal(enc, enc1) {
		t.Error("a PATCH without a password changed the stored password")
	}
	leaks("PATCH password", callJSON(t, h, f.Key, "PATCH", path, map[string]string{"application_password": second}).must(t, 200, nil))
	stored(second)
	leaks("idempotent POST replay", callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "Two",
		"url": "https://two.example", "username": "wp", "application_password": first}, "Idempotency-Key", "pw").must(t, 201, nil))
	leaks("idempotent POST replay", callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "Two",
		"url": "https://two.example", "username": "wp", "application_password": first}, "Idempotency-Key", "pw").must(t, 201, nil))
	leaks("bad PATCH", callJSON(t, h, f.Key, "PATCH", path, map[string]string{"application_password": "bad\x01" + first}).problem400(t))
}

// problem400 is problem(t, 400) returning the answer.
func (a answer) problem400(t testing.TB) answer {
	t.Helper()
	a.problem(t, 400)
	return a
}
