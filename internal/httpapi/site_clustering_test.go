package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestSiteClustering: a site groups its keywords "balanced" until PATCH
// /v1/sites/:id sets another strictness, which GET then shows (#21).
func TestSiteClustering(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "clustering")
	path := fmt.Sprintf("/v1/sites/%d", createSite(t, h, f.Key, "Strict blog", "pw"))

	var site store.Site
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
	if site.Clustering != "balanced" {
		t.Errorf("a new site's clustering is %q, want balanced", site.Clustering)
	}
	for _, want := range []string{"strict", "inclusive", "balanced"} {
		callJSON(t, h, f.Key, "PATCH", path, map[string]any{"clustering": want}).must(t, 200, &site)
		if site.Clustering != want {
			t.Errorf("PATCH clustering=%s answered %q", want, site.Clustering)
		}
		call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
		if site.Clustering != want {
			t.Errorf("after PATCH clustering=%s GET shows %q", want, site.Clustering)
		}
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"clustering": "strict"}).must(t, 200, &site)
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"name": "Renamed"}).must(t, 200, &site)
	if site.Clustering != "strict" {
		t.Errorf("a PATCH without clustering changed it to %q", site.Clustering)
	}
}
