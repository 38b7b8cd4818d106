package ai

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNameClusterSuccess(t *testing.T) {
	want := ClusterName{Name: "Trail Running Shoes", Description: "Choosing and comparing trail running shoes."}
	m := answers(JSONResponse{
		Content: jsonOf(t, ClusterName{Name: "  " + want.Name + " ", Description: want.Description}),
		Usage:   Usage{Model: "m1", PromptTokens: 100, CompletionTokens: 20, CostUSD: 0.001},
	})
	in := sampleClusterNameInput()
	got, usage, err := newWriter(t, m).NameCluster(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NameCluster (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Usage{Model: "m1", PromptTokens: 100, CompletionTokens: 20, CostUSD: 0.001}, usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if len(m.calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(m.calls))
	}
	req := m.calls[0]
	if req.Stage != StageClusterName || req.SchemaName != "cluster_name" || req.MaxTokens <= 0 {
		t.Errorf("request = stage %q schema %q max tokens %d", req.Stage, req.SchemaName, req.MaxTokens)
	}
	if !json.Valid(req.Schema) {
		t.Errorf("schema is not valid JSON: %s", req.Schema)
	}
	if diff := cmp.Diff(any(in), req.Input); diff != "" {
		t.Errorf("request input (-want +got):\n%s", diff)
	}
	if !strings.Contains(req.Prompt, "best trail running shoes for beginners") || req.System == "" {
		t.Errorf("prompt does not contain the keywords:\n%s", req.Prompt)
	}
}

func TestValidateClusterName(t *testing.T) {
	tests := []struct {
		name string
		in   ClusterName
		want []string
	}{
		{"ok", ClusterName{Name: "Trail Shoes", Description: "About trail shoes."}, nil},
		{"empty", ClusterName{}, []string{"name", "description"}},
		{"blank", ClusterName{Name: "  ", Description: "\n"}, []string{"name", "description"}},
		{"80 runes ok", ClusterName{Name: strings.Repeat("é", 80), Description: strings.Repeat("ü", 300)}, nil},
		{"too long", ClusterName{Name: strings.Repeat("é", 81), Description: strings.Repeat("ü", 301)}, []string{"name", "description"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemFields(t, ValidateClusterName(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
