package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestModelsCommand (#23): "presswork models" adds, changes and routes
// catalogue models through the store, audited as the command line's;
// bad flags change nothing.
func TestModelsCommand(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := context.Background()
	models := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runModels(ctx, opened(h.App), args, &out)
		return out.String(), err
	}

	if out, err := models("add", "-provider", "offline", "-model", "offline-writer-v1", "-kind", "chat", "-name", "x"); err == nil {
		t.Errorf("adding a seeded model again succeeded: %s", out)
	}
	out, err := models("add", "-provider", "anthropic", "-model", "claude-haiku-4-5", "-kind", "chat", "-name", "Claude Haiku",
		"-input", "1", "-output", "5", "-rpm", "50", "-multiplier", "1.5", "-structured", "-plans", "pro,agency")
	if err != nil || !strings.Contains(out, "anthropic/claude-haiku-4-5 (chat)") {
		t.Fatalf("models add: %v\n%s", err, out)
	}
	m, err := h.App.Store.FindModel(ctx, "anthropic", "claude-haiku-4-5", "")
	apptest.Must(t, err, "find the model")
	if m.PriceOutputPerMTok != 5 || m.BatchOutputPrice() != 2.5 || m.RPM == nil || *m.RPM != 50 || m.CreditMultiplier != 1.5 ||
		!m.StructuredOutput || !slices.Equal(m.Plans, []string{"pro", "agency"}) {
		t.Errorf("added %+v", m)
	}

	for _, args := range [][]string{
		{"add", "-provider", "acme", "-model", "x", "-kind", "chat", "-name", "X"},
		{"add", "-provider", "openai", "-model", "x", "-kind", "chat"},
		{"set", "-model", "anthropic/claude-haiku-4-5", "-input", "-3"},
		{"set", "-model", "anthropic/claude-haiku-4-5", "-enable", "-disable"},
		{"set", "-model", "nobody/nothing", "-enable"},
		{"route", "-stage", "poems", "-model", "1"},
		{"route", "-stage", "draft", "-model", "offline/offline-wordnet-v1"},
		{"route", "-stage", "draft", "-model", "anthropic/claude-haiku-4-5", "-fallbacks", "openai/gpt-4o-mini"}, // disabled
		{"frobnicate"},
	} {
		if out, err := models(args...); err == nil {
			t.Errorf("models %v succeeded, want an error:\n%s", args, out)
		}
	}

	if _, err := models("set", "-model", "openai/gpt-4o-mini", "-enable", "-batch-input", "0.05"); err != nil {
		t.Fatalf("models set: %v", err)
	}
	out, err = models("route", "-stage", "draft", "-model", "anthropic/claude-haiku-4-5", "-fallbacks", "openai/gpt-4o-mini,1",
		"-on-throttle")
	if err != nil || !strings.Contains(out, "stage draft") {
		t.Fatalf("models route: %v\n%s", err, out)
	}
	rt, err := h.App.Store.GetRoute(ctx, "draft")
	apptest.Must(t, err, "get the route")
	mini, err := h.App.Store.FindModel(ctx, "openai", "gpt-4o-mini", "chat")
	apptest.Must(t, err, "find gpt-4o-mini")
	if rt.ModelID != m.ID || !slices.Equal(rt.FallbackIDs, []int64{mini.ID, 1}) || !rt.FallbackOnThrottle || mini.BatchInputPrice() != 0.05 {
		t.Errorf("route %+v, gpt-4o-mini %+v", rt, mini)
	}
	out, err = models("list")
	if err != nil || !strings.Contains(out, "anthropic/claude-haiku-4-5") || !strings.Contains(out, "draft") {
		t.Errorf("models list: %v\n%s", err, out)
	}

	entries, err := h.App.Store.AllAudit(ctx, 0, store.Page{Limit: 100})
	apptest.Must(t, err, "audit")
	var got []string
	for _, e := range entries {
		if e.Actor == "cli" {
			got = append(got, e.Action)
		}
	}
	for _, want := range []string{"model.create", "model.enable", "route.set"} {
		if !slices.Contains(got, want) {
			t.Errorf("cli audit entries %v lack %s", got, want)
		}
	}
}
