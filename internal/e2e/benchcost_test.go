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

// articleCostKeywords is how many keywords the cost-per-article runs
// start from.
const articleCostKeywords = 1000

// articleCost is what one run from keywords to drafts spent.
type articleCost struct {
	keywords, clusters, ideas, drafts int
	tokens                            int // every token the provider served: chat in and out, embeddings
	usd                               float64
	jobsFailed                        int
}

func (c *articleCost) add(o articleCost) {
	c.keywords += o.keywords
	c.clusters += o.clusters
	c.ideas += o.ideas
	c.drafts += o.drafts
	c.tokens += o.tokens
	c.usd += o.usd
	c.jobsFailed += o.jobsFailed
}

func (c articleCost) tokensPerDraft() float64 { return float64(c.tokens) / float64(max(c.drafts, 1)) }
func (c articleCost) usdPerDraft() float64    { return c.usd / float64(max(c.drafts, 1)) }

func (c articleCost) String() string {
	return fmt.Sprintf("%.0f tokens, $%.6f per draft (%d keywords, %d clusters, %d ideas, %d drafts, %d jobs failed)",
		c.tokensPerDraft(), c.usdPerDraft(), c.keywords, c.clusters, c.ideas, c.drafts, c.jobsFailed)
}

// benchCostPerArticle: tokens and USD (at the configured prices) per
// draft written, from 1,000 keywords to drafts (clustering, two ideas per
// cluster, a draft per idea; drafts of about 1,200 words) through the OpenAI fake, on a bad day (10%
// server errors, 10% invalid JSON, 5% answers cut off, 5% refusals)
// against a clean run. Target: the bad day costs at most 1.15x per draft.
func benchCostPerArticle(t *testing.T) string {
	clean := runArticleCost(t, "cost-clean", nil)
	var faulty articleCost
	for _, seed := range articleCostSeeds {
		mix := fakeopenai.BadDay(seed)
		faulty.add(runArticleCost(t, fmt.Sprintf("cost-faulty-%d", seed), &mix))
	}
	t.Logf("clean: %v; faulty: %v", clean, faulty)
	return fmt.Sprintf("| cost per article: 1000 keywords to drafts of ~1200 words through the OpenAI fake, on a bad day "+
		"(10%% server errors, 10%% invalid JSON, 5%% cut off, 5%% refusals; %d runs of different fault draws) | %v | clean run: %v | "+
		"%.2f in USD, %.2f in tokens (target <= 1.15) |", len(articleCostSeeds), faulty, clean,
		faulty.usdPerDraft()/clean.usdPerDraft(), faulty.tokensPerDraft()/clean.tokensPerDraft())
}

// articleCostSeeds seed the fault draws of the faulty runs, whose sums
// make the figure: one run's 20% of bad answers over ~180 calls varies by
// several percent.
var articleCostSeeds = []uint64{7, 8, 9}

// runArticleCost runs keywords to drafts for a new tenant against a new
// fake, with the faults of mix if not nil; failed jobs are counted, not
// retried.
func runArticleCost(t *testing.T, slug string, mix *fakeopenai.FaultMix) articleCost {
	fake := newFakeOpenAI(t)
	// Drafts as long as the prompt asks for: what a repair wastes is
	// weighed against a real article's cost.
	fake.SetContent((&fakeopenai.Writer{DraftWords: 1200}).Answer)
	fake.ForgetRequests()
	if mix != nil {
		fake.SetFallback(fakeopenai.NewFaults(fake, *mix).Behave)
	}
	api := startFakeOpenAIWorker(t, fake, slug, 100000)
	site := api.site("Cost Kitchen", "https://cost.example.com")
	phrases := faultKeywords(t, articleCostKeywords)
	api.importPhrases(site.ID, phrases)
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	cost := articleCost{keywords: len(phrases)}
	cost.jobsFailed += api.waitFinal(acc)

	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	cost.clusters = len(clusters)
	ids := make([]int64, len(clusters))
	for i, c := range clusters {
		ids[i] = c.ID
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": ids, "count": 2}, &acc)
	cost.jobsFailed += api.waitFinal(acc)

	var ideas []store.Idea
	api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", site.ID), &ideas)
	cost.ideas = len(ideas)
	ids = make([]int64, len(ideas))
	for i, idea := range ideas {
		ids[i] = idea.ID
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ids}, &acc)
	cost.jobsFailed += api.waitFinal(acc)

	var drafts []store.Draft
	api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", site.ID), &drafts)
	cost.drafts = len(drafts)
	for _, s := range fake.Spent() {
		cost.tokens += s.PromptTokens + s.CompletionTokens
	}
	report := api.usageOnceRecorded(fake.Spent())
	checkUsageMatches(t, report, fake.Spent())
	cost.usd = report.Total.CostUSD
	return cost
}

// waitFinal waits for jobs to end and returns how many failed.
func (a pipelineAPI) waitFinal(acc apptest.Accepted) int {
	a.t.Helper()
	failed := 0
	for _, j := range acc.Jobs {
		var job store.Job
		apptest.Eventually(a.t, 3*time.Minute, "job "+j.ID+" ends", func() (bool, error) {
			job = a.job(j.ID)
			return job.Final(), nil
		})
		if job.State != store.JobSucceeded {
			failed++
		}
	}
	return failed
}
