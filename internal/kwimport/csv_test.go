package kwimport

import (
	"fmt"
	"strings"
	"testing"
)

var (
	phrase200 = strings.Repeat("é", 200)
	phrase201 = strings.Repeat("é", 201)
)

func TestParseCSV(t *testing.T) {
	volumeProblem := "must be a whole number from 0 to 1000000000"
	diffProblem := "must be a whole number from 0 to 100"
	intentProblem := "must be one of informational, navigational, commercial, transactional"
	cases := []parseCase{
		{
			name: "all columns",
			in: "phrase,volume,difficulty,intent\n" +
				"Running Shoes,1200,45,Commercial\n" +
				"trail shoes,,, \n" +
				"buy shoes,0,0,TRANSACTIONAL\n",
			want: Result{Total: 3, Rows: []Row{
				{Number: 1, Phrase: "Running Shoes", Norm: "running shoes", Volume: i32(1200), Difficulty: i16(45), Intent: "commercial"},
				{Number: 2, Phrase: "trail shoes", Norm: "trail shoes"},
				{Number: 3, Phrase: "buy shoes", Norm: "buy shoes", Volume: i32(0), Difficulty: i16(0), Intent: "transactional"},
			}},
		},
		{
			name: "phrase column only, CRLF, blank lines, no final newline",
			in:   "\r\nkeyword\r\n\r\nalpha\r\n\r\nbeta",
			want: Result{Total: 2, Rows: []Row{
				{Number: 1, Phrase: "alpha", Norm: "alpha"},
				{Number: 2, Phrase: "beta", Norm: "beta"},
			}},
		},
		{
			name: "aliases, case-insensitive trimmed header, any column order",
			in:   " KD ;Search_Volume; Keyword ;intent\n7;300;Seo Tools;Navigational\n",
			want: Result{Total: 1, Rows: []Row{
				{Number: 1, Phrase: "Seo Tools", Norm: "seo tools", Volume: i32(300), Difficulty: i16(7), Intent: "navigational"},
			}},
		},
		{
			name: "keywords and query aliases",
			in:   "query\nx\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "x", Norm: "x"}}},
		},
		{
			name: "UTF-8 BOM",
			in:   "\ufeffphrase,volume\ncafé,10\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "café", Norm: "café", Volume: i32(10)}}},
		},
		{
			name: "semicolon delimited",
			in:   "phrase;volume;difficulty\nshoes, red;100;5\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "shoes, red", Norm: "shoes, red", Volume: i32(100), Difficulty: i16(5)}}},
		},
		{
			name: "tab delimited keeps empty cells in place",
			in:   "phrase\tvolume\tdifficulty\nred shoes\t\t30\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "red shoes", Norm: "red shoes", Difficulty: i16(30)}}},
		},
		{
			name: "quotes: delimiter, escaped quote, newline, space before quote",
			in: "phrase,volume\n" +
				"\"shoes, running\",\"1200\"\n" +
				"\"the \"\"best\"\" shoes\",3\n" +
				"\"two\nlines\",4\n" +
				"spaced, \"5\"\n",
			want: Result{Total: 4, Rows: []Row{
				{Number: 1, Phrase: "shoes, running", Norm: "shoes, running", Volume: i32(1200)},
				{Number: 2, Phrase: `the "best" shoes`, Norm: `the "best" shoes`, Volume: i32(3)},
				{Number: 3, Phrase: "two lines", Norm: "two lines", Volume: i32(4)},
				{Number: 4, Phrase: "spaced", Norm: "spaced", Volume: i32(5)},
			}},
		},
		{
			name: "duplicates differing only in case and spacing",
			in:   "phrase,volume\nRunning  Shoes,10\nrunning shoes,20\n  RUNNING\tSHOES ,30\nother,1\n",
			want: Result{Total: 4, DuplicatesInFile: 2, Rows: []Row{
				{Number: 1, Phrase: "Running Shoes", Norm: "running shoes", Volume: i32(10)},
				{Number: 4, Phrase: "other", Norm: "other", Volume: i32(1)},
			}},
		},
		{
			name: "an invalid row does not make a later equal phrase a duplicate",
			in:   "phrase,volume\nshoes,-1\nShoes,2\nshoes,3\n",
			want: Result{
				Total: 3, DuplicatesInFile: 1,
				Rows:    []Row{{Number: 2, Phrase: "Shoes", Norm: "shoes", Volume: i32(2)}},
				Invalid: []RowError{{Row: 1, Field: "volume", Problem: volumeProblem}},
			},
		},
		{
			name: "Unicode whitespace folded, original case kept",
			in:   "phrase\n\u00a0Grüße\u2003\u2003aus  BERLIN\u3000\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "Grüße aus BERLIN", Norm: "grüße aus berlin"}}},
		},
		{
			name: "fewer cells than the header are absent values",
			in:   "phrase,volume,difficulty,intent\nshoes,5\n",
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "shoes", Norm: "shoes", Volume: i32(5)}}},
		},
		{
			name: "limits accepted",
			in:   "phrase,volume,difficulty\n" + phrase200 + ",1000000000,100\nx, +7 ,007\n",
			want: Result{Total: 2, Rows: []Row{
				{Number: 1, Phrase: phrase200, Norm: phrase200, Volume: i32(1000000000), Difficulty: i16(100)},
				{Number: 2, Phrase: "x", Norm: "x", Volume: i32(7), Difficulty: i16(7)},
			}},
		},
		{
			name: "row problems",
			in: "phrase,volume,difficulty,intent\n" +
				",1,1,\n" + // 1
				"   ,,,\n" + // 2
				phrase201 + "\n" + // 3
				"bell\x07shoes\n" + // 4
				"nul\x00shoes\n" + // 5
				"neg,-1\n" + // 6
				"frac,12.5\n" + // 7
				"sci,1e30\n" + // 8
				"huge,99999999999999999999999\n" + // 9
				"over,1000000001\n" + // 10
				"word,twelve\n" + // 11
				"hard,1,101\n" + // 12
				"easy,1,-1\n" + // 13
				"kd,1,5.5\n" + // 14
				"buy,1,1,purchase\n" + // 15
				"extra,1,1,commercial,surplus\n" + // 16
				"first problem wins,-5,500,nope\n" + // 17
				"ok,1,1,informational\n", // 18
			want: Result{
				Total: 18,
				Rows:  []Row{{Number: 18, Phrase: "ok", Norm: "ok", Volume: i32(1), Difficulty: i16(1), Intent: "informational"}},
				Invalid: []RowError{
					{Row: 1, Field: "phrase", Problem: "is required"},
					{Row: 2, Field: "phrase", Problem: "is required"},
					{Row: 3, Field: "phrase", Problem: "must be at most 200 characters"},
					{Row: 4, Field: "phrase", Problem: "must not contain control characters"},
					{Row: 5, Field: "phrase", Problem: "must not contain control characters"},
					{Row: 6, Field: "volume", Problem: volumeProblem},
					{Row: 7, Field: "volume", Problem: volumeProblem},
					{Row: 8, Field: "volume", Problem: volumeProblem},
					{Row: 9, Field: "volume", Problem: volumeProblem},
					{Row: 10, Field: "volume", Problem: volumeProblem},
					{Row: 11, Field: "volume", Problem: volumeProblem},
					{Row: 12, Field: "difficulty", Problem: diffProblem},
					{Row: 13, Field: "difficulty", Problem: diffProblem},
					{Row: 14, Field: "difficulty", Problem: diffProblem},
					{Row: 15, Field: "intent", Problem: intentProblem},
					{Row: 16, Field: "row", Problem: "has 5 cells but the header has 4 columns"},
					{Row: 17, Field: "volume", Problem: volumeProblem},
				},
			},
		},
		{
			name:    "row limit reached exactly",
			in:      "phrase\na\nb\n",
			maxRows: 2,
			want: Result{Total: 2, Rows: []Row{
				{Number: 1, Phrase: "a", Norm: "a"},
				{Number: 2, Phrase: "b", Norm: "b"},
			}},
		},
		{name: "row limit exceeded", in: "phrase\na\nb\nc\n", maxRows: 2, wantErr: "at most 2 rows per import"},
		{name: "empty body", in: "", wantErr: "the file has no keyword rows"},
		{name: "blank lines only", in: "\n\r\n\n", wantErr: "the file has no keyword rows"},
		{name: "BOM only", in: "\ufeff", wantErr: "the file has no keyword rows"},
		{name: "header only", in: "phrase,volume\n", wantErr: "the file has no keyword rows"},
		{name: "no header row", in: "running shoes,1200\ntrail shoes,300\n", wantErr: `must be a header row naming the columns, with a "phrase" column`},
		{name: "no phrase column", in: "volume,intent\n5,commercial\n", wantErr: `with a "phrase" column`},
		{name: "unknown column", in: "phrase,cpc\nx,1\n", wantErr: `unknown column "cpc"`},
		{name: "duplicate column", in: "Phrase,volume,keyword\nx,1,y\n", wantErr: `two phrase columns ("Phrase" and "keyword")`},
		{name: "duplicate volume alias", in: "phrase,volume,search_volume\nx,1,2\n", wantErr: "two volume columns"},
		{name: "unnamed column", in: "phrase,,volume\nx,,1\n", wantErr: "column 2 of the header has no name"},
		{name: "bare quote", in: "phrase,volume\nok,1\nthe \"best\" shoes,2\n", wantErr: `line 3, column 5: a quote (") is inside a cell that is not quoted`},
		{name: "text after closing quote", in: "phrase\n\"abc\"def\n", wantErr: `line 2, column 5: a quoted cell has a stray or missing quote`},
		{name: "unclosed quote", in: "phrase,volume\n\"never closed,1\nmore,2\n", wantErr: `line 3, column 8: a quoted cell of the row starting on line 2 has a stray or missing quote`},
		{name: "malformed header quoting", in: "phr\"ase\nx\n", wantErr: "line 1, column 4"},
		{name: "invalid UTF-8", in: "phrase\nok\nbad \xff byte\n", wantErr: "not valid UTF-8 text (line 3)"},
		{name: "invalid UTF-8 in header", in: "phr\xc3ase\nx\n", wantErr: "not valid UTF-8 text (line 1)"},
		{name: "truncated UTF-8 at the end", in: "phrase\nok\ncaf\xc3", wantErr: "not valid UTF-8 text (line 3)"},
		{name: "UTF-8 encoded surrogate", in: "phrase\n\xed\xa0\x80\n", wantErr: "not valid UTF-8 text (line 2)"},
		{name: "UTF-16", in: "\xff\xfep\x00h\x00", wantErr: "UTF-16"},
	}
	runParseCases(t, parseCSVString, cases)
}

// csvRows returns a header and n distinct rows.
func csvRows(n int) string {
	var b strings.Builder
	b.Grow(n * 32)
	b.WriteString("phrase,volume,difficulty,intent\n")
	for i := range n {
		fmt.Fprintf(&b, "keyword number %d,%d,%d,commercial\n", i, i*7%1000000, i%101)
	}
	return b.String()
}

func TestParseCSVMaxRowsDefault(t *testing.T) {
	res, err := ParseCSV(strings.NewReader(csvRows(MaxRows)), 0)
	if err != nil {
		t.Fatalf("%d rows: %v", MaxRows, err)
	}
	if len(res.Rows) != MaxRows || res.Total != MaxRows {
		t.Errorf("%d rows: got %d rows, total %d", MaxRows, len(res.Rows), res.Total)
	}
	_, err = ParseCSV(strings.NewReader(csvRows(MaxRows+1)), 0)
	checkFileError(t, err, "at most 100000 rows per import")
}

// TestParseCSVSmallReads feeds the input one byte at a time, so multi-byte
// runes straddle reads.
func TestParseCSVSmallReads(t *testing.T) {
	in := "\ufeffphrase;volume\nGrüße  aus Köln;5\n日本語;6\n"
	res, err := ParseCSV(oneByteReader{strings.NewReader(in)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Grüße aus Köln", "日本語"}
	if len(res.Rows) != 2 || res.Rows[0].Phrase != want[0] || res.Rows[1].Phrase != want[1] {
		t.Errorf("rows = %+v, want phrases %q", res.Rows, want)
	}
	_, err = ParseCSV(oneByteReader{strings.NewReader("phrase\nx\ny\xe6\x97\n")}, 0)
	checkFileError(t, err, "not valid UTF-8 text (line 3)")
}
