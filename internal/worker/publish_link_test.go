package worker_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// linkField is the "link" member of WordPress's post JSON.
var linkField = regexp.MustCompile(`"link":\s*"(?:[^"\\]|\\.)*"`)

// hostileLink gives every post WordPress answers with the link link, as a
// hostile or broken site could.
type hostileLink struct {
	next http.RoundTripper
	link string
}

func (hl hostileLink) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := hl.next.RoundTrip(req)
	posts := strings.Contains(req.URL.Path, "/wp/v2/posts") || strings.HasPrefix(req.URL.Query().Get("rest_route"), "/wp/v2/posts")
	if err != nil || !posts {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	body = linkField.ReplaceAll(body, []byte(`"link":`+strconv.Quote(hl.link)))
	res.Body, res.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	res.Header.Del("Content-Length")
	return res, nil
}

// TestPublishDropsNonHTTPLink: a site that answers a javascript: link
// gets its post published all the same; the draft and the job keep no
// link, and the publish report says the site's link was unusable.
func TestPublishDropsNonHTTPLink(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	link := "javascript:alert(document.cookie)"
	r := newPublishRig(t, h, "pub-link", fakewp.Config{}, "",
		func(next http.RoundTripper) http.RoundTripper { return hostileLink{next: next, link: link} })
	id := r.publishJob(t)

	if err := r.deliver(t, id); err != nil {
		t.Fatalf("delivery: %v", err)
	}
	j := r.job(t, id)
	if j.State != store.JobSucceeded {
		t.Fatalf("job %s (%s), want succeeded", j.State, apptest.Deref(j.LastError))
	}
	r.checkFree(t, j)
	d := r.getDraft(t)
	if d.Status != store.DraftPublished || d.WPPostID == nil || r.wp.Posts() != 1 {
		t.Fatalf("draft %s with post %v, %d posts on the site; want published once", d.Status, d.WPPostID, r.wp.Posts())
	}
	if d.WPLink != nil {
		t.Errorf("draft wp_link %q, want none", *d.WPLink)
	}
	var report map[string]any
	apptest.Must(t, json.Unmarshal(d.PublishReport, &report), "publish report ", string(d.PublishReport))
	if report["link_problem"] != store.LinkRefused || report["status"] != "publish" {
		t.Errorf("publish report %s: want status publish and link_problem %q", d.PublishReport, store.LinkRefused)
	}
	var result map[string]any
	apptest.Must(t, json.Unmarshal(j.Result, &result), "job result ", string(j.Result))
	if result["link"] != "" || strings.Contains(string(j.Result), "javascript") {
		t.Errorf("job result %s: want an empty link", j.Result)
	}
}
