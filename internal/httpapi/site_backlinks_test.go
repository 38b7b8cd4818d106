package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestSiteBacklinks: a site's back-links are off (0) until PATCH
// /v1/sites/:id sets how many older posts link each new one (#22); GET
// shows it, a PATCH without it keeps it, and 11 is refused naming the
// field without changing it.
func TestSiteBacklinks(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "backlinks")
	path := fmt.Sprintf("/v1/sites/%d", createSite(t, h, f.Key, "Linked blog", "pw"))

	var site store.Site
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
	if site.Backlinks != 0 {
		t.Errorf("a new site's backlinks is %d, want 0 (off)", site.Backlinks)
	}
	for _, want := range []int{3, 10, 0, 2} {
		callJSON(t, h, f.Key, "PATCH", path, map[string]any{"backlinks": want}).must(t, 200, &site)
		if site.Backlinks != want {
			t.Errorf("PATCH backlinks=%d answered %d", want, site.Backlinks)
		}
		call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
		if site.Backlinks != want {
			t.Errorf("after PATCH backlinks=%d GET shows %d", want, site.Backlinks)
		}
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]any{"name": "Renamed"}).must(t, 200, &site)
	if site.Backlinks != 2 {
		t.Errorf("a PATCH without backlinks changed it to %d", site.Backlinks)
	}
	if a := callJSON(t, h, f.Key, "PATCH", path, map[string]any{"backlinks": 11}).must(t, 400, nil); !strings.Contains(string(a.Body), "backlinks") {
		t.Errorf("backlinks=11 refused with %s, which does not name the field", a.Body)
	}
	call(t, h, f.Key, "GET", path, "", nil).must(t, 200, &site)
	if site.Backlinks != 2 {
		t.Errorf("a refused PATCH changed backlinks to %d", site.Backlinks)
	}
}
