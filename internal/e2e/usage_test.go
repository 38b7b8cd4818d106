package e2e_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// callTries is how many times a model call meets a server error before
// the attempt fails (worker.callAttempts).
const callTries = 4

// usageReport is the part of GET /v1/usage this test reads.
type usageReport struct {
	Days  []store.UsageRow `json:"days"`
	Total store.UsageRow   `json:"total"`
}

// TestUsageEqualsProviderTotals runs a clustering, an ideas job whose first
// attempt fails after spending tokens (an invalid answer, then server
// errors on every try of the repair) and an ideas job that fails for good
// (four invalid answers: two runs of a call and its repair) against the
// OpenAI fake: GET /v1/usage reports what the fake
// says it served, model by model, embeddings under the embedding model.
func TestUsageEqualsProviderTotals(t *testing.T) {
	t.Parallel()
	fake := newFakeOpenAI(t)
	api := startFakeOpenAIWorker(t, fake, "usage", 500)
	site := api.site("Trail Kitchen", "https://trail.example.com")
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	if len(clusters) < 2 {
		t.Fatalf("got %d clusters, want at least 2", len(clusters))
	}

	// An invalid answer, then server errors on every try of its repair:
	// the attempt fails having paid for the first answer.
	fake.Push(fakeopenai.InvalidJSON())
	for range callTries {
		fake.Push(fakeopenai.ServerError())
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[0].ID}, "count": 2}, &acc)
	retried := api.waitJob(acc.Jobs[0].ID)
	if retried.Attempts < 2 {
		t.Errorf("the ideas job took %d attempts, want a failed one first", retried.Attempts)
	}

	// Invalid answers through both runs of the stage (a call and its
	// repair each): the job fails for good.
	fake.Push(fakeopenai.InvalidJSON(), fakeopenai.InvalidJSON(), fakeopenai.InvalidJSON(), fakeopenai.InvalidJSON())
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[1].ID}, "count": 2}, &acc)
	var failed store.Job
	apptest.Eventually(t, time.Minute, "the second ideas job fails", func() (bool, error) {
		failed = api.job(acc.Jobs[0].ID)
		return failed.Final(), nil
	})
	if failed.State != store.JobFailed || failed.TokensIn == 0 {
		t.Errorf("second ideas job: %s with %d tokens in, want failed with the tokens it spent", failed.State, failed.TokensIn)
	}

	report := api.usageOnceRecorded(fake.Spent())
	checkUsageMatches(t, report, fake.Spent())
	if report.Total.Jobs != 3 {
		t.Errorf("usage counts %d finished jobs, want 3", report.Total.Jobs)
	}
}

// usageOnceRecorded reads GET /v1/usage once it counts what the provider
// served, or after 10 s. A job's usage rows are written by the worker just
// after the job's final state (the attempt's whole spending, whatever its
// outcome), so a report read the moment a job ends may not have them yet.
func (a pipelineAPI) usageOnceRecorded(spent map[string]fakeopenai.Spent) usageReport {
	a.t.Helper()
	want := 0
	for _, s := range spent {
		want += s.PromptTokens + s.CompletionTokens
	}
	var report usageReport
	apptest.Eventually(a.t, 10*time.Second, "GET /v1/usage counts the provider's tokens", func() (bool, error) {
		report = usageReport{}
		a.do(http.MethodGet, "/v1/usage", nil, &report)
		return int(report.Total.TokensIn+report.Total.TokensOut) >= want, nil
	})
	return report
}

// checkUsageMatches compares the usage report, model by model, with what
// the provider served.
func checkUsageMatches(t *testing.T, report usageReport, spent map[string]fakeopenai.Spent) {
	t.Helper()
	got := map[string]fakeopenai.Spent{}
	for _, row := range report.Days {
		if row.TokensIn == 0 && row.TokensOut == 0 {
			continue
		}
		s := got[row.Model]
		s.PromptTokens += int(row.TokensIn)
		s.CompletionTokens += int(row.TokensOut)
		got[row.Model] = s
	}
	var wantIn, wantOut int
	for model, want := range spent {
		wantIn += want.PromptTokens
		wantOut += want.CompletionTokens
		if g := got[model]; g.PromptTokens != want.PromptTokens || g.CompletionTokens != want.CompletionTokens {
			t.Errorf("model %s: usage reports %d in / %d out, the provider served %d / %d",
				model, g.PromptTokens, g.CompletionTokens, want.PromptTokens, want.CompletionTokens)
		}
	}
	if len(got) != len(spent) {
		t.Errorf("usage reports models %v, the provider served %v", got, spent)
	}
	if report.Total.TokensIn != int64(wantIn) || report.Total.TokensOut != int64(wantOut) {
		t.Errorf("usage total %d in / %d out, the provider served %d / %d",
			report.Total.TokensIn, report.Total.TokensOut, wantIn, wantOut)
	}
	if spent["text-embedding-3-small"].PromptTokens == 0 {
		t.Errorf("the provider served no embeddings: %v", spent)
	}
}
