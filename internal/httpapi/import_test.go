package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// storedKeyword is a keyword as the listing shows it, without ids and times.
type storedKeyword struct {
	Phrase     string
	Volume     *int32
	Difficulty *int16
	Intent     *string
}

func listKeywords(t testing.TB, h *apptest.Harness, key string, siteID int64) []storedKeyword {
	t.Helper()
	var l struct {
		Items []store.Keyword `json:"items"`
	}
	call(t, h, key, "GET", fmt.Sprintf("/v1/sites/%d/keywords?limit=500", siteID), "", nil).must(t, 200, &l)
	out := make([]storedKeyword, len(l.Items))
	for i, k := range l.Items {
		out[i] = storedKeyword{Phrase: k.Phrase, Volume: k.Volume, Difficulty: k.Difficulty, Intent: k.Intent}
	}
	return out
}

func i32(v int32) *int32   { return &v }
func i16(v int16) *int16   { return &v }
func str(v string) *string { return &v }

type rowProblem struct {
	Row   int
	Field string
}

func rowProblems(r importReport) []rowProblem {
	out := make([]rowProblem, len(r.Invalid))
	for i, e := range r.Invalid {
		out[i] = rowProblem{Row: e.Row, Field: e.Field}
		if e.Problem == "" {
			out[i].Field += " (no problem text)"
		}
	}
	return out
}

func TestKeywordImport(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "importer")
	siteID := createSite(t, h, f.Key, "Import blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/keywords", siteID)

	csv := strings.Join([]string{
		"Keyword,Search_Volume,KD,Intent",
		"Running Shoes,1000,40,commercial",    // 1
		"running  shoes,5,1,",                 // 2: duplicate of 1
		"best trail shoes,500,,informational", // 3
		",10,5,",                              // 4: no phrase
		"trail running tips,-5,,",             // 5: negative volume
		"marathon plan,100,101,",              // 6: difficulty out of range
		"marathon pace,100,10,buy",            // 7: unknown intent
		`"  RUNNING	SHOES  ",1,1,`,            // 8: duplicate of 1 (tab, case)
		"half marathon,,,Navigational",        // 9
		"a,b,c,d,e",                           // 10: more cells than columns
	}, "\r\n") + "\r\n"
	var r importReport
	call(t, h, f.Key, "POST", path, "text/csv; charset=utf-8", []byte(csv)).must(t, 200, &r)
	if r.Total != 10 || r.Imported != 3 || r.DuplicatesInFile != 2 || r.DuplicatesExisting != 0 || r.InvalidCount != 5 {
		t.Errorf("CSV report %+v, want total 10, imported 3, 2 duplicates in the file, 5 invalid", r)
	}
	wantInvalid := []rowProblem{{4, "phrase"}, {5, "volume"}, {6, "difficulty"}, {7, "intent"}, {10, "row"}}
	if diff := cmp.Diff(wantInvalid, rowProblems(r)); diff != "" {
		t.Errorf("invalid rows (-want +got):\n%s", diff)
	}
	want := []storedKeyword{
		{Phrase: "Running Shoes", Volume: i32(1000), Difficulty: i16(40), Intent: str("commercial")},
		{Phrase: "best trail shoes", Volume: i32(500), Intent: str("informational")},
		{Phrase: "half marathon", Intent: str("navigational")},
	}
	if diff := cmp.Diff(want, listKeywords(t, h, f.Key, siteID)); diff != "" {
		t.Fatalf("stored keywords (-want +got):\n%s", diff)
	}

	// JSON: duplicates of stored keywords (case and spaces aside) are
	// skipped and counted; the stored ones keep their values.
	body := `{"keywords":[
		{"phrase":"RUNNING   shoes","volume":1},
		{"keyword":" Best Trail Shoes ","volume":3},
		{"query":"new phrase","difficulty":0,"intent":null},
		{"phrase":"New  Phrase"},
		{"phrase":"bad volume","volume":-1}
	]}`
	call(t, h, f.Key, "POST", path, "application/json", []byte(body)).must(t, 200, &r)
	if r.Total != 5 || r.Imported != 1 || r.DuplicatesInFile != 1 || r.DuplicatesExisting != 2 || r.InvalidCount != 1 {
		t.Errorf("JSON report %+v, want total 5, imported 1, 1 duplicate in the file, 2 stored already, 1 invalid", r)
	}
	if diff := cmp.Diff([]rowProblem{{5, "volume"}}, rowProblems(r)); diff != "" {
		t.Errorf("invalid rows (-want +got):\n%s", diff)
	}
	want = append(want, storedKeyword{Phrase: "new phrase", Difficulty: i16(0)})
	if diff := cmp.Diff(want, listKeywords(t, h, f.Key, siteID)); diff != "" {
		t.Errorf("stored keywords (-want +got):\n%s", diff)
	}

	// A bare array, a semicolon CSV with a byte order mark.
	call(t, h, f.Key, "POST", path, "application/json", []byte(`[{"phrase":"array form"}]`)).must(t, 200, &r)
	if r.Imported != 1 || r.Invalid == nil {
		t.Errorf("array import %+v, want 1 imported and an empty invalid list", r)
	}
	call(t, h, f.Key, "POST", path, "text/csv", []byte("\xEF\xBB\xBFphrase;volume\nsemicolon form;7\n")).must(t, 200, &r)
	if r.Imported != 1 {
		t.Errorf("semicolon import %+v, want 1 imported", r)
	}
	// Everything stored already: a 200 that imports nothing.
	call(t, h, f.Key, "POST", path, "text/csv", []byte("phrase\nHALF MARATHON\n")).must(t, 200, &r)
	if r.Imported != 0 || r.DuplicatesExisting != 1 {
		t.Errorf("re-import %+v, want 0 imported and 1 stored already", r)
	}
	if n := len(listKeywords(t, h, f.Key, siteID)); n != 6 {
		t.Errorf("%d keywords stored, want 6", n)
	}

	// The same phrase on another site of the tenant is another keyword.
	other := createSite(t, h, f.Key, "Other blog", "pw")
	importCSV(t, h, f.Key, other, "phrase\nrunning shoes\n")
	if got := listKeywords(t, h, f.Key, other); len(got) != 1 {
		t.Errorf("other site has %d keywords, want 1", len(got))
	}
}

func TestKeywordImportRowLimit(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("MAX_IMPORT_ROWS", "5"))
	f := newFixtureLite(t, h, "limited")
	siteID := createSite(t, h, f.Key, "Limited blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/keywords", siteID)
	rows := func(n int) []byte {
		var b strings.Builder
		b.WriteString("phrase\n")
		for i := range n {
			fmt.Fprintf(&b, "limited keyword %d\n", i)
		}
		return []byte(b.String())
	}
	p := call(t, h, f.Key, "POST", path, "text/csv", rows(6)).problem(t, 400)
	if len(p.Errors) != 1 || p.Errors[0].Field != "file" || !strings.Contains(p.Errors[0].Problem, "5") {
		t.Errorf("problem %+v, want the file named with the limit", p.Errors)
	}
	if n, _ := h.App.Store.CountUnclustered(context.Background(), f.TenantID, siteID); n != 0 {
		t.Errorf("%d keywords stored from a refused file", n)
	}
	var r importReport
	call(t, h, f.Key, "POST", path, "text/csv", rows(5)).must(t, 200, &r)
	if r.Imported != 5 {
		t.Errorf("imported %d, want 5", r.Imported)
	}
}

func TestKeywordImport100k(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 rows")
	}
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "bulk")
	siteID := createSite(t, h, f.Key, "Bulk blog", "pw")
	intents := []string{"informational", "navigational", "commercial", "transactional", ""}
	var b strings.Builder
	b.WriteString("phrase,volume,difficulty,intent\n")
	const rows = 100_000
	for i := range rows {
		fmt.Fprintf(&b, "bulk keyword %d about topic %d,%d,%d,%s\n", i, i%997, i*7%100000, i%101, intents[i%len(intents)])
	}
	body := []byte(b.String())

	start := time.Now()
	var r importReport
	call(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%d/keywords", siteID), "text/csv", body).must(t, 200, &r)
	elapsed := time.Since(start)
	t.Logf("imported %d rows (%.1f MiB of CSV) in one request in %s", r.Imported, float64(len(body))/(1<<20), elapsed)
	if r.Total != rows || r.Imported != rows || r.InvalidCount != 0 || r.DuplicatesInFile != 0 {
		t.Fatalf("report %+v, want %d rows imported", r, rows)
	}
	n, err := h.App.Store.CountUnclustered(context.Background(), f.TenantID, siteID)
	apptest.Must(t, err, "count keywords")
	if n != rows {
		t.Errorf("%d keywords stored, want %d", n, rows)
	}
	var last struct {
		Items []store.Keyword `json:"items"`
	}
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/sites/%d/keywords?limit=1&after=%d", siteID, 0), "", nil).must(t, 200, &last)
	if len(last.Items) != 1 || last.Items[0].Phrase != "bulk keyword 0 about topic 0" {
		t.Errorf("first keyword %+v, want the file's first row", last.Items)
	}
}
