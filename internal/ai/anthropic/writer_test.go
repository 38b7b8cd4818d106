package anthropic_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
)

// These tests run the stages of package ai (prompts, schemas, one repair,
// validation) against the fake API through the real SDK.

func newWriter(t *testing.T, s *fakeanthropic.Server) *ai.Writer {
	t.Helper()
	w, err := ai.NewWriter(newTextModel(t, testConfig(s)))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWriterStages runs every stage on answers written from the prompts,
// as the pipeline does on a real model.
func TestWriterStages(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetContent(fakeanthropic.WriterContent(&fakeopenai.Writer{}))
	w := newWriter(t, s)
	ctx := context.Background()
	kws := []ai.KeywordInfo{{Phrase: "best trail running shoes"}, {Phrase: "trail shoes for beginners"}}

	name, usage, err := w.NameCluster(ctx, ai.ClusterNameInput{SiteName: "Trail Blog", Keywords: kws})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(name.Name, "best trail running shoes") || usage.Model != "claude-haiku-4-5" || usage.CostUSD <= 0 {
		t.Errorf("cluster name %+v, usage %+v", name, usage)
	}
	ideas, _, err := w.Ideas(ctx, ai.IdeasInput{SiteName: "Trail Blog", ClusterName: name.Name,
		ClusterDescription: name.Description, Keywords: kws, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ideas) != 2 {
		t.Fatalf("ideas = %+v, want 2", ideas)
	}
	idea := ideas[0]
	draft, _, err := w.Draft(ctx, ai.DraftInput{SiteName: "Trail Blog", ClusterName: name.Name, Title: idea.Title,
		ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: idea.Outline})
	if err != nil {
		t.Fatal(err)
	}
	if draft.Title != idea.Title || !strings.Contains(draft.BodyHTML, "<h2>") {
		t.Errorf("draft %+v", draft)
	}
	img, _, err := w.ImagePrompt(ctx, ai.ImagePromptInput{SiteName: "Trail Blog", Title: draft.Title,
		FocusKeyword: draft.FocusKeyword, Excerpt: draft.Excerpt})
	if err != nil {
		t.Fatal(err)
	}
	if img.Prompt == "" || img.AltText == "" {
		t.Errorf("image prompt %+v", img)
	}
	var tools []string
	for _, r := range s.Requests() {
		tools = append(tools, r.ForcedTool())
	}
	if got := strings.Join(tools, ","); got != "cluster_name,idea_list,draft,image_prompt" {
		t.Errorf("forced tools %s", got)
	}
}

func TestWriterRepairs(t *testing.T) {
	const good = `{"name":"Trail Running Shoes","description":"Choosing and comparing trail running shoes."}`
	tests := []struct {
		name      string
		behaviors []fakeanthropic.Behavior
		wantErr   string // "" for success
	}{{
		name:      "refusal, then a good answer",
		behaviors: []fakeanthropic.Behavior{fakeanthropic.Refusal("No."), fakeanthropic.Content(good)},
	}, {
		name:      "cut off, then a good answer",
		behaviors: []fakeanthropic.Behavior{fakeanthropic.Truncated(`{"name":"Trail"}`), fakeanthropic.Content(good)},
	}, {
		name:      "refusal twice",
		behaviors: []fakeanthropic.Behavior{fakeanthropic.Refusal("No."), fakeanthropic.Refusal("No.")},
		wantErr:   "cluster_name: the model's answer was unusable after one repair attempt: the model refused to answer (No.)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeanthropic.New(t)
			s.Push(tt.behaviors...)
			_, _, err := newWriter(t, s).NameCluster(context.Background(), ai.ClusterNameInput{SiteName: "Trail Blog",
				Keywords: []ai.KeywordInfo{{Phrase: "best trail running shoes"}}})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (!errors.Is(err, errs.ErrPermanent) || !strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want a permanent error starting %q", err, tt.wantErr)
			}
			reqs := s.Requests()
			if len(reqs) != 2 {
				t.Fatalf("requests = %d, want 2", len(reqs))
			}
			if !strings.Contains(reqs[1].Prompt(), "Your previous answer was invalid") {
				t.Errorf("repair prompt = %q", reqs[1].Prompt())
			}
		})
	}
}

func TestWriterOverloadedPassesThrough(t *testing.T) {
	s := fakeanthropic.New(t)
	s.Push(fakeanthropic.Overloaded(http.Header{"Retry-After": {"12"}}))
	_, _, err := newWriter(t, s).NameCluster(context.Background(), ai.ClusterNameInput{SiteName: "Trail Blog",
		Keywords: []ai.KeywordInfo{{Phrase: "best trail running shoes"}}})
	var te *errs.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter.Seconds() != 12 {
		t.Fatalf("err = %v, want throttled for 12s", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (no repair for a provider error)", n)
	}
}
