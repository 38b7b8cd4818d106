package ai

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFirstRequestCallsNoModel(t *testing.T) {
	ctx := context.Background()
	m := answers()
	w := newWriter(t, m)
	in := sampleClusterNameInput()
	req, err := FirstRequest(w, func(w *Writer) error { _, _, err := w.NameCluster(ctx, in); return err })
	if err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 0 {
		t.Errorf("the model was called %d times", len(m.calls))
	}

	// It is the request the stage sends.
	live := answers(JSONResponse{Content: jsonOf(t, ClusterName{Name: "Trail shoes", Description: "Shoes."})})
	if _, _, err := newWriter(t, live).NameCluster(ctx, in); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(RequestKey(live.calls[0]), RequestKey(req)); diff != "" || req.Prompt == "" {
		t.Errorf("captured request differs from the one sent: %+v", req)
	}

	// A stage that fails before its call returns its error.
	_, err = FirstRequest(w, func(w *Writer) error { _, _, err := w.NameCluster(ctx, ClusterNameInput{}); return err })
	if err == nil || errors.Is(err, errCaptured) {
		t.Errorf("invalid input: err = %v", err)
	}
}

// An answer obtained ahead of time goes through the stage's validation and
// repair: a good one makes no call, an invalid one is repaired live.
func TestWithAnswer(t *testing.T) {
	ctx := context.Background()
	in := sampleClusterNameInput()
	good := ClusterName{Name: "Trail shoes", Description: "Shoes for trails."}
	req, err := FirstRequest(newWriter(t, answers()), func(w *Writer) error { _, _, err := w.NameCluster(ctx, in); return err })
	if err != nil {
		t.Fatal(err)
	}
	key := RequestKey(req)
	batchUsage := Usage{Model: "m1", PromptTokens: 100, CompletionTokens: 20, CostUSD: 0.0005}

	tests := []struct {
		name      string
		answer    JSONResponse
		key       string
		liveCalls int
	}{
		{"valid answer", JSONResponse{Content: jsonOf(t, good), Usage: batchUsage}, key, 0},
		{"invalid answer repaired", JSONResponse{Content: []byte(`{"name":""}`), Usage: batchUsage}, key, 1},
		{"refusal repaired", JSONResponse{Refusal: "no", Usage: batchUsage}, key, 1},
		{"request changed since", JSONResponse{Content: jsonOf(t, good), Usage: batchUsage}, "other", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := answers(JSONResponse{Content: jsonOf(t, good), Usage: Usage{Model: "m1", CostUSD: 0.001}})
			got, usage, err := newWriter(t, live).WithAnswer(tt.key, tt.answer).NameCluster(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(good, got); diff != "" {
				t.Errorf("NameCluster (-want +got):\n%s", diff)
			}
			if len(live.calls) != tt.liveCalls {
				t.Errorf("live calls = %d, want %d", len(live.calls), tt.liveCalls)
			}
			wantCost := 0.001 * float64(tt.liveCalls)
			if tt.key == key {
				wantCost += batchUsage.CostUSD
			}
			if diff := cmp.Diff(wantCost, usage.CostUSD, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("cost (-want +got):\n%s", diff)
			}
		})
	}
}
