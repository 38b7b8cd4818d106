package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
)

// These tests run the stages of package ai (prompts, schema, one repair,
// validation) against the fake API through the real go-openai client.

const goodClusterName = `{"name":"Trail Running Shoes","description":"Choosing and comparing trail running shoes."}`

func sampleClusterNameInput() ai.ClusterNameInput {
	return ai.ClusterNameInput{
		SiteName: "Trail Blog",
		Keywords: []ai.KeywordInfo{{Phrase: "best trail running shoes"}, {Phrase: "trail shoes for beginners"}},
	}
}

func newWriter(t *testing.T, s *fakeopenai.Server) *ai.Writer {
	t.Helper()
	w, err := ai.NewWriter(newTextModel(t, testConfig(s)))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWriterNameCluster(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetContent(func(*fakeopenai.Request) string { return goodClusterName })
	got, usage, err := newWriter(t, s).NameCluster(context.Background(), sampleClusterNameInput())
	if err != nil {
		t.Fatal(err)
	}
	want := ai.ClusterName{Name: "Trail Running Shoes", Description: "Choosing and comparing trail running shoes."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NameCluster (-want +got):\n%s", diff)
	}
	if usage.Model != "gpt-4o-mini" || usage.PromptTokens == 0 || usage.CompletionTokens == 0 || usage.CostUSD <= 0 {
		t.Errorf("usage = %+v", usage)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	if !strings.Contains(reqs[0].Messages[1].Content, "best trail running shoes") {
		t.Errorf("user prompt = %q", reqs[0].Messages[1].Content)
	}
	format := jsonValue(t, reqs[0].ResponseFormat).(map[string]any)
	schema := format["json_schema"].(map[string]any)
	if format["type"] != "json_schema" || schema["name"] != "cluster_name" || schema["strict"] != true {
		t.Errorf("response_format = %s", reqs[0].ResponseFormat)
	}
}

func TestWriterRepairs(t *testing.T) {
	tests := []struct {
		name         string
		behaviors    []fakeopenai.Behavior
		wantRequests int
		wantErr      string // "" for success
	}{{
		name:         "invalid JSON twice",
		behaviors:    []fakeopenai.Behavior{fakeopenai.InvalidJSON(), fakeopenai.InvalidJSON()},
		wantRequests: 2,
		wantErr:      "cluster_name: the model's answer was unusable after one repair attempt: the answer is not JSON",
	}, {
		name:         "invalid JSON, then a refusal",
		behaviors:    []fakeopenai.Behavior{fakeopenai.InvalidJSON(), fakeopenai.Refusal("I can't help with that.")},
		wantRequests: 2,
		wantErr:      "cluster_name: the model's answer was unusable after one repair attempt: the model refused to answer (I can't help with that.)",
	}, {
		name:         "refusal twice",
		behaviors:    []fakeopenai.Behavior{fakeopenai.Refusal("I can't help with that."), fakeopenai.Refusal("I can't help with that.")},
		wantRequests: 2,
		wantErr:      "cluster_name: the model's answer was unusable after one repair attempt: the model refused to answer (I can't help with that.)",
	}, {
		name:         "refusal, then a good answer",
		behaviors:    []fakeopenai.Behavior{fakeopenai.Refusal("I can't help with that."), fakeopenai.Content(goodClusterName)},
		wantRequests: 2,
	}, {
		name:         "truncated, then a good answer",
		behaviors:    []fakeopenai.Behavior{fakeopenai.Truncated(`{"name":"Trail`), fakeopenai.Content(goodClusterName)},
		wantRequests: 2,
	}, {
		name:         "invalid JSON, then a good answer",
		behaviors:    []fakeopenai.Behavior{fakeopenai.InvalidJSON(), fakeopenai.Content(goodClusterName)},
		wantRequests: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.Push(tt.behaviors...)
			_, usage, err := newWriter(t, s).NameCluster(context.Background(), sampleClusterNameInput())
			reqs := s.Requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("requests = %d, want %d", len(reqs), tt.wantRequests)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if !errors.Is(err, errs.ErrPermanent) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a permanent error starting %q", err, tt.wantErr)
				}
			}
			if usage.PromptTokens == 0 {
				t.Errorf("usage = %+v, want the calls' tokens", usage)
			}
			if len(reqs) == 2 {
				first, second := reqs[0].Messages[1].Content, reqs[1].Messages[1].Content
				if !strings.HasPrefix(second, first) || !strings.Contains(second, "Your previous answer was invalid") {
					t.Errorf("repair prompt adds %q", strings.TrimPrefix(second, first))
				}
			}
		})
	}
}

func TestWriterTruncatedRepairGetsMoreTokens(t *testing.T) {
	s := fakeopenai.New(t)
	s.Push(fakeopenai.Truncated(`{"name":"Trail`), fakeopenai.Content(goodClusterName))
	if _, _, err := newWriter(t, s).NameCluster(context.Background(), sampleClusterNameInput()); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[1].MaxCompletionTokens <= reqs[0].MaxCompletionTokens {
		t.Errorf("max_completion_tokens: %d then %d, want more on the repair",
			reqs[0].MaxCompletionTokens, reqs[1].MaxCompletionTokens)
	}
}

func TestWriterThrottledPassesThrough(t *testing.T) {
	s := fakeopenai.New(t)
	s.Push(fakeopenai.RateLimited(http.Header{"Retry-After": {"12"}}))
	_, _, err := newWriter(t, s).NameCluster(context.Background(), sampleClusterNameInput())
	var te *errs.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter.Seconds() != 12 {
		t.Fatalf("err = %v, want throttled for 12s", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (no repair for a provider error)", n)
	}
}

// TestWriterDraftLongMetaTitleOneCall: a draft whose only fault is a
// 61-character meta title is cut at a word boundary, without a second
// request.
func TestWriterDraftLongMetaTitleOneCall(t *testing.T) {
	s := fakeopenai.New(t)
	const long = "How to Choose Trail Running Shoes: Grip, Fit and Terrain Tips" // 61 characters
	s.SetContent(func(r *fakeopenai.Request) string {
		var d map[string]any
		if err := json.Unmarshal([]byte((&fakeopenai.Writer{}).Answer(r)), &d); err != nil {
			t.Errorf("fake answer: %v", err)
		}
		d["meta_title"] = long
		b, _ := json.Marshal(d)
		return string(b)
	})
	in := ai.DraftInput{SiteName: "Trail Blog", ClusterName: "Trail shoes", Title: "Choosing trail running shoes",
		ContentType: "guide", TargetKeywords: []string{"trail running shoes"},
		Outline: []ai.Heading{{Level: 2, Text: "Know your terrain"}, {Level: 2, Text: "Fit and comfort"}}}
	got, _, err := newWriter(t, s).Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
	if want := "How to Choose Trail Running Shoes: Grip, Fit and Terrain"; got.MetaTitle != want {
		t.Errorf("meta title = %q, want %q", got.MetaTitle, want)
	}
}
