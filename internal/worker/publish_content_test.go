package worker_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestPublishFollowsSiteLinks: the body sent to WordPress keeps links to
// the site's own host and relative links followed, marks links to other
// hosts nofollow, and keeps code samples, definition lists and heading ids.
func TestPublishFollowsSiteLinks(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	r := newPublishRig(t, h, "pub-content", fakewp.Config{}, "", nil)
	site, err := url.Parse(r.site.URL)
	apptest.Must(t, err, "parse the site URL")
	own := site.Scheme + "://" + site.Host + "/guide/"
	body := `<h2 id="grind-size">Why grind size matters</h2><p><a href="` + own + `">own</a> ` +
		`<a href="/about/">relative</a> <a href="https://other.example/">other</a></p>` +
		`<pre><code>grind --fine</code></pre><dl><dt>Burr</dt><dd>A grinding disc.</dd></dl><script>x()</script>`
	_, err = r.st.EditDraft(apptest.Context(t), r.tenant, r.draft.ID, store.DraftEdit{BodyHTML: &body})
	apptest.Must(t, err, "edit the draft's body")

	id := r.publishJob(t)
	apptest.Must(t, r.deliver(t, id), "publish")
	r.published(t, id, 1)

	var sent []string
	for _, q := range r.wp.Requests() {
		if q.Method != http.MethodPost || q.Route != createRoute {
			continue
		}
		var post struct {
			Content string `json:"content"`
		}
		apptest.Must(t, json.Unmarshal(q.Body, &post), "decode the post sent ", string(q.Body))
		sent = append(sent, post.Content)
	}
	if len(sent) != 1 {
		t.Fatalf("%d post creates, want 1", len(sent))
	}
	for _, want := range []string{
		`<h2 id="grind-size">Why grind size matters</h2>`,
		`<a href="` + own + `">own</a>`,
		`<a href="/about/">relative</a>`,
		`<a href="https://other.example/" rel="nofollow">other</a>`,
		`<pre><code>grind --fine</code></pre><dl><dt>Burr</dt><dd>A grinding disc.</dd></dl>`,
	} {
		if !strings.Contains(sent[0], want) {
			t.Errorf("post content %q lacks %q", sent[0], want)
		}
	}
	if strings.Contains(sent[0], "<script") {
		t.Errorf("post content %q keeps a script", sent[0])
	}
}
