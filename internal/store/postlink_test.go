package store_test

import (
	"encoding/json"
	"testing"

	"github.com/presswork/presswork/internal/store"
)

// hostileLinks are post links a hostile or broken WordPress site may
// answer; none may be stored or given back as a link.
var hostileLinks = []string{
	"javascript:alert(document.cookie)",
	"JavaScript:alert(1)",
	" javascript:alert(1)",
	"\tjavascript:alert(1)",
	"java\nscript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)",
	"file:///etc/passwd",
	"ftp://blog.example.com/post",
	"//evil.example/post",
	"/relative/post",
	"blog.example.com/post",
	"http://",
	"https:///no-host",
	"https://blog.example.com/%zz",
}

func TestPostLink(t *testing.T) {
	t.Parallel()
	for _, link := range hostileLinks {
		if got := store.PostLink(link); got != "" {
			t.Errorf("PostLink(%q) = %q, want \"\"", link, got)
		}
	}
	for _, link := range []string{"https://blog.example.com/2026/best-shoes/", "http://blog.example.com/?p=12", "HTTPS://Blog.Example.com/x"} {
		if got := store.PostLink(link); got != link {
			t.Errorf("PostLink(%q) = %q, want it kept", link, got)
		}
	}
}

func wpLink(t *testing.T, st *store.Store, tenantID, draftID int64) *string {
	t.Helper()
	d, err := st.GetDraft(t.Context(), tenantID, draftID)
	if err != nil {
		t.Fatalf("GetDraft: %v", err)
	}
	return d.WPLink
}

// TestRecordPostDropsNonHTTPLink: the post is recorded (a retry updates
// it), its link only when it is http(s).
func TestRecordPostDropsNonHTTPLink(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	tid, did := w.tenant.ID, w.draft.ID
	for _, link := range hostileLinks {
		if err := st.RecordPost(t.Context(), tid, did, store.WPPost{ID: 12, Slug: "s", Link: link, Status: "draft"}); err != nil {
			t.Fatalf("RecordPost(%q): %v", link, err)
		}
		d, err := st.GetDraft(t.Context(), tid, did)
		if err != nil {
			t.Fatalf("GetDraft: %v", err)
		}
		if d.WPLink != nil || d.WPPostID == nil || *d.WPPostID != 12 {
			t.Errorf("after RecordPost(%q): wp_link %v, wp_post_id %v; want no link, post 12", link, deref(d.WPLink), d.WPPostID)
		}
	}
	good := "https://blog.example.com/?p=12"
	if err := st.RecordPost(t.Context(), tid, did, store.WPPost{ID: 12, Slug: "s", Link: good, Status: "draft"}); err != nil {
		t.Fatalf("RecordPost: %v", err)
	}
	if got := wpLink(t, st, tid, did); got == nil || *got != good {
		t.Errorf("wp_link = %v, want %q", deref(got), good)
	}
}

// TestFinishPublishDropsNonHTTPLink: the draft is published, without the
// link, and its publish report says why.
func TestFinishPublishDropsNonHTTPLink(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	tid, did := w.tenant.ID, w.draft.ID
	type report struct {
		Status string `json:"status"`
	}
	publish := func(link string) store.Draft {
		t.Helper()
		j := newJob(t, st, tid, "post:publish", did, 0)
		startJobCosting(t, st, tid, j.ID, 0)
		err := st.FinishPublish(t.Context(), store.Outcome{TenantID: tid, JobID: j.ID}, did,
			store.WPPost{ID: 7, Slug: "best", Link: link, Status: "publish"}, report{Status: "publish"})
		if err != nil {
			t.Fatalf("FinishPublish(%q): %v", link, err)
		}
		d, err := st.GetDraft(t.Context(), tid, did)
		if err != nil {
			t.Fatalf("GetDraft: %v", err)
		}
		if d.Status != store.DraftPublished || d.WPPostID == nil || *d.WPPostID != 7 {
			t.Fatalf("after FinishPublish(%q): status %s, post %v; want published, post 7", link, d.Status, d.WPPostID)
		}
		return d
	}
	var got map[string]string
	for _, link := range []string{"javascript:alert(document.cookie)", "data:text/html,x"} {
		d := publish(link)
		if d.WPLink != nil {
			t.Errorf("FinishPublish(%q) stored wp_link %q, want none", link, *d.WPLink)
		}
		if err := json.Unmarshal(d.PublishReport, &got); err != nil {
			t.Fatalf("publish report %s: %v", d.PublishReport, err)
		}
		if got["link_problem"] != store.LinkRefused || got["status"] != "publish" {
			t.Errorf("publish report %s: want status publish and link_problem %q", d.PublishReport, store.LinkRefused)
		}
	}
	good := "https://blog.example.com/best/"
	d := publish(good)
	if d.WPLink == nil || *d.WPLink != good {
		t.Errorf("wp_link = %v, want %q", deref(d.WPLink), good)
	}
	got = nil
	if err := json.Unmarshal(d.PublishReport, &got); err != nil {
		t.Fatalf("publish report %s: %v", d.PublishReport, err)
	}
	if _, ok := got["link_problem"]; ok {
		t.Errorf("publish report %s names a link problem for an https link", d.PublishReport)
	}
}

// TestDraftsHideStoredNonHTTPLink: a link stored before links were checked
// is not given back by any read of drafts (the API's draft JSON).
func TestDraftsHideStoredNonHTTPLink(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	tid, did := w.tenant.ID, w.draft.ID
	if err := st.SetDraftLinkUnchecked(t.Context(), tid, did, "javascript:alert(1)"); err != nil {
		t.Fatal(err)
	}
	if got := wpLink(t, st, tid, did); got != nil {
		t.Errorf("GetDraft: wp_link %q, want none", *got)
	}
	list, err := st.ListDrafts(t.Context(), tid, w.site.ID, store.Page{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListDrafts = %v, %v", list, err)
	}
	byID, err := st.DraftsByIDs(t.Context(), tid, []int64{did})
	if err != nil || len(byID) != 1 {
		t.Fatalf("DraftsByIDs = %v, %v", byID, err)
	}
	for what, d := range map[string]store.Draft{"ListDrafts": list[0], "DraftsByIDs": byID[0]} {
		if d.WPLink != nil {
			t.Errorf("%s: wp_link %q, want none", what, *d.WPLink)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}
