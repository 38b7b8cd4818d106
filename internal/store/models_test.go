package store_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// seeded returns the seeded model provider/model of kind.
func seeded(t *testing.T, st *store.Store, provider, model, kind string) store.AIModel {
	t.Helper()
	m, err := st.FindModel(t.Context(), provider, model, kind)
	if err != nil {
		t.Fatalf("FindModel(%s/%s): %v", provider, model, err)
	}
	return m
}

func enable(t *testing.T, st *store.Store, id int64) store.AIModel {
	t.Helper()
	m, err := st.UpdateModel(t.Context(), id, store.ModelFields{Enabled: ptr(true)})
	if err != nil {
		t.Fatalf("enable model %d: %v", id, err)
	}
	return m
}

// invalidField reports whether err is a validation error naming field.
func invalidField(err error, field string) bool {
	var ve *errs.ValidationError
	return errors.As(err, &ve) && slices.ContainsFunc(ve.Problems, func(p errs.FieldProblem) bool { return p.Field == field })
}

// TestModelCatalogueSeed: the migration seeds the offline models, routed
// to every stage, and OpenAI's defaults at their list prices, disabled.
func TestModelCatalogueSeed(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	routes, err := st.ListRoutes(ctx)
	if err != nil {
		t.Fatalf("ListRoutes: %v", err)
	}
	var stages []string
	for _, r := range routes {
		stages = append(stages, r.Stage)
		m, err := st.GetModel(ctx, r.ModelID)
		if err != nil || m.Provider != "offline" || !m.Enabled {
			t.Errorf("stage %s routes to %+v (%v), want an enabled offline model", r.Stage, m, err)
		}
	}
	if !slices.Equal(stages, store.ModelStages) {
		t.Errorf("routes for %v, want %v", stages, store.ModelStages)
	}
	mini := seeded(t, st, "openai", "gpt-4o-mini", "chat")
	if mini.Enabled || mini.PriceInputPerMTok != 0.15 || mini.PriceOutputPerMTok != 0.60 || !mini.StructuredOutput ||
		mini.CreditMultiplier != 1 || mini.Plans != nil {
		t.Errorf("seeded gpt-4o-mini: %+v", mini)
	}
	chain, err := st.StageChainFor(ctx, 0, "draft")
	if err != nil || len(chain.Models) != 1 || chain.Models[0].Model != "offline-writer-v1" || chain.TenantChoice {
		t.Errorf("draft chain without a tenant: %+v (%v)", chain, err)
	}
}

func TestModelCost(t *testing.T) {
	m := store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, PricePerImage: 0.04}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-12 }
	for _, tc := range []struct {
		u    store.ModelUsage
		want float64
	}{
		{store.ModelUsage{InputTokens: 1_000_000, OutputTokens: 500_000}, 2 + 4},
		{store.ModelUsage{InputTokens: 1_000_000, OutputTokens: 500_000, Batch: true}, 1 + 2},
		{store.ModelUsage{Images: 3}, 0.12},
		{store.ModelUsage{Images: 3, Batch: true}, 0.12},
	} {
		if got := m.CostUSD(tc.u); !near(got, tc.want) {
			t.Errorf("CostUSD(%+v) = %v, want %v", tc.u, got, tc.want)
		}
	}
	bi, bo := 0.5, 7.0
	m.BatchPriceInputPerMTok, m.BatchPriceOutputPerMTok = &bi, &bo
	if got := m.CostUSD(store.ModelUsage{InputTokens: 2_000_000, OutputTokens: 1_000_000, Batch: true}); !near(got, 1+7) {
		t.Errorf("batch cost at catalogue batch prices = %v, want 8", got)
	}
}

func TestModelCredits(t *testing.T) {
	for _, tc := range []struct {
		mult float64
		base int64
		want int64
	}{{1, 3, 3}, {1.5, 3, 5}, {1.1, 10, 11}, {0.5, 3, 2}, {0.01, 3, 1}, {2, 0, 0}, {0, 3, 3}} {
		if got := (store.AIModel{CreditMultiplier: tc.mult}).Credits(tc.base); got != tc.want {
			t.Errorf("Credits(%d) at x%g = %d, want %d", tc.base, tc.mult, got, tc.want)
		}
	}
}

func TestModelCRUD(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	f := store.ModelFields{Provider: ptr("anthropic"), Model: ptr("claude-sonnet-4-5"), Kind: ptr("chat"),
		DisplayName: ptr("  Claude Sonnet  "), PriceInputPerMTok: ptr(3.0), PriceOutputPerMTok: ptr(15.0),
		RPM: store.Null(ptr(50)), CreditMultiplier: ptr(2.5), Plans: store.Null(&[]string{"pro", "agency"})}
	m, err := st.CreateModel(ctx, f)
	if err != nil {
		t.Fatalf("CreateModel: %v", err)
	}
	if m.DisplayName != "Claude Sonnet" || !m.Enabled || m.RPM == nil || *m.RPM != 50 || m.TPM != nil ||
		m.CreditMultiplier != 2.5 || !slices.Equal(m.Plans, []string{"pro", "agency"}) {
		t.Errorf("created %+v", m)
	}
	if _, err := st.CreateModel(ctx, f); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("the same model again: %v, want a conflict", err)
	}
	for field, bad := range map[string]store.ModelFields{
		"provider":             {Provider: ptr("acme"), Model: ptr("x"), Kind: ptr("chat"), DisplayName: ptr("X")},
		"kind":                 {Provider: ptr("openai"), Model: ptr("x"), Kind: ptr("audio"), DisplayName: ptr("X")},
		"model":                {Provider: ptr("openai"), Model: ptr("gpt 4"), Kind: ptr("chat"), DisplayName: ptr("X")},
		"display_name":         {Provider: ptr("openai"), Model: ptr("x"), Kind: ptr("chat"), DisplayName: ptr(" ")},
		"price_input_per_mtok": {Provider: ptr("openai"), Model: ptr("x"), Kind: ptr("chat"), DisplayName: ptr("X"), PriceInputPerMTok: ptr(-1.0)},
		"credit_multiplier":    {Provider: ptr("openai"), Model: ptr("x"), Kind: ptr("chat"), DisplayName: ptr("X"), CreditMultiplier: ptr(0.0)},
		"plans[1]":             {Provider: ptr("openai"), Model: ptr("x"), Kind: ptr("chat"), DisplayName: ptr("X"), Plans: store.Null(&[]string{"pro", "gold"})},
	} {
		if _, err := st.CreateModel(ctx, bad); !invalidField(err, field) {
			t.Errorf("create with a bad %s: %v", field, err)
		}
	}

	// A change keeps what it does not name; null clears a nullable column.
	m, err = st.UpdateModel(ctx, m.ID, store.ModelFields{RPM: store.Null[int](nil), BatchPriceInputPerMTok: store.Null(ptr(1.0)),
		Plans: store.Null[[]string](nil)})
	if err != nil || m.RPM != nil || m.BatchInputPrice() != 1 || m.BatchOutputPrice() != 7.5 || m.Plans != nil || m.PriceInputPerMTok != 3 {
		t.Errorf("after a change: %+v (%v)", m, err)
	}
	if _, err := st.UpdateModel(ctx, m.ID, store.ModelFields{Kind: ptr("image")}); !invalidField(err, "kind") {
		t.Errorf("changing the kind: %v, want it refused naming kind", err)
	}
	if _, err := st.UpdateModel(ctx, 999999, store.ModelFields{Enabled: ptr(false)}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("changing no model: %v, want not found", err)
	}

	// A routed model can be neither disabled nor deleted; the error names the stage.
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "ideas", ModelID: m.ID}); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	if _, err := st.UpdateModel(ctx, m.ID, store.ModelFields{Enabled: ptr(false)}); !errors.Is(err, errs.ErrConflict) ||
		!strings.Contains(err.Error(), "ideas") {
		t.Errorf("disabling a routed model: %v, want a conflict naming ideas", err)
	}
	if err := st.DeleteModel(ctx, m.ID); !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "ideas") {
		t.Errorf("deleting a routed model: %v, want a conflict naming ideas", err)
	}
	writer := seeded(t, st, "offline", "offline-writer-v1", "chat")
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "ideas", ModelID: writer.ID, FallbackIDs: []int64{m.ID}}); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	if err := st.DeleteModel(ctx, m.ID); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("deleting a fallback: %v, want a conflict", err)
	}
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "ideas", ModelID: writer.ID}); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	if err := st.DeleteModel(ctx, m.ID); err != nil {
		t.Errorf("deleting an unrouted model: %v", err)
	}
	if _, err := st.GetModel(ctx, m.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetModel after delete: %v, want not found", err)
	}
}

func TestSetRouteChecks(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	writer := seeded(t, st, "offline", "offline-writer-v1", "chat")
	wordnet := seeded(t, st, "offline", "offline-wordnet-v1", "embeddings")
	mini := seeded(t, st, "openai", "gpt-4o-mini", "chat") // disabled
	small := enable(t, st, seeded(t, st, "openai", "text-embedding-3-small", "embeddings").ID)
	azureSmall, err := st.CreateModel(ctx, store.ModelFields{Provider: ptr("azure"), Model: ptr("text-embedding-3-small"),
		Kind: ptr("embeddings"), DisplayName: ptr("Azure embeddings")})
	if err != nil {
		t.Fatalf("CreateModel: %v", err)
	}
	for _, tc := range []struct {
		name  string
		route store.StageRoute
		field string
	}{
		{"kind of the default", store.StageRoute{Stage: "draft", ModelID: wordnet.ID}, "model_id"},
		{"missing default", store.StageRoute{Stage: "draft", ModelID: 999999}, "model_id"},
		{"disabled default", store.StageRoute{Stage: "draft", ModelID: mini.ID}, "model_id"},
		{"kind of a fallback", store.StageRoute{Stage: "draft", ModelID: writer.ID, FallbackIDs: []int64{wordnet.ID}}, "fallback_ids[0]"},
		{"disabled fallback", store.StageRoute{Stage: "draft", ModelID: writer.ID, FallbackIDs: []int64{mini.ID}}, "fallback_ids[0]"},
		{"default as fallback", store.StageRoute{Stage: "draft", ModelID: writer.ID, FallbackIDs: []int64{writer.ID}}, "fallback_ids[0]"},
		{"embeddings of another model", store.StageRoute{Stage: "embeddings", ModelID: small.ID, FallbackIDs: []int64{wordnet.ID}}, "fallback_ids[0]"},
	} {
		if _, err := st.SetRoute(ctx, tc.route); !invalidField(err, tc.field) {
			t.Errorf("%s: %v, want a problem naming %s", tc.name, err, tc.field)
		}
	}
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "translation", ModelID: writer.ID}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("an unknown stage: %v, want not found", err)
	}
	// The same embeddings model from another provider is a fallback.
	rt, err := st.SetRoute(ctx, store.StageRoute{Stage: "embeddings", ModelID: small.ID, FallbackIDs: []int64{azureSmall.ID},
		FallbackOnThrottle: true})
	if err != nil || !slices.Equal(rt.FallbackIDs, []int64{azureSmall.ID}) || !rt.FallbackOnThrottle {
		t.Fatalf("embeddings route: %+v (%v)", rt, err)
	}
	chain, err := st.StageChainFor(ctx, 0, "embeddings")
	if err != nil || len(chain.Models) != 2 || chain.Models[0].ID != small.ID || chain.Models[1].ID != azureSmall.ID ||
		!chain.FallbackOnThrottle {
		t.Errorf("embeddings chain: %+v (%v)", chain, err)
	}
}

// TestTenantChoices: a tenant chooses among the enabled models its plan
// allows; its chain starts with its choice, then the route's fallbacks; a
// disabled choice falls back to the operator's default.
func TestTenantChoices(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0) // plan pro
	other := newTenant(t, st, 0)
	writer := seeded(t, st, "offline", "offline-writer-v1", "chat")
	mini := seeded(t, st, "openai", "gpt-4o-mini", "chat")
	nano := enable(t, st, seeded(t, st, "openai", "gpt-4.1-nano", "chat").ID)
	agencyOnly, err := st.CreateModel(ctx, store.ModelFields{Provider: ptr("openai"), Model: ptr("gpt-4o"), Kind: ptr("image"),
		DisplayName: ptr("Agency images"), Plans: store.Null(&[]string{"agency"})})
	if err != nil {
		t.Fatalf("CreateModel: %v", err)
	}
	image := seeded(t, st, "offline", "offline-image-v1", "image")
	wordnet := seeded(t, st, "offline", "offline-wordnet-v1", "embeddings")

	models, err := st.TenantModels(ctx, tn.ID)
	if err != nil {
		t.Fatalf("TenantModels: %v", err)
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Name())
	}
	if want := []string{"offline/offline-writer-v1", "openai/gpt-4.1-nano", "offline/offline-image-v1"}; !slices.Equal(names, want) {
		t.Errorf("a pro tenant may choose %v, want %v", names, want)
	}

	for _, tc := range []struct {
		choice store.TenantChoice
		field  string
	}{
		{store.TenantChoice{Stage: "draft", ModelID: mini.ID}, "draft"},              // disabled
		{store.TenantChoice{Stage: "draft", ModelID: image.ID}, "draft"},             // kind
		{store.TenantChoice{Stage: "images", ModelID: agencyOnly.ID}, "images"},      // plan
		{store.TenantChoice{Stage: "embeddings", ModelID: wordnet.ID}, "embeddings"}, // operator's
		{store.TenantChoice{Stage: "poems", ModelID: writer.ID}, "poems"},
	} {
		if _, err := st.SetTenantChoices(ctx, tn.ID, []store.TenantChoice{tc.choice}); !invalidField(err, tc.field) {
			t.Errorf("choice %+v: %v, want a problem naming %s", tc.choice, err, tc.field)
		}
	}
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "draft", ModelID: writer.ID, FallbackIDs: []int64{nano.ID}}); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	got, err := st.SetTenantChoices(ctx, tn.ID, []store.TenantChoice{{Stage: "draft", ModelID: nano.ID}})
	if err != nil || len(got) != 1 || got[0] != (store.TenantChoice{Stage: "draft", ModelID: nano.ID}) {
		t.Fatalf("SetTenantChoices: %+v (%v)", got, err)
	}
	chain, err := st.StageChainFor(ctx, tn.ID, "draft")
	if err != nil || !chain.TenantChoice || len(chain.Models) != 1 || chain.Models[0].ID != nano.ID {
		t.Errorf("draft chain of the tenant: %+v (%v), want its choice alone (the fallback is the same model)", chain, err)
	}
	chain, err = st.StageChainFor(ctx, other.ID, "draft")
	if err != nil || chain.TenantChoice || len(chain.Models) != 2 || chain.Models[0].ID != writer.ID || chain.Models[1].ID != nano.ID {
		t.Errorf("draft chain of another tenant: %+v (%v), want the default then the fallback", chain, err)
	}
	// Several stages at once: the routed ones only (embeddings keeps its
	// seeded route), each as RoutedChainFor gives it.
	for _, id := range []int64{tn.ID, other.ID} {
		chains, err := st.RoutedChainsFor(ctx, id, []string{"draft", "embeddings"})
		one, ok, oneErr := st.RoutedChainFor(ctx, id, "draft")
		if err != nil || oneErr != nil || !ok || len(chains) != 1 || !reflect.DeepEqual(chains["draft"], one) {
			t.Errorf("tenant %d: RoutedChainsFor %+v (%v), want only draft, as RoutedChainFor's %+v (%v)", id, chains, err, one, oneErr)
		}
	}
	// Disabled, the choice is not served (and no longer a fallback).
	if _, err := st.SetRoute(ctx, store.StageRoute{Stage: "draft", ModelID: writer.ID}); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	if _, err := st.UpdateModel(ctx, nano.ID, store.ModelFields{Enabled: ptr(false)}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	chain, err = st.StageChainFor(ctx, tn.ID, "draft")
	if err != nil || chain.TenantChoice || chain.Models[0].ID != writer.ID {
		t.Errorf("draft chain with the choice disabled: %+v (%v), want the default", chain, err)
	}
	// An empty set clears the choices; deleting a model drops them too.
	if got, err := st.SetTenantChoices(ctx, tn.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("clearing the choices: %+v (%v)", got, err)
	}
	if _, err := st.SetTenantChoices(ctx, 999999, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("choices of no tenant: %v, want not found", err)
	}
}

// TestModelBatchCredits: batch mode is quoted at the catalogue's batch over
// standard price, times the credit multiplier, rounded up, at least 1.
func TestModelBatchCredits(t *testing.T) {
	dear := 7.0
	for _, tc := range []struct {
		name string
		m    store.AIModel
		base int64
		want int64
	}{
		{"default half", store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, CreditMultiplier: 1}, 3, 2},
		{"half of 4", store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, CreditMultiplier: 1}, 4, 2},
		{"multiplier", store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, CreditMultiplier: 2}, 3, 3},
		{"catalogue prices", store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, BatchPriceOutputPerMTok: &dear,
			CreditMultiplier: 1}, 10, 8}, // (1+7)/10
		{"free model", store.AIModel{CreditMultiplier: 1}, 3, 2},
		{"at least 1", store.AIModel{PriceInputPerMTok: 2, PriceOutputPerMTok: 8, CreditMultiplier: 0.01}, 3, 1},
		{"nothing", store.AIModel{CreditMultiplier: 1}, 0, 0},
	} {
		if got := tc.m.BatchCredits(tc.base); got != tc.want {
			t.Errorf("%s: BatchCredits(%d) = %d, want %d", tc.name, tc.base, got, tc.want)
		}
	}
}

// TestBatchStageCredits: unrouted, batch mode is half price; routed, the
// routed model's batch prices and multiplier decide.
func TestBatchStageCredits(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	if got, err := st.BatchStageCredits(ctx, tn.ID, "draft", 3); err != nil || got != 2 {
		t.Errorf("unrouted: %d (%v), want 2", got, err)
	}
	nano := enable(t, st, seeded(t, st, "openai", "gpt-4.1-nano", "chat").ID)
	bi, bo := 0.1, 0.4 // no discount
	if _, err := st.UpdateModel(ctx, nano.ID, store.ModelFields{BatchPriceInputPerMTok: store.Null(&bi),
		BatchPriceOutputPerMTok: store.Null(&bo), CreditMultiplier: ptr(2.0)}); err != nil {
		t.Fatalf("UpdateModel: %v", err)
	}
	if _, err := st.SetTenantChoices(ctx, tn.ID, []store.TenantChoice{{Stage: "draft", ModelID: nano.ID}}); err != nil {
		t.Fatalf("SetTenantChoices: %v", err)
	}
	if got, err := st.BatchStageCredits(ctx, tn.ID, "draft", 3); err != nil || got != 6 {
		t.Errorf("routed at the standard price, x2: %d (%v), want 6", got, err)
	}
}
