package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
)

// TestWriterAnswersEveryStage runs each stage through the real OpenAI
// client and the stages' validation against the fake server answering
// with the chaos run's writer, and checks the fakes' fault knobs.
func TestWriterAnswersEveryStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := fakeopenai.New(t)
	wr := &fakeopenai.Writer{SlugPrefix: "chaos-article-"}
	s.SetContent(wr.Answer)
	faults := &aiFaults{}
	s.SetFallback(faults.openAI(s))
	s.SetEmbeddings(embed)
	model, err := openai.NewTextModel(openai.Config{APIKey: "sk-test", BaseURL: s.BaseURL(), Model: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 64, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w, err := ai.NewWriter(model)
	if err != nil {
		t.Fatal(err)
	}
	kws := []ai.KeywordInfo{{Phrase: "sourdough starter"}, {Phrase: "sourdough starter feeding"}, {Phrase: "starter jar"}}
	if _, _, err := w.NameCluster(ctx, ai.ClusterNameInput{SiteName: "Bakery", Keywords: kws}); err != nil {
		t.Errorf("cluster name: %v", err)
	}
	ideas, _, err := w.Ideas(ctx, ai.IdeasInput{SiteName: "Bakery", ClusterName: "Sourdough starters",
		ClusterDescription: "Keeping a starter alive.", Keywords: kws, Count: 3})
	if err != nil || len(ideas) != 3 {
		t.Fatalf("ideas: %v (%d)", err, len(ideas))
	}
	d, _, err := w.Draft(ctx, ai.DraftInput{SiteName: "Bakery", ClusterName: "Sourdough starters", Title: ideas[0].Title,
		ContentType: ideas[0].ContentType, TargetKeywords: ideas[0].TargetKeywords, Outline: ideas[0].Outline})
	if err != nil {
		t.Fatalf("draft: %v", err)
	}
	if _, _, err := w.ImagePrompt(ctx, ai.ImagePromptInput{SiteName: "Bakery", Title: d.Title, FocusKeyword: d.FocusKeyword,
		Excerpt: d.Excerpt}); err != nil {
		t.Errorf("image prompt: %v", err)
	}
	if v := embed([]string{"a", "b"}, 64); len(v) != 2 || len(v[0]) != 64 {
		t.Errorf("embed: %d vectors", len(v))
	}

	// During a storm most requests are answered 429 with Retry-After.
	faults.mode.Store(aiStorm)
	throttled := 0
	for range 20 {
		resp, err := http.Post(s.BaseURL()+"/chat/completions", "application/json",
			stringsReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "" {
			throttled++
		}
	}
	if throttled < 8 {
		t.Errorf("%d of 20 requests throttled during a storm, want most", throttled)
	}
	r := fakereplicate.New(t)
	r.SetFallback(faults.replicate)
	if got := faults.replicate(); got.CreateStatus != http.StatusTooManyRequests && got.Polls != 1 {
		t.Errorf("storm script %+v", got)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
