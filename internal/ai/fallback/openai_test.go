package fallback_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/fallback"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/breaker"
)

// openAIModel returns a text model of the go-openai client on the fake
// server s.
func openAIModel(t *testing.T, s *fakeopenai.Server, model string) *openai.TextModel {
	t.Helper()
	m, err := openai.NewTextModel(openai.Config{APIKey: "sk-test-fallback-0123456789", BaseURL: s.BaseURL(),
		Model: model, EmbeddingModel: openai.DefaultEmbeddingModel, EmbeddingDimensions: 8, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFailingProviderOpensItsCircuit (#23): a provider failing 50% of
// requests with 500s opens its circuit once MinCalls calls were counted
// with half of them failed, after which the calls go straight to the
// fallback without reaching the failing server; every call answers, and
// its usage names the model that served it. Real HTTP through the go-openai
// client to two fake OpenAI servers, the breaker on Redis.
func TestFailingProviderOpensItsCircuit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	writer := &fakeopenai.Writer{}
	failing, healthy := fakeopenai.New(t), fakeopenai.New(t)
	for _, s := range []*fakeopenai.Server{failing, healthy} {
		s.SetContent(writer.Answer)
	}
	faults := fakeopenai.NewFaults(failing, fakeopenai.FaultMix{ServerError: 0.5, Seed: 23})
	failing.SetFallback(faults.Behave)

	primary, backup := openAIModel(t, failing, "gpt-4o-mini"), openAIModel(t, healthy, "gpt-4.1-mini")
	key := primary.Name()
	var mu sync.Mutex
	var opened []int // requests the failing server had when its circuit opened
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	b := newBreaker(t, clk, breaker.Config{}, func(k string, from, to breaker.State) {
		if k == key && to == breaker.Open {
			mu.Lock()
			opened = append(opened, len(failing.Requests()))
			mu.Unlock()
		}
	})
	chain, err := fallback.NewText([]fallback.Link{{Model: primary}, {Model: backup}}, b, fallback.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := ai.NewWriter(chain)
	if err != nil {
		t.Fatal(err)
	}
	in := ai.ClusterNameInput{SiteName: "Trail Blog", Keywords: []ai.KeywordInfo{{Phrase: "trail running shoes"}}}
	// name names a cluster through the chain and reports whether the
	// fallback served it; the usage must name the model that did.
	name := func() bool {
		t.Helper()
		before := len(healthy.Requests())
		got, usage, err := w.NameCluster(ctx, in)
		if err != nil || got.Name != "All about trail running shoes" {
			t.Fatalf("NameCluster: %+v, %v; want the fake model's answer", got, err)
		}
		byBackup := len(healthy.Requests()) > before
		want := "gpt-4o-mini"
		if byBackup {
			want = "gpt-4.1-mini"
		}
		if usage.Model != want || usage.PromptTokens == 0 {
			t.Fatalf("usage %+v, want tokens under %s, which served", usage, want)
		}
		return byBackup
	}

	// Until the circuit opens, every call tries the failing provider first.
	fallbacks := 0
	for calls := 1; ; calls++ {
		if name() {
			fallbacks++
		}
		s, err := b.Stats(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if s.State == breaker.Open {
			break
		}
		if calls == 100 {
			t.Fatalf("circuit still closed after 100 calls, %v of the primary's requests failed", faults.Counts())
		}
	}
	mu.Lock()
	if len(opened) != 1 || opened[0] < breaker.DefaultMinCalls {
		t.Fatalf("opened %v: want once, after at least %d requests", opened, breaker.DefaultMinCalls)
	}
	mu.Unlock()
	failed := faults.Counts()[fakeopenai.FaultServerError]
	t.Logf("the circuit opened after %d requests to the failing server, %d of them failed", len(failing.Requests()), failed)
	if failed != fallbacks {
		t.Errorf("%d calls served by the fallback, want one per server error of the primary, %d", fallbacks, failed)
	}
	if sent := len(failing.Requests()); float64(failed) < breaker.DefaultRatio*float64(sent) {
		t.Fatalf("opened after %d failures of %d requests, under the ratio %v", failed, sent, breaker.DefaultRatio)
	}

	// Open: 40 calls from 8 goroutines all go to the fallback, none to the
	// failing server, and every one answers under the fallback's model.
	sent := len(failing.Requests())
	served := len(healthy.Requests())
	var wg sync.WaitGroup
	errc := make(chan error, 40)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				_, usage, err := w.NameCluster(ctx, in)
				if err == nil && usage.Model != "gpt-4.1-mini" {
					err = fmt.Errorf("usage names %q, want gpt-4.1-mini", usage.Model)
				}
				errc <- err
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("with the circuit open: %v", err)
		}
	}
	if n := len(failing.Requests()); n != sent {
		t.Errorf("the failing server got %d requests with its circuit open, want none", n-sent)
	}
	if n := len(healthy.Requests()) - served; n != 40 {
		t.Errorf("the fallback served %d calls, want 40", n)
	}

	// After the cooldown the failing server gets one probe; the chain
	// answers whatever it says.
	clk.Advance(breaker.DefaultCooldown)
	name()
	if n := len(failing.Requests()); n != sent+1 {
		t.Errorf("after the cooldown the failing server got %d requests, want one probe", n-sent)
	}
}

// TestEmbeddingsFallBackToAzure: text-embedding-3-small through OpenAI and
// through an Azure deployment of it are one family; with OpenAI failing,
// the Azure deployment embeds, the chain keeps OpenAI's name (the cache's
// key), and OpenAI's circuit opens after MinCalls failures.
func TestEmbeddingsFallBackToAzure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	down, azure := fakeopenai.New(t), fakeopenai.New(t)
	down.SetFallback(fakeopenai.ServerError())
	primary, err := openai.NewEmbedder(openai.Config{APIKey: "sk-test-fallback-0123456789", BaseURL: down.BaseURL(),
		Model: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 8, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	backup, err := openai.NewEmbedder(openai.Config{APIType: openai.APITypeAzure, APIKey: "azure-test-key-0123456789",
		AzureEndpoint: azure.URL, APIVersion: openai.DefaultAzureAPIVersion,
		AzureDeployments: map[string]string{"text-embedding-3-small": "emb-small"},
		Model:            "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 8, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	b := newBreaker(t, clk, breaker.Config{}, nil)
	e, err := fallback.NewEmbedder([]fallback.EmbedLink{{Embedder: primary}, {Embedder: backup}}, b, fallback.Options{})
	if err != nil {
		t.Fatalf("OpenAI and Azure's text-embedding-3-small refused as one family: %v", err)
	}
	if e.Name() != primary.Name() || e.Dimensions() != 8 {
		t.Errorf("chain %s/%d, want the primary's name and dimensions", e.Name(), e.Dimensions())
	}
	for i := range 12 {
		text := fmt.Sprintf("trail shoes %d", i)
		vecs, usage, err := e.Embed(ctx, []string{text})
		if err != nil || len(vecs) != 1 {
			t.Fatalf("call %d: %d vectors, %v", i+1, len(vecs), err)
		}
		if diff := cmp.Diff(fakeopenai.Vector(text, 8), vecs[0]); diff != "" {
			t.Fatalf("call %d: vector (-want +got):\n%s", i+1, diff)
		}
		if usage.Model != "text-embedding-3-small" || usage.PromptTokens == 0 {
			t.Fatalf("call %d: usage %+v", i+1, usage)
		}
	}
	if n := len(down.Requests()); n != breaker.DefaultMinCalls {
		t.Errorf("the failing provider got %d requests, want %d (then its circuit opened)", n, breaker.DefaultMinCalls)
	}
	reqs := azure.Requests()
	if len(reqs) != 12 || reqs[0].Deployment != "emb-small" {
		t.Errorf("Azure got %d requests (first for deployment %q), want 12 for emb-small", len(reqs), reqs[0].Deployment)
	}
}
