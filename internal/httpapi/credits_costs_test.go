package httpapi_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestCreditsCosts (#20): GET /v1/credits tells every cost the operator
// set, the image's too, and exactly the costs its OpenAPI schema names.
func TestCreditsCosts(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tenant := newFixtureLite(t, h, "credits-costs")
	var got struct {
		Costs map[string]int64 `json:"costs"`
	}
	call(t, h, tenant.Key, "GET", "/v1/credits", "", nil).must(t, 200, &got)
	c := h.App.Config.Costs
	want := map[string]int64{"clustering_keywords_per_credit": c.KeywordsPerCredit, "idea": c.Idea, "draft": c.Draft, "image": c.Image}
	if !maps.Equal(got.Costs, want) {
		t.Errorf("GET /v1/credits costs %v, want %v", got.Costs, want)
	}

	schema := loadOpenAPI(t)["components"].(map[string]any)["schemas"].(map[string]any)["Credits"].(map[string]any)
	costs := schema["properties"].(map[string]any)["costs"].(map[string]any)
	var required []string
	for _, r := range costs["required"].([]any) {
		required = append(required, r.(string))
	}
	if names := slices.Sorted(maps.Keys(got.Costs)); !slices.Equal(slices.Sorted(slices.Values(required)), names) ||
		!slices.Equal(slices.Sorted(maps.Keys(costs["properties"].(map[string]any))), names) {
		t.Errorf("the Credits schema's costs (required %v, properties %v) are not the answer's %v",
			required, slices.Sorted(maps.Keys(costs["properties"].(map[string]any))), names)
	}
}
