package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/secret/secrettest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestEchoedSecretsStayOutOfJobErrors is #17's key leak: an OpenAI-compatible
// server that echoes the tenant's own key into every field of its errors
// (message, code, type, param, x-request-id) and a WordPress that echoes the
// application password into its error's code, message and data. The failed
// and retried jobs' errors in PostgreSQL, what a viewer reads at
// GET /v1/jobs/:id and GET /v1/sites/:id, and the API's and the worker's
// log show no form of either secret.
func TestEchoedSecretsStayOutOfJobErrors(t *testing.T) {
	t.Parallel()
	key := "sk-echo/Key+01=ab&<cd>_" + rand.Text()
	fake := fakeopenai.New(t)
	fake.SetKey(key)
	fake.SetContent(answerFromPrompt)
	var keyNow atomic.Value
	keyNow.Store(key)
	var embedCalls atomic.Int32
	llm := openAIWithOfflineEmbeddings(t, fake, &embedCalls, &keyNow)
	wp := fakewp.New(t, fakewp.Config{})

	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "10ms"), apptest.WithEnv("RETRY_MAX_DELAY", "40ms"),
		apptest.WithEnv("LOG_LEVEL", "debug"))
	var logs secrettest.LogBuffer
	h.App.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, stopWorker := startTenantModelWorker(t, h)

	tk, c := h.Tenant(t, "echoes", 1000)
	r := tenantRun{api: pipelineAPI{t: t, c: c}}
	var viewerKey struct {
		Key string `json:"key"`
	}
	r.api.do(http.MethodPost, "/v1/api-keys", map[string]string{"name": "viewer", "role": "viewer"}, &viewerKey)
	viewer := h.Client(viewerKey.Key)

	r.api.do(http.MethodPut, "/v1/ai-settings/openai", map[string]string{"api_key": key, "base_url": llm.URL + "/v1"}, nil)
	r.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Echo Test", "url": wp.SiteURL(),
		"username": fakewp.User, "application_password": fakewp.Password}, &r.site)
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", r.site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	r.cluster()
	r.ideas()
	r.draft()

	// OpenAI: a refusal (permanent) and server errors through all of a
	// call's tries in the job (the attempt fails and is retried, then
	// answered), each echoing the key everywhere.
	fake.SetFallback(fakeopenai.EchoKey(http.StatusBadRequest))
	failedIdeas := r.waitFailed(r.startIdeas())
	fake.SetFallback(nil)
	for range callTries {
		fake.Push(fakeopenai.EchoKey(http.StatusInternalServerError))
	}
	retried := r.ideas()
	if retried.Attempts < 2 {
		t.Errorf("the ideas job after a 500 took %d attempts, want a retry", retried.Attempts)
	}

	// WordPress: a refused post (400) and a refused login (401), each
	// echoing the credentials in the code, message and data.
	var drafts []store.Draft
	r.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", r.site.ID), &drafts)
	publish := func(status int) store.Job {
		wp.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Status: status, EchoAuth: true})
		var pub apptest.Accepted
		r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{drafts[0].ID}, "status": "publish"}, &pub)
		return r.waitFailed(pub.Jobs[0].ID)
	}
	failed := []store.Job{failedIdeas, publish(http.StatusBadRequest), publish(http.StatusUnauthorized)}

	// What a viewer reads of the jobs and the site; the errors recorded.
	var answers []string
	read := func(path string) {
		var raw json.RawMessage
		apptest.Must(t, viewer.Do(context.Background(), http.MethodGet, path, nil, &raw), "viewer GET "+path)
		answers = append(answers, path+": "+string(raw))
	}
	for _, j := range append(failed, retried) {
		read("/v1/jobs/" + j.ID)
	}
	read(fmt.Sprintf("/v1/sites/%d", r.site.ID))
	read("/v1/jobs?limit=500")
	stopWorker()
	db := h.App.Store.SQLDB()
	defer db.Close()
	rows, err := db.Query(`SELECT id, coalesce(last_error, '') FROM jobs WHERE tenant_id = $1`, tk.Tenant.ID)
	apptest.Must(t, err, "read the jobs' errors")
	defer rows.Close()
	var recorded []string
	for rows.Next() {
		var id, lastError string
		apptest.Must(t, rows.Scan(&id, &lastError), "scan")
		recorded = append(recorded, id+": "+lastError)
	}
	apptest.Must(t, rows.Err(), "rows")

	// The capture saw the failures, redacted.
	for _, j := range failed {
		if !strings.Contains(apptest.Deref(j.LastError), "[redacted]") {
			t.Errorf("job %s (%s) failed with %q, which redacts nothing: did the fakes echo the secrets?",
				j.ID, j.Type, apptest.Deref(j.LastError))
		}
	}
	gotLogs := logs.String()
	if !strings.Contains(gotLogs, "job attempt failed; will retry") || !strings.Contains(gotLogs, "job failed") {
		t.Errorf("the log lacks the worker's failures: is it captured?\n%.3000s", gotLogs)
	}

	secrets := []struct{ name, value, user string }{
		{"tenant's OpenAI key", key, ""}, {"application password", fakewp.Password, fakewp.User},
		{"application password without spaces", strings.ReplaceAll(fakewp.Password, " ", ""), fakewp.User},
	}
	places := map[string]string{"jobs.last_error": strings.Join(recorded, "\n"),
		"a viewer's answer": strings.Join(answers, "\n"), "the log": gotLogs}
	for _, s := range secrets {
		forms := leakForms(s.value, s.user)
		for _, where := range slices.Sorted(maps.Keys(places)) {
			text := places[where]
			for _, form := range slices.Sorted(maps.Keys(forms)) {
				if i := strings.Index(text, forms[form]); i >= 0 {
					t.Errorf("%s shows the %s (as %s): ...%s...", where, s.name, form,
						text[max(0, i-200):min(len(text), i+len(forms[form])+100)])
				}
			}
		}
	}
}
