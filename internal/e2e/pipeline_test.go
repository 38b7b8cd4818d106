package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestPipelineThroughAPI drives keywords -> clusters -> ideas -> drafts
// through the real HTTP API, a real asynq worker on the test's Redis
// database and PostgreSQL, the way the demo does, and checks what every
// stage produced and what it cost.
func TestPipelineThroughAPI(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	const opening = 2000
	const ideasPerCluster = 2
	tk, c := h.Tenant(t, "pipeline", opening)
	api := pipelineAPI{t: t, c: c}
	costs := h.App.Config.Costs

	// Site and keywords.
	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Pipeline Outdoor & Kitchen Blog",
		"url": "https://pipeline.example.com", "username": "editor", "application_password": "abcd efgh ijkl mnop"}, &site)
	csv, err := os.ReadFile(sampleKeywordsPath(t))
	apptest.Must(t, err, "read sample keywords")
	var report struct {
		Total, Imported, InvalidCount int
	}
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), csv, &report, "Content-Type", "text/csv")
	if report.Imported < 100 {
		t.Fatalf("imported %d keywords from the sample, want at least 100 (report %+v)", report.Imported, report)
	}

	// Clustering.
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	if len(acc.Jobs) != 1 || acc.BatchID != "" {
		t.Fatalf("clustering answer %+v, want one job and no batch", acc)
	}
	if want := tasks.ClusterCost(int64(report.Imported), costs.KeywordsPerCredit); acc.CreditsQuoted != want {
		t.Errorf("clustering quoted %d credits for %d keywords, want %d", acc.CreditsQuoted, report.Imported, want)
	}
	clusterJob := api.waitJob(acc.Jobs[0].ID)

	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	if len(clusters) < 3 {
		t.Fatalf("got %d clusters from %d keywords, want at least 3", len(clusters), report.Imported)
	}
	clusteredKeywords := 0
	clusterKeywords := map[int64][]string{}
	for _, cl := range clusters {
		if strings.TrimSpace(cl.Name) == "" || strings.TrimSpace(cl.Description) == "" {
			t.Errorf("cluster %d has name %q and description %q, want both", cl.ID, cl.Name, cl.Description)
		}
		if cl.JobID != clusterJob.ID {
			t.Errorf("cluster %d made by job %q, want %q", cl.ID, cl.JobID, clusterJob.ID)
		}
		var full struct {
			store.Cluster
			Keywords []store.Keyword `json:"keywords"`
		}
		api.do(http.MethodGet, fmt.Sprintf("/v1/clusters/%d", cl.ID), nil, &full)
		if n := len(full.Keywords); n < 3 || n > 30 || n != cl.KeywordCount {
			t.Errorf("cluster %d %q has %d keywords (keyword_count %d), want 3..30 and equal",
				cl.ID, cl.Name, n, cl.KeywordCount)
		}
		for _, k := range full.Keywords {
			if k.ClusterID == nil || *k.ClusterID != cl.ID {
				t.Errorf("keyword %d %q listed in cluster %d has cluster_id %v", k.ID, k.Phrase, cl.ID, k.ClusterID)
			}
			clusterKeywords[cl.ID] = append(clusterKeywords[cl.ID], strings.ToLower(k.Phrase))
		}
		clusteredKeywords += len(full.Keywords)
	}
	wantClusterCharge := tasks.ClusterCost(int64(clusteredKeywords), costs.KeywordsPerCredit)
	clusterJob = api.job(clusterJob.ID)
	if clusterJob.CreditsCharged != wantClusterCharge || clusterJob.CreditsReserved != acc.CreditsQuoted {
		t.Errorf("clustering job reserved %d and charged %d, want %d reserved and %d charged (ceil(%d/%d))",
			clusterJob.CreditsReserved, clusterJob.CreditsCharged, acc.CreditsQuoted, wantClusterCharge,
			clusteredKeywords, costs.KeywordsPerCredit)
	}

	// Ideas for every cluster, in one bulk request.
	clusterIDs := make([]int64, len(clusters))
	for i, cl := range clusters {
		clusterIDs[i] = cl.ID
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": clusterIDs, "count": ideasPerCluster}, &acc)
	if acc.BatchID == "" || len(acc.Jobs) != len(clusters) {
		t.Fatalf("ideas answer has batch %q and %d jobs, want a batch of %d", acc.BatchID, len(acc.Jobs), len(clusters))
	}
	if want := int64(len(clusters)*ideasPerCluster) * costs.Idea; acc.CreditsQuoted != want {
		t.Errorf("ideas quoted %d credits, want %d", acc.CreditsQuoted, want)
	}
	ideaBatch := api.waitBatch(acc.BatchID, len(clusters))

	var ideas []store.Idea
	api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", site.ID), &ideas)
	// An idea that would compete with another of the site is refused (and
	// not charged): every idea asked for is kept or refused.
	var refused []store.IdeaConflict
	api.listAll(fmt.Sprintf("/v1/sites/%d/idea-conflicts", site.ID), &refused)
	if len(ideas)+len(refused) != len(clusters)*ideasPerCluster || len(refused) > len(clusters) {
		t.Fatalf("got %d ideas and %d refused, want %d in all (%d per cluster), few refused",
			len(ideas), len(refused), len(clusters)*ideasPerCluster, ideasPerCluster)
	}
	perCluster, refusedOf := map[int64]int{}, map[int64]int{}
	for _, idea := range ideas {
		perCluster[idea.ClusterID]++
		checkIdea(t, idea, clusterKeywords[idea.ClusterID])
	}
	for _, r := range refused {
		refusedOf[r.ClusterID]++
	}
	for _, cl := range clusters {
		if perCluster[cl.ID]+refusedOf[cl.ID] != ideasPerCluster {
			t.Errorf("cluster %d has %d ideas and %d refused, want %d", cl.ID, perCluster[cl.ID], refusedOf[cl.ID], ideasPerCluster)
		}
	}

	// Drafts for every idea.
	ideaIDs := make([]int64, len(ideas))
	ideaByID := map[int64]store.Idea{}
	for i, idea := range ideas {
		ideaIDs[i] = idea.ID
		ideaByID[idea.ID] = idea
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ideaIDs}, &acc)
	if acc.BatchID == "" || len(acc.Jobs) != len(ideas) {
		t.Fatalf("drafts answer has batch %q and %d jobs, want a batch of %d", acc.BatchID, len(acc.Jobs), len(ideas))
	}
	if want := int64(len(ideas)) * costs.Draft; acc.CreditsQuoted != want {
		t.Errorf("drafts quoted %d credits, want %d", acc.CreditsQuoted, want)
	}
	draftBatch := api.waitBatch(acc.BatchID, len(ideas))

	var drafts []store.Draft
	api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", site.ID), &drafts)
	if len(drafts) != len(ideas) {
		t.Fatalf("got %d drafts, want one per idea (%d)", len(drafts), len(ideas))
	}
	seenIdea := map[int64]bool{}
	for _, listed := range drafts {
		if seenIdea[listed.IdeaID] {
			t.Errorf("idea %d has two drafts", listed.IdeaID)
		}
		seenIdea[listed.IdeaID] = true
		var d store.Draft
		api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d", listed.ID), nil, &d)
		idea, ok := ideaByID[d.IdeaID]
		if !ok {
			t.Errorf("draft %d is for idea %d, which the site does not have", d.ID, d.IdeaID)
			continue
		}
		checkDraft(t, d, idea)
	}

	// The featured image of every draft.
	draftIDs := make([]int64, len(drafts))
	for i, d := range drafts {
		draftIDs[i] = d.ID
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/images/generate", map[string]any{"draft_ids": draftIDs}, &acc)
	if acc.BatchID == "" || len(acc.Jobs) != len(drafts) || acc.CreditsQuoted != int64(len(drafts))*costs.Image {
		t.Fatalf("images answer %+v, want a batch of %d jobs quoted %d credits", acc, len(drafts), int64(len(drafts))*costs.Image)
	}
	api.waitBatch(acc.BatchID, len(drafts))
	for i, d := range drafts {
		var img store.Image
		api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d/image", d.ID), nil, &img)
		if img.State != store.ImageReady || img.Width == nil || *img.Width != 1200 || utf8.RuneCountInString(img.AltText) > 125 {
			t.Errorf("draft %d: image %+v, want a ready 1200-pixel-wide image", d.ID, img)
		}
		if i == 0 {
			checkImageContent(t, c, d.ID, img)
		}
	}

	// Credits: every job charged what the configuration says, and the
	// ledger adds up to the balance.
	jobs := api.jobs()
	var charged int64
	byJob := api.ledgerByJob()
	for _, j := range jobs {
		if j.State != store.JobSucceeded {
			t.Errorf("job %s (%s) ended %s: %v", j.ID, j.Type, j.State, j.LastError)
		}
		var want int64
		switch j.Type {
		case tasks.TypeCluster:
			want = wantClusterCharge
		case tasks.TypeIdeas:
			want = int64(ideasPerCluster-refusedOf[j.SubjectID]) * costs.Idea
		case tasks.TypeDraft:
			want = costs.Draft
		case tasks.TypeImage:
			want = costs.Image
		default:
			t.Errorf("unexpected job type %q", j.Type)
		}
		if j.CreditsCharged != want {
			t.Errorf("job %s (%s) charged %d credits, want %d", j.ID, j.Type, j.CreditsCharged, want)
		}
		if sum := byJob[j.ID]; sum != -j.CreditsCharged {
			t.Errorf("job %s (%s): ledger entries add up to %d, want %d (minus its charge)", j.ID, j.Type, sum, -j.CreditsCharged)
		}
		charged += j.CreditsCharged
	}
	if want := 1 + len(clusters) + 2*len(ideas); len(jobs) != want {
		t.Errorf("tenant has %d jobs, want %d", len(jobs), want)
	}
	if want := int64(len(ideas)) * costs.Idea; ideaBatch.CreditsCharged != want {
		t.Errorf("ideas batch charged %d, want %d", ideaBatch.CreditsCharged, want)
	}
	if want := int64(len(ideas)) * costs.Draft; draftBatch.CreditsCharged != want {
		t.Errorf("drafts batch charged %d, want %d", draftBatch.CreditsCharged, want)
	}
	var credits struct {
		Balance  int64 `json:"balance"`
		Reserved int64 `json:"reserved_by_unfinished_jobs"`
	}
	api.do(http.MethodGet, "/v1/credits", nil, &credits)
	if credits.Balance != opening-charged {
		t.Errorf("balance %d, want opening %d less charges %d = %d", credits.Balance, opening, charged, opening-charged)
	}
	if credits.Reserved != 0 {
		t.Errorf("%d credits still reserved after every job finished", credits.Reserved)
	}
	if sum := byJob[""] + sumValues(byJob); sum != credits.Balance {
		t.Errorf("ledger adds up to %d, balance is %d", sum, credits.Balance)
	}
	if byJob[""] != opening {
		t.Errorf("grants add up to %d, want the opening %d", byJob[""], opening)
	}
	t.Logf("%d keywords, %d clustered into %d clusters, %d ideas, %d drafts, %d credits charged",
		report.Imported, clusteredKeywords, len(clusters), len(ideas), len(drafts), charged)
	tenant, err := h.App.Store.GetTenant(context.Background(), tk.Tenant.ID)
	apptest.Must(t, err, "get tenant")
	if tenant.CreditBalance != credits.Balance {
		t.Errorf("tenant row balance %d, API says %d", tenant.CreditBalance, credits.Balance)
	}
}

var pipelineSlugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func checkIdea(t *testing.T, idea store.Idea, clusterKeywords []string) {
	t.Helper()
	if n := utf8.RuneCountInString(strings.TrimSpace(idea.Title)); n < 10 {
		t.Errorf("idea %d has title %q, want a real title", idea.ID, idea.Title)
	}
	if !slices.Contains(ai.ContentTypes, idea.ContentType) {
		t.Errorf("idea %d has content type %q, want one of %v", idea.ID, idea.ContentType, ai.ContentTypes)
	}
	if len(idea.TargetKeywords) == 0 {
		t.Errorf("idea %d has no target keywords", idea.ID)
	}
	for _, k := range idea.TargetKeywords {
		if strings.TrimSpace(k) == "" {
			t.Errorf("idea %d has an empty target keyword", idea.ID)
		}
	}
	if len(idea.TargetKeywords) > 0 && !slices.Contains(clusterKeywords, strings.ToLower(idea.TargetKeywords[0])) {
		t.Errorf("idea %d targets %q, which is not a keyword of its cluster %v", idea.ID, idea.TargetKeywords[0], clusterKeywords)
	}
	h2 := 0
	for i, hd := range idea.Outline {
		if hd.Level != 2 && hd.Level != 3 {
			t.Errorf("idea %d outline[%d] has level %d, want 2 or 3", idea.ID, i, hd.Level)
		}
		if strings.TrimSpace(hd.Text) == "" {
			t.Errorf("idea %d outline[%d] has no text", idea.ID, i)
		}
		if hd.Level == 2 {
			h2++
		}
	}
	if len(idea.Outline) < 3 || h2 == 0 || idea.Outline[0].Level != 2 {
		t.Errorf("idea %d outline %+v, want at least 3 headings starting with an H2", idea.ID, idea.Outline)
	}
}

func checkDraft(t *testing.T, d store.Draft, idea store.Idea) {
	t.Helper()
	if strings.TrimSpace(d.Title) == "" {
		t.Errorf("draft %d has no title", d.ID)
	}
	if !pipelineSlugRE.MatchString(d.Slug) {
		t.Errorf("draft %d slug %q is not a slug", d.ID, d.Slug)
	}
	if strings.TrimSpace(d.Excerpt) == "" {
		t.Errorf("draft %d has no excerpt", d.ID)
	}
	if n := utf8.RuneCountInString(d.MetaTitle); n == 0 || n > 60 {
		t.Errorf("draft %d meta title has %d characters, want 1..60: %q", d.ID, n, d.MetaTitle)
	}
	if n := utf8.RuneCountInString(d.MetaDescription); n == 0 || n > 160 {
		t.Errorf("draft %d meta description has %d characters, want 1..160: %q", d.ID, n, d.MetaDescription)
	}
	if strings.TrimSpace(d.FocusKeyword) == "" {
		t.Errorf("draft %d has no focus keyword", d.ID)
	} else if len(idea.TargetKeywords) > 0 && !strings.EqualFold(d.FocusKeyword, idea.TargetKeywords[0]) {
		t.Errorf("draft %d focus keyword %q, want the idea's first target keyword %q", d.ID, d.FocusKeyword, idea.TargetKeywords[0])
	}
	if d.WordCount <= 0 || d.WordCount != markup.WordCount(d.BodyHTML) {
		t.Errorf("draft %d word count %d, body has %d words", d.ID, d.WordCount, markup.WordCount(d.BodyHTML))
	}
	if d.Status == "" {
		t.Errorf("draft %d has no status", d.ID)
	}
	var want []string
	for _, hd := range idea.Outline {
		if hd.Level == 2 {
			want = append(want, foldSpace(html.UnescapeString(hd.Text)))
		}
	}
	got := bodyH2s(d.BodyHTML)
	if !isSubsequence(want, got) {
		t.Errorf("draft %d body H2s %q do not contain the outline's H2s %q in order", d.ID, got, want)
	}
}

// bodyH2s returns the text of every <h2> of an HTML fragment.
func bodyH2s(body string) []string {
	z := html.NewTokenizer(strings.NewReader(body))
	var out []string
	var text *strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "h2" {
				text = &strings.Builder{}
			}
		case html.TextToken:
			if text != nil {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "h2" && text != nil {
				out = append(out, foldSpace(text.String()))
				text = nil
			}
		}
	}
}

func foldSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func sumValues(m map[string]int64) int64 {
	var s int64
	for k, v := range m {
		if k != "" {
			s += v
		}
	}
	return s
}

// sampleKeywordsPath finds testdata/sample-keywords.csv at the repository
// root, relative to this file.
func sampleKeywordsPath(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-keywords.csv")
}

// pipelineAPI calls the API as one tenant and fails the test on errors.
type pipelineAPI struct {
	t *testing.T
	c *client.Client
}

func (a pipelineAPI) do(method, path string, body, out any, header ...string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.c.Do(ctx, method, path, body, out, header...); err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (a pipelineAPI) job(id string) store.Job {
	a.t.Helper()
	var j store.Job
	a.do(http.MethodGet, "/v1/jobs/"+id, nil, &j)
	return j
}

// waitJob waits for a job to succeed and returns it.
func (a pipelineAPI) waitJob(id string) store.Job {
	a.t.Helper()
	return a.waitJobFor(id, 60*time.Second)
}

// waitJobFor waits up to timeout for a job to end, which must be
// succeeded.
func (a pipelineAPI) waitJobFor(id string, timeout time.Duration) store.Job {
	a.t.Helper()
	var j store.Job
	apptest.Eventually(a.t, timeout, "job "+id+" finishes", func() (bool, error) {
		j = a.job(id)
		return j.Final(), nil
	})
	if j.State != store.JobSucceeded {
		a.t.Fatalf("job %s ended %s: %v", id, j.State, apptest.Deref(j.LastError))
	}
	return j
}

// waitBatch waits for every job of a batch to succeed.
func (a pipelineAPI) waitBatch(id string, total int) store.BatchSummary {
	a.t.Helper()
	var b store.BatchSummary
	deadline := time.Now().Add(90 * time.Second)
	apptest.Eventually(a.t, 95*time.Second, "batch "+id+" finishes", func() (bool, error) {
		b = store.BatchSummary{} // decoding into a used map would merge
		a.do(http.MethodGet, "/v1/batches/"+id, nil, &b)
		if b.Done != b.Total && time.Now().After(deadline) {
			return false, fmt.Errorf("%d of %d jobs done after 90s: states %v, errors %+v", b.Done, b.Total, b.ByState, b.Errors)
		}
		return b.Done == b.Total, nil
	})
	if b.Total != total || b.ByState[store.JobSucceeded] != total {
		a.t.Fatalf("batch %s: %d of %d jobs succeeded, want all %d; errors %+v", id,
			b.ByState[store.JobSucceeded], b.Total, total, b.Errors)
	}
	return b
}

// listAll reads every page of a listing into out (a pointer to a slice).
func (a pipelineAPI) listAll(path string, out any) {
	a.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []json.RawMessage
	after := int64(0)
	for {
		var page struct {
			Items     []json.RawMessage `json:"items"`
			NextAfter *int64            `json:"next_after"`
		}
		a.do(http.MethodGet, fmt.Sprintf("%s%slimit=100&after=%d", path, sep, after), nil, &page)
		all = append(all, page.Items...)
		if page.NextAfter == nil {
			break
		}
		after = *page.NextAfter
	}
	data, err := json.Marshal(all)
	apptest.Must(a.t, err, "encode listing")
	apptest.Must(a.t, json.Unmarshal(data, out), "decode listing of ", path)
}

// jobs returns every job of the tenant.
func (a pipelineAPI) jobs() []store.Job {
	a.t.Helper()
	var all []store.Job
	after := ""
	for {
		var page struct {
			Items     []store.Job `json:"items"`
			NextAfter string      `json:"next_after"`
		}
		a.do(http.MethodGet, "/v1/jobs?limit=100&after="+after, nil, &page)
		all = append(all, page.Items...)
		if page.NextAfter == "" {
			return all
		}
		after = page.NextAfter
	}
}

// ledgerByJob sums the tenant's ledger deltas per job id ("" for grants).
func (a pipelineAPI) ledgerByJob() map[string]int64 {
	a.t.Helper()
	sums := map[string]int64{}
	after := int64(0)
	for {
		var page struct {
			Items     []store.LedgerEntry `json:"items"`
			NextAfter *int64              `json:"next_after"`
		}
		a.do(http.MethodGet, fmt.Sprintf("/v1/credits/ledger?limit=100&after=%d", after), nil, &page)
		for _, e := range page.Items {
			if e.BalanceAfter < 0 {
				a.t.Errorf("ledger entry %d leaves the balance at %d", e.ID, e.BalanceAfter)
			}
			sums[apptest.Deref(e.JobID)] += e.Delta
		}
		if page.NextAfter == nil {
			return sums
		}
		after = *page.NextAfter
	}
}

// checkImageContent fetches a draft's image file and checks that it is the
// PNG the metadata describes.
func checkImageContent(t *testing.T, c *client.Client, draftID int64, img store.Image) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/drafts/%d/image/content", c.BaseURL, draftID), nil)
	apptest.Must(t, err, "request")
	req.Header.Set("Authorization", "Bearer "+c.Key)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "GET image content")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	apptest.Must(t, err, "read image content")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("image content: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	decoded, err := png.Decode(bytes.NewReader(body))
	apptest.Must(t, err, "decode the PNG")
	sum := sha256.Sum256(body)
	if b := decoded.Bounds(); !bytes.Equal(sum[:], img.SHA256) || img.SizeBytes == nil || *img.SizeBytes != len(body) ||
		*img.Width != b.Dx() || img.Height == nil || *img.Height != b.Dy() {
		t.Errorf("image metadata %+v does not describe the %d bytes of a %dx%d PNG", img, len(body), b.Dx(), b.Dy())
	}
}
