package e2e_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apiapp"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/easypanel/fakepanel"
	"github.com/presswork/presswork/internal/secret/secrettest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// captured is every answer the API gave: status line, headers and body.
type captured struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int
}

func (c *captured) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &teeWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n++
		fmt.Fprintf(&c.buf, "\n== %s %s -> %d\n", r.Method, r.URL.Path, rec.status)
		_ = w.Header().Write(&c.buf)
		c.buf.Write(rec.body.Bytes())
	})
}

func (c *captured) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// leakForms returns the forms in which a secret may leak: as it is,
// JSON-escaped, URL-escaped, in base64 (alone and in a Basic
// authorization with user), in hex, and every 8-character piece of it
// (a secret shown in part; the 4-character hints of keys are allowed).
func leakForms(secret, user string) map[string]string {
	forms := secrettest.Forms(secret, user)
	forms["hex"] = hex.EncodeToString([]byte(secret))
	const piece = 8
	for i := 0; i+piece <= len(secret); i++ {
		p := secret[i : i+piece]
		if strings.TrimSpace(p) == p {
			forms["part "+p] = p
		}
	}
	return forms
}

// TestNoSecretLeaks runs a tenant through everything that handles a secret
// (a site's application password, the tenant's OpenAI key, its Easypanel
// credentials, a deployment's environment and database passwords), with
// failures whose remote replies quote the secrets back, and searches every
// answer of the API (headers and bodies) and every log line of the API and
// the worker for each secret in any common encoding or in part.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	var (
		openAIKey   = "sk-leak-" + rand.Text()
		wrongKey    = "sk-wrong-" + rand.Text()
		wrongSitePW = "wrong " + rand.Text()
		envSecret   = "env-" + rand.Text()
	)

	// The fakes: an OpenAI server that quotes a wrong key back in full, a
	// WordPress and an Easypanel.
	fake := fakeopenai.New(t)
	fake.SetKey(openAIKey)
	fake.SetContent(answerFromPrompt)
	var keyNow atomic.Value
	keyNow.Store(openAIKey)
	var embedCalls atomic.Int32
	llm := openAIWithOfflineEmbeddings(t, fake, &embedCalls, &keyNow)
	wp := fakewp.New(t, fakewp.Config{})
	strict := fakewp.New(t, fakewp.Config{RefuseWrongPassword: true})
	panel := fakepanel.New(t)

	// The API and the worker log everything (debug) to one buffer; the API
	// is served through a recorder of its answers.
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "10ms"), apptest.WithEnv("RETRY_MAX_DELAY", "40ms"),
		apptest.WithEnv("DEPLOY_POLL_EVERY", "10ms"), apptest.WithEnv("LOG_LEVEL", "debug"))
	var logs secrettest.LogBuffer
	h.App.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	answers := &captured{}
	srv, enq := apiapp.New(h.App)
	ts := httptest.NewServer(answers.wrap(srv.Handler()))
	t.Cleanup(func() { ts.Close(); enq.Close() })
	h.URL = ts.URL // every client of the harness goes through the recorder

	_, stopWorker := startTenantModelWorker(t, h)

	_, c := h.Tenant(t, "leaky", 1000)
	r := tenantRun{api: pipelineAPI{t: t, c: c}}
	op := pipelineAPI{t: t, c: h.OperatorClient(t)}

	// The tenant's OpenAI key, a site on the fake WordPress, the pipeline.
	r.api.do(http.MethodPut, "/v1/ai-settings/openai", map[string]string{"api_key": openAIKey, "base_url": llm.URL + "/v1"}, nil)
	r.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Leak Test", "url": wp.SiteURL(),
		"username": fakewp.User, "application_password": fakewp.Password}, &r.site)
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", r.site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	r.cluster()
	r.ideas()
	r.draft()
	var check apptest.Accepted
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", r.site.ID), nil, &check)
	r.api.waitJob(check.Jobs[0].ID)

	// Failures whose remote replies quote the secrets.
	// 1. WordPress refuses the post with a message quoting the credentials.
	basic := base64.StdEncoding.EncodeToString([]byte(fakewp.User + ":" + fakewp.Password))
	wp.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Status: http.StatusBadRequest,
		Body: fmt.Sprintf(`{"code":"rest_invalid_param","message":"Invalid parameter(s): author (Basic %s, password %s)","data":{"status":400,"params":{"author":"%s"}}}`,
			basic, fakewp.Password, fakewp.Password)})
	var drafts []store.Draft
	r.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", r.site.ID), &drafts)
	var pub apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{drafts[0].ID}, "status": "publish"}, &pub)
	r.waitFailed(pub.Jobs[0].ID)
	// 2. A site with a wrong application password.
	var bad store.Site
	r.api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Wrong Password", "url": strict.SiteURL(),
		"username": fakewp.User, "application_password": wrongSitePW}, &bad)
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/check", bad.ID), nil, &check)
	apptest.Eventually(t, 60*time.Second, "site check of the wrong password", func() (bool, error) {
		return r.api.job(check.Jobs[0].ID).Final(), nil
	})
	// 3. An OpenAI key the server rejects, quoting it back in full.
	r.api.do(http.MethodPut, "/v1/ai-settings/openai", map[string]string{"api_key": wrongKey, "base_url": llm.URL + "/v1"}, nil)
	r.waitFailed(r.startIdeas())
	r.api.do(http.MethodPut, "/v1/ai-settings/openai", map[string]string{"api_key": openAIKey, "base_url": llm.URL + "/v1"}, nil)

	// Easypanel: a deploy the panel refuses with a reply quoting the
	// environment and its password, then one that goes through.
	r.api.do(http.MethodPut, "/v1/easypanel", map[string]string{"url": panel.URL, "email": fakepanel.Email,
		"password": fakepanel.Password}, nil)
	panel.FailNext("services.app.createService", http.StatusBadRequest,
		fmt.Sprintf("Invalid env API_TOKEN=%s (authenticated with %s)", envSecret, fakepanel.Password))
	deploy := map[string]any{"source": map[string]string{"type": "image", "image": "wordpress:6"},
		"domain": "leak.example.com", "env": map[string]string{"API_TOKEN": envSecret}}
	deployPath := fmt.Sprintf("/v1/sites/%d/deployment", r.site.ID)
	var acc deployAccepted
	r.api.do(http.MethodPost, deployPath, deploy, &acc)
	if j := r.waitFailed(acc.JobID); j.LastError == nil {
		t.Error("the refused deploy failed without an error")
	}
	r.api.do(http.MethodPost, deployPath, deploy, &acc)
	r.api.waitJob(acc.JobID)

	// Everything a tenant and an operator may read.
	var view deploymentView
	r.api.do(http.MethodGet, deployPath, nil, &view)
	op.do(http.MethodGet, fmt.Sprintf("/v1/admin/deployments/%d", view.ID), nil, nil)
	for _, p := range []string{"/v1/ai-settings", "/v1/easypanel", "/v1/sites", fmt.Sprintf("/v1/sites/%d", r.site.ID),
		fmt.Sprintf("/v1/sites/%d", bad.ID), "/v1/jobs?limit=500", "/v1/drafts", "/v1/credits/ledger", "/v1/api-keys"} {
		r.api.do(http.MethodGet, p, nil, nil)
	}
	for _, p := range []string{"/v1/admin/tenants", "/v1/audit", "/v1/admin/audit"} {
		// The audit routes may not be registered yet; any answer is searched.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+c.Key)
		if strings.HasPrefix(p, "/v1/admin") {
			req.Header.Set("Authorization", "Bearer "+op.c.Key)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	stopWorker() // the worker's last log lines are written

	// The secrets: those given, and the database passwords the deploy made.
	type secret struct{ name, value, user string }
	secrets := []secret{{"OpenAI key", openAIKey, ""}, {"rejected OpenAI key", wrongKey, ""},
		{"application password", fakewp.Password, fakewp.User}, {"wrong application password", wrongSitePW, fakewp.User},
		{"panel password", fakepanel.Password, fakepanel.Email}, {"deployment env value", envSecret, ""}}
	services := panel.Services()
	if len(services) < 2 {
		t.Fatalf("the panel has %d services after the deploy, want the app and its database", len(services))
	}
	for _, s := range services {
		if s.Password != "" {
			secrets = append(secrets, secret{"database password of " + s.Name, s.Password, ""})
		}
		if s.RootPassword != "" {
			secrets = append(secrets, secret{"database root password of " + s.Name, s.RootPassword, ""})
		}
	}

	// The capture saw the work: the failures are in the job errors and the
	// logs, so the search below is not looking at nothing.
	gotAnswers, gotLogs := answers.String(), logs.String()
	for _, want := range []string{"WordPress refused the post", "the API key was rejected", "Deployment failed"} {
		if !strings.Contains(gotAnswers, want) {
			t.Errorf("the answers never show %q: is the capture working?", want)
		}
	}
	if !strings.Contains(gotLogs, "tenant's own OpenAI key in use") || !strings.Contains(gotLogs, "/v1/sites") {
		t.Errorf("the logs lack the worker's or the API's lines: is the capture working?\n%.2000s", gotLogs)
	}
	for _, s := range secrets {
		forms := leakForms(s.value, s.user)
		names := slices.Sorted(maps.Keys(forms))
		for _, where := range []struct{ name, text string }{{"an API answer", gotAnswers}, {"the logs", gotLogs}} {
			var found []string
			first := -1
			for _, form := range names {
				if i := strings.Index(where.text, forms[form]); i >= 0 {
					found = append(found, form)
					if first < 0 {
						first = i
					}
				}
			}
			if len(found) > 0 {
				t.Errorf("%s shows the %s (as %s), e.g. ...%s...", where.name, s.name, strings.Join(found, ", "),
					where.text[max(0, first-300):min(len(where.text), first+len(s.value)+100)])
			}
		}
	}
	t.Logf("searched %d answers (%d bytes) and %d bytes of logs for %d secrets", answers.n, len(gotAnswers), len(gotLogs), len(secrets))
}
