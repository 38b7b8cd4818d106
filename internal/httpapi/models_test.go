package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// offlineWriterID is the id of the offline chat model: migration 00029
// seeds it first (sampleRequest's routes name it).
const offlineWriterID = 1

type modelList struct {
	Items []store.AIModel `json:"items"`
}

// TestModelCatalogueRoutes (#23): operators keep the catalogue and the
// stage routes; each change is audited; a routed model cannot be deleted
// (409 naming the stage); a tenant chooses among the enabled models and
// sees what serves each stage.
func TestModelCatalogueRoutes(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	op := h.OperatorClient(t).Key
	f := newFixtureLite(t, h, "catalogue")

	var list modelList
	call(t, h, op, "GET", "/v1/admin/models", "", nil).must(t, 200, &list)
	if !slices.ContainsFunc(list.Items, func(m store.AIModel) bool { return m.ID == offlineWriterID && m.Model == "offline-writer-v1" }) {
		t.Fatalf("the catalogue %+v has no offline writer with id %d", list.Items, offlineWriterID)
	}

	var m store.AIModel
	callJSON(t, h, op, "POST", "/v1/admin/models", map[string]any{"provider": "openai", "model": "gpt-5-mini", "kind": "chat",
		"display_name": "GPT-5 mini", "price_input_per_mtok": 0.25, "price_output_per_mtok": 2, "credit_multiplier": 1.5,
		"structured_output": true}).must(t, 201, &m)
	if m.ID == 0 || !m.Enabled || m.CreditMultiplier != 1.5 || m.BatchInputPrice() != 0.125 {
		t.Errorf("created %+v", m)
	}
	path := fmt.Sprintf("/v1/admin/models/%d", m.ID)
	callJSON(t, h, op, "POST", "/v1/admin/models", map[string]any{"provider": "openai", "model": "gpt-5-mini", "kind": "chat",
		"display_name": "Again"}).problem(t, 409)
	callJSON(t, h, op, "PATCH", path, map[string]any{"batch_price_output_per_mtok": 0.9, "rpm": 500}).must(t, 200, &m)
	if m.BatchOutputPrice() != 0.9 || m.RPM == nil || *m.RPM != 500 {
		t.Errorf("after PATCH: %+v", m)
	}
	var tr struct {
		OK      bool   `json:"ok"`
		Problem string `json:"problem"`
		Message string `json:"message"`
	}
	call(t, h, op, "POST", path+"/test", "", nil).must(t, 200, &tr)
	if tr.OK || tr.Problem != "key" || !strings.Contains(tr.Message, "OPENAI_API_KEY") {
		t.Errorf("test of an OpenAI model on workers with no OpenAI key: %+v", tr)
	}
	call(t, h, op, "POST", fmt.Sprintf("/v1/admin/models/%d/test", offlineWriterID), "", nil).must(t, 200, &tr)
	if !tr.OK {
		t.Errorf("test of the offline writer: %+v", tr)
	}

	// Routes: the draft stage goes to the new model, the offline writer as
	// its fallback; the new model cannot be deleted then.
	var rt store.StageRoute
	callJSON(t, h, op, "PUT", "/v1/admin/routes/draft", map[string]any{"model_id": m.ID,
		"fallback_ids": []int64{offlineWriterID}, "fallback_on_throttle": true}).must(t, 200, &rt)
	if rt.ModelID != m.ID || !slices.Equal(rt.FallbackIDs, []int64{offlineWriterID}) || !rt.FallbackOnThrottle {
		t.Errorf("route %+v", rt)
	}
	p := call(t, h, op, "DELETE", path, "", nil).problem(t, 409)
	if !strings.Contains(p.Detail, "draft") {
		t.Errorf("409 detail %q does not name the stage", p.Detail)
	}
	call(t, h, op, "PUT", "/v1/admin/routes/poems", "application/json", []byte(`{"model_id":1}`)).problem(t, 404)
	var routes struct {
		Items []store.StageRoute `json:"items"`
	}
	call(t, h, op, "GET", "/v1/admin/routes", "", nil).must(t, 200, &routes)
	if len(routes.Items) != len(store.ModelStages) || routes.Items[2].Stage != "draft" || routes.Items[2].ModelID != m.ID {
		t.Errorf("routes %+v", routes.Items)
	}

	// The tenant sees the enabled models and what serves its stages.
	var tm struct {
		Items []struct {
			ID               int64   `json:"id"`
			CreditMultiplier float64 `json:"credit_multiplier"`
		} `json:"items"`
	}
	a := call(t, h, f.Key, "GET", "/v1/models", "", nil).must(t, 200, &tm)
	if !slices.ContainsFunc(tm.Items, func(x struct {
		ID               int64   `json:"id"`
		CreditMultiplier float64 `json:"credit_multiplier"`
	}) bool {
		return x.ID == m.ID && x.CreditMultiplier == 1.5
	}) || strings.Contains(string(a.Body), "price") {
		t.Errorf("GET /v1/models: %s", a.Body)
	}
	type stageItem struct {
		Stage        string `json:"stage"`
		ModelID      *int64 `json:"model_id"`
		TenantChoice bool   `json:"tenant_choice"`
		Serving      struct {
			ID int64 `json:"id"`
		} `json:"serving"`
	}
	var sm struct {
		Items []stageItem `json:"items"`
	}
	callJSON(t, h, f.Key, "PUT", "/v1/stage-models", map[string]any{"ideas": m.ID}).must(t, 200, &sm)
	i := slices.IndexFunc(sm.Items, func(s stageItem) bool { return s.Stage == "ideas" })
	if i < 0 || sm.Items[i].ModelID == nil || *sm.Items[i].ModelID != m.ID || !sm.Items[i].TenantChoice || sm.Items[i].Serving.ID != m.ID {
		t.Errorf("stage models after PUT: %+v", sm.Items)
	}
	callJSON(t, h, f.Key, "PUT", "/v1/stage-models", map[string]any{"embeddings": offlineWriterID}).problem400(t)
	// Another tenant's stages are its own.
	g := newFixtureLite(t, h, "catalogue-other")
	call(t, h, g.Key, "GET", "/v1/stage-models", "", nil).must(t, 200, &sm)
	for _, s := range sm.Items {
		if s.ModelID != nil || s.TenantChoice {
			t.Errorf("another tenant's stage %+v shows a choice", s)
		}
	}

	// Back to the offline writer, the model goes.
	callJSON(t, h, op, "PUT", "/v1/admin/routes/draft", map[string]any{"model_id": offlineWriterID}).must(t, 200, nil)
	call(t, h, op, "DELETE", path, "", nil).must(t, 204, nil)
	call(t, h, op, "GET", path, "", nil).problem(t, 404)
	call(t, h, f.Key, "GET", "/v1/stage-models", "", nil).must(t, 200, &sm)
	if i := slices.IndexFunc(sm.Items, func(s stageItem) bool { return s.Stage == "ideas" }); sm.Items[i].ModelID != nil {
		t.Errorf("the tenant's choice of a deleted model remains: %+v", sm.Items[i])
	}

	got := actions(auditLog(t, h, op, "/v1/admin/audit"))
	for _, want := range []string{"operator model.create", "operator model.update", "operator route.set", "operator model.delete"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit log %v has no %q", got, want)
		}
	}
	if got := actions(auditLog(t, h, f.Key, "/v1/audit")); !slices.Contains(got, "owner stage_models.set") {
		t.Errorf("tenant audit log %v has no stage_models.set", got)
	}
}

func ptrTo[T any](v T) *T { return &v }
