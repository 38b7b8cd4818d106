package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
)

type profileAnswer struct {
	SiteID    *int64             `json:"site_id"`
	Profile   ai.ProfileSettings `json:"profile"`
	Effective ai.Profile         `json:"effective"`
}

// TestContentProfile: a site's fields over the tenant's over the built-in
// defaults; PUT replaces, twice is the same, and the answer is what GET
// shows.
func TestContentProfile(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "profile")
	site := createSite(t, h, f.Key, "Profile blog", "pw")
	sitePath := fmt.Sprintf("/v1/sites/%d/profile", site)

	var got profileAnswer
	callJSON(t, h, f.Key, "GET", sitePath, nil).must(t, http.StatusOK, &got)
	builtin := ai.Profile{Avoid: []string{}, WordTargets: map[string]int{}}
	if diff := cmp.Diff(builtin, got.Effective); diff != "" || got.SiteID == nil || *got.SiteID != site {
		t.Fatalf("a new site's profile (-want +got):\n%s (site %v)", diff, got.SiteID)
	}

	tenant := map[string]any{"language": "fr", "voice": "Formal.", "word_targets": map[string]int{"guide": 1500, "post": 800},
		"faq": true, "avoid": []string{"cheap"}}
	callJSON(t, h, f.Key, "PUT", "/v1/profile", tenant).must(t, http.StatusOK, &got)
	siteBody := map[string]any{"language": "de-at", "word_targets": map[string]int{"post": 600}, "faq": false,
		"key_takeaways": true, "point_of_view": "second_person"}
	for range 2 { // the same PUT twice: the same profile
		got = profileAnswer{}
		callJSON(t, h, f.Key, "PUT", sitePath, siteBody).must(t, http.StatusOK, &got)
	}
	want := ai.Profile{Language: "de-AT", Voice: "Formal.", PointOfView: "second_person", Avoid: []string{"cheap"},
		WordTargets: map[string]int{"guide": 1500, "post": 600}, KeyTakeaways: true}
	if diff := cmp.Diff(want, got.Effective); diff != "" {
		t.Errorf("PUT site profile, effective (-want +got):\n%s", diff)
	}
	if got.Profile.Language == nil || *got.Profile.Language != "de-AT" || got.Profile.Voice != nil {
		t.Errorf("the site's own fields = %+v", got.Profile)
	}
	var again profileAnswer
	callJSON(t, h, f.Key, "GET", sitePath, nil).must(t, http.StatusOK, &again)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("GET after PUT (-put +get):\n%s", diff)
	}
	var tp profileAnswer
	callJSON(t, h, f.Key, "GET", "/v1/profile", nil).must(t, http.StatusOK, &tp)
	if tp.SiteID != nil || tp.Effective.Language != "fr" || !tp.Effective.FAQ {
		t.Errorf("tenant profile = %+v", tp)
	}
	// What the worker reads is what the API shows.
	docs, err := h.App.Store.ContentProfiles(t.Context(), f.TenantID, site)
	apptest.Must(t, err, "content profiles")
	p, err := ai.ProfileOf(docs.Site, docs.Tenant)
	apptest.Must(t, err, "profile of")
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("ai.ProfileOf the stored documents (-want +got):\n%s", diff)
	}

	// An empty body clears the site's fields: the tenant's apply again.
	got = profileAnswer{}
	callJSON(t, h, f.Key, "PUT", sitePath, map[string]any{}).must(t, http.StatusOK, &got)
	if got.Effective.Language != "fr" || got.Effective.WordTargets["post"] != 800 {
		t.Errorf("after clearing the site's fields: %+v", got.Effective)
	}
}
