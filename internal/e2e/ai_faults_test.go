package e2e_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/cluster"
	"github.com/presswork/presswork/internal/store"
)

// faultKeywordCount is how many keywords TestClusteringUnderFaults clusters.
const faultKeywordCount = 1000

// TestClusteringUnderFaults clusters 1,000 keywords against the OpenAI fake
// on a bad day (10% server errors, 10% invalid JSON, 5% answers cut off, 5%
// refusals, drawn per request): the job ends succeeded with every cluster
// named (by the model or, marked so, after its most central keyword), each
// keyword is embedded once however often the job or a call was retried,
// and GET /v1/usage equals what the fake served.
func TestClusteringUnderFaults(t *testing.T) {
	t.Parallel()
	fake := newFakeOpenAI(t)
	faults := fakeopenai.NewFaults(fake, fakeopenai.BadDay(19))
	fake.SetFallback(faults.Behave)
	api, site, phrases, jobID := startClustering(t, fake, "faults", faultKeywordCount)
	job := api.waitJobFor(jobID, 3*time.Minute)
	var result struct {
		Clusters  int `json:"clusters"`
		Clustered int `json:"keywords_clustered"`
		Outliers  int `json:"outliers"`
		Fallback  int `json:"names_fallback"`
	}
	apptest.Must(t, json.Unmarshal(job.Result, &result), "job result")
	spent := fake.Spent()
	t.Logf("clustering under faults: %s after %d attempts; %d clusters (%d named by fallback), %d keywords, %d outliers; "+
		"faults %v; served %d embedding and %d/%d chat tokens",
		job.State, job.Attempts, result.Clusters, result.Fallback, result.Clustered, result.Outliers, faults.Counts(),
		spent[fakeEmbeddingModel].PromptTokens, spent[fakeChatModel].PromptTokens, spent[fakeChatModel].CompletionTokens)

	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	if len(clusters) != result.Clusters || len(clusters) < 20 {
		t.Fatalf("%d clusters stored, the job says %d; want at least 20", len(clusters), result.Clusters)
	}
	fallbacks, grouped := 0, 0
	for _, c := range clusters {
		grouped += c.KeywordCount
		switch {
		case c.Name == "" || c.Description == "":
			t.Errorf("cluster %d has no name or description: %+v", c.ID, c)
		case c.NameSource == store.NameByFallback:
			fallbacks++
		case c.NameSource != store.NameByModel:
			t.Errorf("cluster %d named by %q", c.ID, c.NameSource)
		}
	}
	if fallbacks != result.Fallback || grouped != result.Clustered || grouped+result.Outliers != faultKeywordCount {
		t.Errorf("%d fallback names and %d grouped keywords stored, the job says %d and %d (and %d outliers of %d)",
			fallbacks, grouped, result.Fallback, result.Clustered, result.Outliers, faultKeywordCount)
	}
	for _, kind := range []string{fakeopenai.FaultServerError, fakeopenai.FaultInvalidJSON,
		fakeopenai.FaultTruncated, fakeopenai.FaultRefusal} {
		if faults.Counts()[kind] == 0 {
			t.Errorf("the fake injected no %s: %v", kind, faults.Counts())
		}
	}
	checkEmbeddedOnce(t, fake, phrases)
	report := api.usageOnceRecorded(spent)
	checkUsageMatches(t, report, spent)
}

// The models the OpenAI-backed worker of these tests asks for.
const (
	fakeChatModel      = "gpt-4o-mini"
	fakeEmbeddingModel = "text-embedding-3-small"
)

// newFakeOpenAI starts the OpenAI fake answering every stage validly, its
// embeddings the offline embedder's (near for similar texts).
func newFakeOpenAI(t *testing.T) *fakeopenai.Server {
	t.Helper()
	fake := fakeopenai.New(t)
	fake.SetContent(answerFromPrompt)
	emb := offline.NewEmbedder(0)
	fake.SetEmbeddings(func(input []string, _ int) [][]float32 {
		vectors, _, err := emb.Embed(t.Context(), input)
		apptest.Must(t, err, "offline embeddings")
		return vectors
	})
	return fake
}

// startFakeOpenAIWorker starts a system whose worker's providers are the
// fake's, with short retry delays, and a tenant with credits.
func startFakeOpenAIWorker(t *testing.T, fake *fakeopenai.Server, slug string, credits int64) pipelineAPI {
	t.Helper()
	_, _, api := startFakeOpenAISystem(t, fake, slug, credits)
	return api
}

// startFakeOpenAISystem is startFakeOpenAIWorker that also returns the
// harness and the tenant.
func startFakeOpenAISystem(t *testing.T, fake *fakeopenai.Server, slug string, credits int64) (*apptest.Harness, auth.TenantWithKey, pipelineAPI) {
	t.Helper()
	env := map[string]string{
		"OPENAI_API_KEY":              "sk-fake-key",
		"OPENAI_BASE_URL":             fake.BaseURL(),
		"OPENAI_MODEL":                fakeChatModel,
		"OPENAI_EMBEDDING_MODEL":      fakeEmbeddingModel,
		"OPENAI_EMBEDDING_DIMENSIONS": fmt.Sprint(offline.NewEmbedder(0).Dimensions()),
	}
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "50ms"), apptest.WithEnv("RETRY_MAX_DELAY", "200ms"))
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis URL")
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	models, err := providers.FromEnv(func(k string) string { return env[k] }, rdb, slog.New(slog.DiscardHandler))
	apptest.Must(t, err, "providers")
	h.StartWorker(t, models)
	tk, c := h.Tenant(t, slug, credits)
	return h, tk, pipelineAPI{t: t, c: c}
}

// startClustering starts a system on fake with a tenant, imports n
// keywords to a new site and starts its clustering; it returns the job's
// id with the rest.
func startClustering(t *testing.T, fake *fakeopenai.Server, slug string, n int) (pipelineAPI, store.Site, []string, string) {
	t.Helper()
	api := startFakeOpenAIWorker(t, fake, slug, 2000)
	site := api.site("Site "+slug, "https://"+slug+".example.com")
	phrases := faultKeywords(t, n)
	api.importPhrases(site.ID, phrases)
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	return api, site, phrases, acc.Jobs[0].ID
}

// importPhrases imports phrases as the site's keywords.
func (a pipelineAPI) importPhrases(siteID int64, phrases []string) {
	a.t.Helper()
	a.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", siteID),
		[]byte("phrase\n"+strings.Join(phrases, "\n")+"\n"), nil, "Content-Type", "text/csv")
}

// checkEmbeddedOnce checks that the provider served one embedding of each
// distinct text: the phrases and the sides of the comparisons among them
// (the fake counts a word a token).
func checkEmbeddedOnce(t *testing.T, fake *fakeopenai.Server, phrases []string) {
	t.Helper()
	sides, _ := cluster.ComparisonTexts(phrases)
	want := 0
	seen := map[string]bool{}
	for _, p := range slices.Concat(phrases, sides) {
		if !seen[p] {
			seen[p] = true
			want += len(strings.Fields(p))
		}
	}
	if got := fake.Spent()[fakeEmbeddingModel].PromptTokens; got != want {
		t.Errorf("the fake served %d embedding tokens, one embedding of each keyword is %d", got, want)
	}
}

// site registers a WordPress site (never called: these tests stop at
// drafts).
func (a pipelineAPI) site(name, url string) store.Site {
	a.t.Helper()
	var site store.Site
	a.do(http.MethodPost, "/v1/sites", map[string]string{"name": name, "url": url, "username": "editor",
		"application_password": "abcd efgh ijkl mnop"}, &site)
	return site
}

// faultKeywords returns n distinct keywords: the sample file's, then each
// with a modifier searchers add.
func faultKeywords(t *testing.T, n int) []string {
	t.Helper()
	data, err := os.ReadFile(sampleKeywordsPath(t))
	apptest.Must(t, err, "read the sample keywords")
	var base []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		base = append(base, strings.SplitN(line, ",", 2)[0])
	}
	seen := map[string]bool{}
	var out []string
	for _, mod := range []string{"%s", "best %s", "%s for beginners", "cheap %s", "%s guide", "%s tips"} {
		for _, b := range base {
			p := fmt.Sprintf(mod, b)
			if len(out) < n && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("only %d keywords, want %d", len(out), n)
	}
	return out
}

// TestClusterNameFallsBackAndResumes: a cluster whose name the model keeps
// refusing is named after its most central keyword, marked so; an attempt
// that dies on server errors halfway through naming is resumed by the
// job's retry, which embeds nothing again and asks for no name it already
// has.
func TestClusterNameFallsBackAndResumes(t *testing.T) {
	t.Parallel()
	fake := newFakeOpenAI(t)
	var mu sync.Mutex
	named, down := 0, true
	fake.SetFallback(func(w http.ResponseWriter, req *fakeopenai.Request) {
		if requestSchema(req) != "cluster_name" {
			fake.Normal(w, req)
			return
		}
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "espresso") {
			fakeopenai.Refusal("I can't help with coffee.")(w, req)
			return
		}
		mu.Lock()
		fail := down && named >= 5
		if !fail {
			named++
		}
		mu.Unlock()
		if fail {
			fakeopenai.ServerError()(w, req)
			return
		}
		fake.Normal(w, req)
	})
	api, site, phrases, jobID := startClustering(t, fake, "resume", 300)
	apptest.Eventually(t, time.Minute, "the first attempt fails while naming", func() (bool, error) {
		return api.job(jobID).LastError != nil, nil
	})
	mu.Lock()
	down = false
	mu.Unlock()
	job := api.waitJob(jobID)
	if job.Attempts < 2 {
		t.Errorf("the job took %d attempts, want a failed one first", job.Attempts)
	}
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	imported := map[string]bool{}
	for _, p := range phrases {
		imported[strings.ToLower(p)] = true
	}
	byModel, fallbacks := 0, 0
	for _, c := range clusters {
		switch c.NameSource {
		case store.NameByModel:
			byModel++
		case store.NameByFallback:
			fallbacks++
			if !imported[strings.ToLower(c.Name)] {
				t.Errorf("fallback name %q is none of the cluster's keywords", c.Name)
			}
		}
	}
	if fallbacks == 0 || byModel < 5 {
		t.Errorf("%d clusters named by the model and %d by fallback, want at least 5 and 1", byModel, fallbacks)
	}
	mu.Lock()
	defer mu.Unlock()
	if named != byModel {
		t.Errorf("the fake answered %d names for %d clusters named by the model: a name was paid twice", named, byModel)
	}
	checkEmbeddedOnce(t, fake, phrases)
}

// requestSchema is the JSON schema name a chat request asks for.
func requestSchema(req *fakeopenai.Request) string {
	var format struct {
		JSONSchema struct {
			Name string `json:"name"`
		} `json:"json_schema"`
	}
	_ = json.Unmarshal(req.ResponseFormat, &format)
	return format.JSONSchema.Name
}

// TestEmbeddingsResumeByChunk: a clustering whose second embeddings call
// fails through all its tries resumes, on the job's retry, with the
// vectors of the first call from the cache: each keyword is paid for once.
func TestEmbeddingsResumeByChunk(t *testing.T) {
	t.Parallel()
	fake := newFakeOpenAI(t)
	var calls atomic.Int32
	fake.SetFallback(func(w http.ResponseWriter, req *fakeopenai.Request) {
		// The first call answers; the next four (the second chunk's tries)
		// fail; the rest answer.
		if n := calls.Add(1); req.Endpoint == fakeopenai.EndpointEmbeddings && n >= 2 && n <= 5 {
			fakeopenai.ServerError()(w, req)
			return
		}
		fake.Normal(w, req)
	})
	api, _, phrases, jobID := startClustering(t, fake, "chunks", 700)
	job := api.waitJobFor(jobID, 2*time.Minute)
	if job.Attempts != 2 {
		t.Errorf("the job took %d attempts, want 2 (the first failed embedding)", job.Attempts)
	}
	checkEmbeddedOnce(t, fake, phrases)
}
