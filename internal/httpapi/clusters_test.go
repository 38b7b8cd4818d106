package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestRenameCluster: PATCH /v1/clusters/{id} sets the name, the
// description or both, trimmed, and marks the cluster named by a user; bad
// bodies are 400 naming the field and change nothing; another tenant's
// cluster is 404.
func TestRenameCluster(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "rename-a")
	b := newFixtureLite(t, h, "rename-b")
	seeded := apptest.SeedIdeas(t, h.App.Store, a.TenantID, 1, "rename")
	path := fmt.Sprintf("/v1/clusters/%d", seeded.Cluster.ID)
	if seeded.Cluster.NameSource != store.NameByModel {
		t.Fatalf("a seeded cluster is named by %q, want model", seeded.Cluster.NameSource)
	}

	var got store.Cluster
	callJSON(t, h, a.Key, "PATCH", path, map[string]any{"name": "  Grinders for espresso  "}).must(t, 200, &got)
	if got.Name != "Grinders for espresso" || got.Description != seeded.Cluster.Description || got.NameSource != store.NameByUser {
		t.Errorf("after renaming: %+v", got)
	}
	callJSON(t, h, a.Key, "PATCH", path, map[string]any{"description": "Burr grinders, hand and electric."}).must(t, 200, &got)
	if got.Name != "Grinders for espresso" || got.Description != "Burr grinders, hand and electric." {
		t.Errorf("after describing: %+v", got)
	}

	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": " "}, "name"},
		{map[string]any{"name": strings.Repeat("a", 81)}, "name"},
		{map[string]any{"description": ""}, "description"},
		{map[string]any{"name": "x", "colour": "red"}, "colour"},
	} {
		ans := callJSON(t, h, a.Key, "PATCH", path, c.body)
		if ans.Status != 400 {
			t.Errorf("PATCH %v: %d %s, want 400", c.body, ans.Status, clipBody(ans.Body))
			continue
		}
		if got := fields(ans.problem(t, 400)); !slices.Contains(got, c.field) {
			t.Errorf("PATCH %v: the problem names %v, want %s", c.body, got, c.field)
		}
	}
	callJSON(t, h, b.Key, "PATCH", path, map[string]any{"name": "Mine now"}).must(t, 404, nil)
	callJSON(t, h, a.Key, "GET", path, nil).must(t, 200, &got)
	if got.Name != "Grinders for espresso" {
		t.Errorf("a refused rename changed the cluster: %+v", got)
	}
}
