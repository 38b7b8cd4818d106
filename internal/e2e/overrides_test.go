package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/secret/secrettest"
	"github.com/presswork/presswork/internal/store"
)

// recordingModel is the offline text model that records every request.
type recordingModel struct {
	inner ai.TextModel
	mu    sync.Mutex
	reqs  []ai.JSONRequest
}

func (m *recordingModel) Name() string { return m.inner.Name() }

func (m *recordingModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	return m.inner.GenerateJSON(ctx, req)
}

func (m *recordingModel) requests() []ai.JSONRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ai.JSONRequest(nil), m.reqs...)
}

// tenantRun is one tenant driving the pipeline through the API.
type tenantRun struct {
	tenantID int64
	api      pipelineAPI
	site     store.Site
	clusters []store.Cluster
}

// startTenant creates a tenant with a site named siteName, imports the test
// keywords and clusters them.
func startTenant(t *testing.T, h *apptest.Harness, slug, siteName string) (tenantRun, *client.Client) {
	t.Helper()
	tk, c := h.Tenant(t, slug, 500)
	r := tenantRun{tenantID: tk.Tenant.ID, api: pipelineAPI{t: t, c: c}}
	r.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": siteName,
		"url": "https://" + slug + ".example.com", "username": "editor", "application_password": "abcd efgh"}, &r.site)
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", r.site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	return r, c
}

func (r *tenantRun) cluster() store.Job {
	var acc apptest.Accepted
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", r.site.ID), nil, &acc)
	j := r.api.waitJob(acc.Jobs[0].ID)
	r.api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", r.site.ID), &r.clusters)
	if len(r.clusters) == 0 {
		r.api.t.Fatalf("site %q has no clusters", r.site.Name)
	}
	return j
}

// startIdeas asks for one idea for the first cluster and returns the job id.
func (r *tenantRun) startIdeas() string {
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{r.clusters[0].ID}, "count": 1}, &acc)
	return acc.Jobs[0].ID
}

// ideas runs an ideas job to success and returns it.
func (r *tenantRun) ideas() store.Job { return r.api.waitJob(r.startIdeas()) }

// draft writes the draft of the cluster's first idea.
func (r *tenantRun) draft() store.Job {
	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?cluster_id=%d", r.clusters[0].ID), &ideas)
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{ideas[0].ID}}, &acc)
	return r.api.waitJob(acc.Jobs[0].ID)
}

// waitFailed waits for a job to fail and returns it.
func (r *tenantRun) waitFailed(id string) store.Job {
	var j store.Job
	apptest.Eventually(r.api.t, 60*time.Second, "job "+id+" finishes", func() (bool, error) {
		j = r.api.job(id)
		return j.Final(), nil
	})
	if j.State != store.JobFailed {
		r.api.t.Fatalf("job %s (%s) ended %s, want failed", id, j.Type, j.State)
	}
	return j
}

// TestTenantPromptOverrideReachesTheModel checks that a tenant's jobs render
// its override and another tenant's jobs the defaults.
func TestTenantPromptOverrideReachesTheModel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	rec := &recordingModel{inner: offline.NewTextModel()}
	p := providers.Offline()
	p.Text = rec
	h.StartWorker(t, p)

	a, aClient := startTenant(t, h, "override-a", "Alpha Kitchen")
	b, _ := startTenant(t, h, "override-b", "Beta Kitchen")
	override := map[string]string{
		"system": "MARKER-ALPHA: you plan articles for {{with .SiteName}}{{oneline .}}{{end}}.",
		"user":   "MARKER-ALPHA: propose exactly {{.Count}} ideas for {{oneline .ClusterName}}:\n{{range .Keywords}}- {{keyword .}}\n{{end}}",
	}
	var v store.PromptVersion
	apptest.Must(t, aClient.Do(context.Background(), http.MethodPut, "/v1/prompts/ideas", override, &v), "PUT the override")

	a.cluster()
	b.cluster()
	a.ideas()
	b.ideas()

	var aIdeas, bIdeas, aNames int
	for _, req := range rec.requests() {
		switch in := req.Input.(type) {
		case ai.IdeasInput:
			wantSystem, wantUser, err := ai.RenderPrompt(ai.StageIdeas, in)
			apptest.Must(t, err, "render the default")
			switch in.SiteName {
			case a.site.Name:
				aIdeas++
				if !strings.HasPrefix(req.System, "MARKER-ALPHA: you plan articles for Alpha Kitchen.") ||
					!strings.HasPrefix(req.Prompt, "MARKER-ALPHA: propose exactly 1 ideas for ") {
					t.Errorf("A's ideas request does not use A's override:\nsystem: %s\nuser: %s", req.System, req.Prompt)
				}
			case b.site.Name:
				bIdeas++
				if req.System != wantSystem || req.Prompt != wantUser {
					t.Errorf("B's ideas request does not use the default prompts:\nsystem: %s\nuser: %s", req.System, req.Prompt)
				}
			}
		case ai.ClusterNameInput:
			// A overrode ideas only: its cluster names use the defaults.
			wantSystem, wantUser, err := ai.RenderPrompt(ai.StageClusterName, in)
			apptest.Must(t, err, "render the default")
			if in.SiteName == a.site.Name {
				aNames++
			}
			if req.System != wantSystem || req.Prompt != wantUser || strings.Contains(req.System, "MARKER") {
				t.Errorf("a cluster naming request of %s does not use the defaults", in.SiteName)
			}
		}
	}
	if aIdeas != 1 || bIdeas != 1 || aNames == 0 {
		t.Errorf("the model got %d ideas requests of A, %d of B and %d cluster namings of A; want 1, 1 and some",
			aIdeas, bIdeas, aNames)
	}

	// After a revert, A's next job uses the default again.
	apptest.Must(t, aClient.Do(context.Background(), http.MethodDelete, "/v1/prompts/ideas", nil, nil), "revert")
	before := len(rec.requests())
	a.ideas()
	for _, req := range rec.requests()[before:] {
		if in, ok := req.Input.(ai.IdeasInput); ok {
			wantSystem, _, _ := ai.RenderPrompt(ai.StageIdeas, in)
			if req.System != wantSystem {
				t.Errorf("after the revert A's ideas request has system prompt %q", req.System)
			}
		}
	}
}

// startTenantModelWorker starts h's worker on the providers the
// environment gives without OPENAI_API_KEY: the worker's own models are the
// offline ones, and the other OPENAI_* variables configure the models of
// tenants that bring a key. It returns the providers and the worker's stop.
func startTenantModelWorker(t *testing.T, h *apptest.Harness) (providers.Set, func()) {
	t.Helper()
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis URL")
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	env := map[string]string{"OPENAI_EMBEDDING_DIMENSIONS": "256", "OPENAI_MODEL": "gpt-4o-mini"}
	models, err := providers.FromEnv(func(k string) string { return env[k] }, rdb, h.App.Log)
	apptest.Must(t, err, "providers")
	return models, h.StartWorker(t, models)
}

// TestTenantOpenAIKey runs a tenant's clustering, ideas and draft on the
// OpenAI-compatible server and key it brought, while another tenant's jobs
// stay on the worker's (offline) providers; the key shows in no answer and
// no log line.
func TestTenantOpenAIKey(t *testing.T) {
	t.Parallel()
	const firstKey, secondKey = "sk-tenant-FIRSTsecret-0123456789", "sk-tenant-SECONDsecret-9876543210"
	secrets := []string{firstKey, secondKey, "FIRSTsecret", "SECONDsecret"}
	fake := fakeopenai.New(t)
	fake.SetKey(firstKey)
	fake.SetContent(answerFromPrompt)
	var key atomic.Value
	key.Store(firstKey)
	var embedCalls atomic.Int32
	server := openAIWithOfflineEmbeddings(t, fake, &embedCalls, &key)

	h := apptest.Start(t)
	var logs secrettest.LogBuffer
	h.App.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	models, _ := startTenantModelWorker(t, h)
	if models.Text.Name() != offline.TextModelName {
		t.Fatalf("the worker's text model is %s, want the offline one", models.Text.Name())
	}

	a, aClient := startTenant(t, h, "own-key", "Own Key Kitchen")
	b, _ := startTenant(t, h, "no-key", "Worker Key Kitchen")
	var answers [][]byte
	setKey := func(k string) {
		t.Helper()
		var raw json.RawMessage
		apptest.Must(t, aClient.Do(context.Background(), http.MethodPut, "/v1/ai-settings/openai",
			map[string]string{"api_key": k, "base_url": server.URL + "/v1"}, &raw), "PUT the key")
		answers = append(answers, raw)
	}
	setKey(firstKey)

	aJobs := []store.Job{a.cluster(), a.ideas(), a.draft()}
	bJobs := []store.Job{b.cluster(), b.ideas()}
	if embedCalls.Load() == 0 {
		t.Error("A's clustering did not call the embeddings endpoint of its server")
	}
	for _, j := range aJobs[1:] {
		checkUsage(t, j) // the fake's model, tokens and a cost
	}
	for _, j := range bJobs {
		if j.Model == nil || strings.HasPrefix(*j.Model, "gpt") {
			t.Errorf("B's job %s (%s) recorded model %v, want the offline provider's", j.ID, j.Type, apptest.Deref(j.Model))
		}
	}
	chats := 0
	for _, r := range fake.Requests() {
		if r.Endpoint != fakeopenai.EndpointChat {
			continue
		}
		chats++
		if got := r.Header.Get("Authorization"); got != "Bearer "+firstKey {
			t.Errorf("a chat request was sent with Authorization %q", got)
		}
		for _, m := range r.Messages {
			if strings.Contains(m.Content, b.site.Name) {
				t.Errorf("B's content reached A's server: %s", m.Content)
			}
		}
	}
	if chats < 3 {
		t.Errorf("A's server got %d chat requests, want cluster names, ideas and a draft", chats)
	}

	// A new key replaces the cached models at once.
	fake.SetKey(secondKey)
	key.Store(secondKey)
	setKey(secondKey)
	checkUsage(t, a.ideas())
	last := fake.Requests()[len(fake.Requests())-1]
	if got := last.Header.Get("Authorization"); got != "Bearer "+secondKey {
		t.Errorf("after the new key, a request was sent with Authorization %q", got)
	}

	// A key the server rejects fails the job at once, without the key in the message.
	setKey(firstKey)
	j := a.waitFailed(a.startIdeas())
	if msg := apptest.Deref(j.LastError); !strings.Contains(msg, "the API key was rejected; check the tenant's OpenAI key") || j.Attempts != 1 {
		t.Errorf("job with a rejected key: %d attempts, error %q", j.Attempts, msg)
	}
	setKey(secondKey)

	// A key that cannot be decrypted (say, SECRET_KEY changed) fails the job
	// at once with a clear message.
	db := h.App.Store.SQLDB()
	defer db.Close()
	_, err := db.Exec(`UPDATE tenant_ai_settings SET openai_api_key_enc = set_byte(openai_api_key_enc, 19, get_byte(openai_api_key_enc, 19) # 255),
		updated_at = updated_at + interval '1 second' WHERE tenant_id = (SELECT tenant_id FROM sites WHERE id = $1)`, a.site.ID)
	apptest.Must(t, err, "damage the sealed key")
	j = a.waitFailed(a.startIdeas())
	if msg := apptest.Deref(j.LastError); !strings.Contains(msg, "the tenant's OpenAI key cannot be decrypted") || j.Attempts != 1 {
		t.Errorf("job with an undecryptable key: %d attempts, error %q", j.Attempts, msg)
	}

	// Without the key, A is back on the worker's providers.
	apptest.Must(t, aClient.Do(context.Background(), http.MethodDelete, "/v1/ai-settings/openai", nil, nil), "DELETE the key")
	requests := len(fake.Requests())
	if j := a.ideas(); j.Model == nil || *j.Model != offline.TextModelName {
		t.Errorf("A's job without its key recorded model %v, want the offline one", apptest.Deref(j.Model))
	}
	if n := len(fake.Requests()); n != requests {
		t.Errorf("A's server got %d requests after its key was removed", n-requests)
	}

	// The key shows in no answer and no log line.
	var jobs []byte
	apptest.Must(t, aClient.Do(context.Background(), http.MethodGet, "/v1/jobs?limit=500", nil, (*json.RawMessage)(&jobs)), "list jobs")
	answers = append(answers, jobs)
	for _, s := range secrets {
		for _, ans := range answers {
			if bytes.Contains(ans, []byte(s)) {
				t.Errorf("an answer shows %q: %s", s, ans)
			}
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("the worker log shows %q", s)
		}
	}
	if !strings.Contains(logs.String(), "tenant's own OpenAI key in use") {
		t.Error("the log capture saw nothing of the worker: is the check above looking at the right log?")
	}
}
