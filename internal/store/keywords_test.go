package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
)

func phrases(kws []store.Keyword) []string {
	out := make([]string, len(kws))
	for i, k := range kws {
		out[i] = k.Phrase
	}
	return out
}

func TestImportKeywords(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	site := newSite(t, st, tn.ID)

	parsed, err := kwimport.ParseCSV(strings.NewReader(
		"phrase,volume,difficulty,intent\nRunning  Shoes,1200,35,Commercial\ntrail shoes,,,\nHiking Boots,10,,informational\n"), 0)
	if err != nil || len(parsed.Rows) != 3 {
		t.Fatalf("ParseCSV = %+v, %v", parsed, err)
	}
	res, err := st.ImportKeywords(ctx, tn.ID, site.ID, parsed.Rows)
	if err != nil || res != (store.ImportResult{Imported: 3}) {
		t.Fatalf("first import = %+v, %v", res, err)
	}
	got := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})
	if !slices.Equal(phrases(got), []string{"Running Shoes", "trail shoes", "Hiking Boots"}) {
		t.Fatalf("stored %v", phrases(got))
	}
	k := got[0]
	if k.Volume == nil || *k.Volume != 1200 || k.Difficulty == nil || *k.Difficulty != 35 || k.Intent == nil ||
		*k.Intent != "commercial" || k.ClusterID != nil || k.SiteID != site.ID {
		t.Fatalf("first keyword = %+v", k)
	}
	if k := got[1]; k.Volume != nil || k.Difficulty != nil || k.Intent != nil {
		t.Fatalf("keyword without values = %+v", k)
	}

	// Phrases differing from stored ones only in case and spacing are
	// duplicates; the stored phrase is kept as first written.
	res, err = st.ImportKeywords(ctx, tn.ID, site.ID,
		[]kwimport.Row{kw("RUNNING SHOES"), kw("  Trail\tShoes "), kw("sandals"), kw("hiking boots")})
	if err != nil || res != (store.ImportResult{Imported: 1, DuplicatesExisting: 3}) {
		t.Fatalf("second import = %+v, %v", res, err)
	}
	got = keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})
	if !slices.Equal(phrases(got), []string{"Running Shoes", "trail shoes", "Hiking Boots", "sandals"}) {
		t.Fatalf("stored %v", phrases(got))
	}

	// Rows repeating each other within one call are stored once.
	res, err = st.ImportKeywords(ctx, tn.ID, site.ID, []kwimport.Row{kw("Flip Flops"), kw("flip flops")})
	if err != nil || res != (store.ImportResult{Imported: 1, DuplicatesExisting: 1}) {
		t.Fatalf("import with repeats = %+v, %v", res, err)
	}

	// Nothing to import is fine.
	res, err = st.ImportKeywords(ctx, tn.ID, site.ID, nil)
	if err != nil || res != (store.ImportResult{}) {
		t.Fatalf("empty import = %+v, %v", res, err)
	}

	// The same phrase on another site of the tenant is a keyword of its own.
	site2 := newSite(t, st, tn.ID)
	if res := importKeywords(t, st, tn.ID, site2.ID, "running shoes"); res.Imported != 1 {
		t.Fatalf("import on a second site = %+v", res)
	}
	if n, err := st.CountUnclustered(ctx, tn.ID, site.ID); err != nil || n != 5 {
		t.Fatalf("CountUnclustered(site 1) = %d, %v", n, err)
	}
}

func TestImportKeywordsTenantScoping(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	a := newTenant(t, st, 0)
	b := newTenant(t, st, 0)
	siteA := newSite(t, st, a.ID)

	_, err := st.ImportKeywords(ctx, b.ID, siteA.ID, []kwimport.Row{kw("stolen")})
	wantErrIs(t, "import into another tenant's site", err, errs.ErrNotFound)
	_, err = st.ImportKeywords(ctx, a.ID, siteA.ID+1000, []kwimport.Row{kw("nowhere")})
	wantErrIs(t, "import into no site", err, errs.ErrNotFound)
	if n, _ := st.CountUnclustered(ctx, a.ID, siteA.ID); n != 0 {
		t.Fatalf("refused imports stored %d keywords", n)
	}
	importKeywords(t, st, a.ID, siteA.ID, "mine")
	if got := keywords(t, st, b.ID, siteA.ID, store.KeywordFilter{}); len(got) != 0 {
		t.Fatalf("another tenant lists %v", phrases(got))
	}
	if got, err := st.UnclusteredKeywords(ctx, b.ID, siteA.ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("another tenant's UnclusteredKeywords = %v, %v", phrases(got), err)
	}
	if n, err := st.CountUnclustered(ctx, b.ID, siteA.ID); err != nil || n != 0 {
		t.Fatalf("another tenant's CountUnclustered = %d, %v", n, err)
	}
}

func TestImportKeywordsLarge(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 0)
	site := newSite(t, st, tn.ID)
	const n = 5000
	rows := make([]kwimport.Row, n)
	for i := range rows {
		rows[i] = kw(fmt.Sprintf("keyword number %d", i))
	}
	res, err := st.ImportKeywords(t.Context(), tn.ID, site.ID, rows)
	if err != nil || res.Imported != n {
		t.Fatalf("import = %+v, %v", res, err)
	}
	res, err = st.ImportKeywords(t.Context(), tn.ID, site.ID, rows[:100])
	if err != nil || res.Imported != 0 || res.DuplicatesExisting != 100 {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	if c, err := st.CountUnclustered(t.Context(), tn.ID, site.ID); err != nil || c != n {
		t.Fatalf("CountUnclustered = %d, %v", c, err)
	}
}

func TestUnclusteredKeywords(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	site := newSite(t, st, tn.ID)
	importKeywords(t, st, tn.ID, site.ID, "a", "b", "c", "d", "e")
	all := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})

	got, err := st.UnclusteredKeywords(ctx, tn.ID, site.ID, 2)
	if err != nil || !slices.Equal(phrases(got), []string{"a", "b"}) {
		t.Fatalf("UnclusteredKeywords(2) = %v, %v", phrases(got), err)
	}

	j := newJob(t, st, tn.ID, typeCluster, site.ID, 0)
	startJobCosting(t, st, tn.ID, j.ID, 0)
	if err := st.SaveClusters(ctx, store.Outcome{TenantID: tn.ID, JobID: j.ID}, site.ID,
		[]store.NewCluster{{Name: "AC", Description: "", KeywordIDs: []int64{all[0].ID, all[2].ID}}}); err != nil {
		t.Fatal(err)
	}
	got, err = st.UnclusteredKeywords(ctx, tn.ID, site.ID, 10)
	if err != nil || !slices.Equal(phrases(got), []string{"b", "d", "e"}) {
		t.Fatalf("UnclusteredKeywords after clustering = %v, %v", phrases(got), err)
	}
	if n, err := st.CountUnclustered(ctx, tn.ID, site.ID); err != nil || n != 3 {
		t.Fatalf("CountUnclustered = %d, %v", n, err)
	}
	cid := *keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})[0].ClusterID
	if got := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{ClusterID: cid}); !slices.Equal(phrases(got), []string{"a", "c"}) {
		t.Fatalf("ListKeywords(cluster) = %v", phrases(got))
	}
	if got := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{Unclustered: true}); len(got) != 3 {
		t.Fatalf("ListKeywords(unclustered) = %v", phrases(got))
	}
	// Paging by id.
	page, err := st.ListKeywords(ctx, tn.ID, site.ID, store.KeywordFilter{}, store.Page{After: all[1].ID, Limit: 2})
	if err != nil || !slices.Equal(phrases(page), []string{"c", "d"}) {
		t.Fatalf("ListKeywords page = %v, %v", phrases(page), err)
	}
}

// TestMarkOutliersKeepsOnlyTheLatestAttempts checks that a retried
// clustering's marks replace those of its earlier attempt: a keyword the
// first attempt left out but the retry did not is no longer an outlier.
func TestMarkOutliersKeepsOnlyTheLatestAttempts(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	site := newSite(t, st, tn.ID)
	if _, err := st.ImportKeywords(ctx, tn.ID, site.ID, []kwimport.Row{kw("a"), kw("b"), kw("c")}); err != nil {
		t.Fatal(err)
	}
	all := keywords(t, st, tn.ID, site.ID, store.KeywordFilter{})
	outliers := func() []string {
		var out []string
		for _, k := range keywords(t, st, tn.ID, site.ID, store.KeywordFilter{}) {
			if k.Outlier {
				out = append(out, k.Phrase)
			}
		}
		return out
	}
	if err := st.MarkOutliers(ctx, tn.ID, site.ID, "job-1", []int64{all[0].ID, all[1].ID}); err != nil {
		t.Fatal(err)
	}
	if got := outliers(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after the first attempt the outliers are %v, want [a b]", got)
	}
	if err := st.MarkOutliers(ctx, tn.ID, site.ID, "job-1", []int64{all[1].ID}); err != nil {
		t.Fatal(err)
	}
	if got := outliers(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the retry the outliers are %v, want [b]", got)
	}
	if err := st.MarkOutliers(ctx, tn.ID, site.ID, "job-2", nil); err != nil {
		t.Fatal(err)
	}
	if got := outliers(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("another job with no outliers changed the marks to %v, want [b]", got)
	}
}
