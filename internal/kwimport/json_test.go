package kwimport

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseJSON(t *testing.T) {
	volumeProblem := "must be a whole number from 0 to 1000000000"
	diffProblem := "must be a whole number from 0 to 100"
	cases := []parseCase{
		{
			name: "top-level array",
			in: `[{"phrase":"Running Shoes","volume":1200,"difficulty":45,"intent":"Commercial"},
				{"phrase":"trail shoes"},
				{"phrase":"buy shoes","volume":0,"difficulty":0,"intent":"transactional"}]`,
			want: Result{Total: 3, Rows: []Row{
				{Number: 1, Phrase: "Running Shoes", Norm: "running shoes", Volume: i32(1200), Difficulty: i16(45), Intent: "commercial"},
				{Number: 2, Phrase: "trail shoes", Norm: "trail shoes"},
				{Number: 3, Phrase: "buy shoes", Norm: "buy shoes", Volume: i32(0), Difficulty: i16(0), Intent: "transactional"},
			}},
		},
		{
			name: "keywords object, BOM, aliases",
			in:   "\ufeff" + `{"keywords": [{"Keyword": " Seo  Tools ", "search_volume": 300, "kd": 7}]}`,
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: "Seo Tools", Norm: "seo tools", Volume: i32(300), Difficulty: i16(7)}}},
		},
		{
			name: "null means absent, blank intent",
			in:   `[{"phrase":"x","volume":null,"difficulty":null,"intent":null},{"phrase":"y","intent":" "}]`,
			want: Result{Total: 2, Rows: []Row{
				{Number: 1, Phrase: "x", Norm: "x"},
				{Number: 2, Phrase: "y", Norm: "y"},
			}},
		},
		{
			name: "escapes are decoded",
			in:   `[{"phrase":"caf\u00e9 \"best\"\ttabs"}]`,
			want: Result{Total: 1, Rows: []Row{{Number: 1, Phrase: `café "best" tabs`, Norm: `café "best" tabs`}}},
		},
		{
			name: "duplicates differing only in case and spacing",
			in:   `[{"phrase":"Running  Shoes"},{"phrase":"running shoes"},{"phrase":" RUNNING SHOES\n"},{"phrase":"other"}]`,
			want: Result{Total: 4, DuplicatesInFile: 2, Rows: []Row{
				{Number: 1, Phrase: "Running Shoes", Norm: "running shoes"},
				{Number: 4, Phrase: "other", Norm: "other"},
			}},
		},
		{
			name: "row problems",
			in: `[
				{"phrase":"a","cpc":1.5},
				{"phrase":"b","volume":"12"},
				{"phrase":5},
				{"phrase":"c","intent":true},
				{"phrase":"d","volume":[1,[2,{"x":3}]]},
				{"phrase":"e","difficulty":{"v":1}},
				{"phrase":"f","volume":-1},
				{"phrase":"g","volume":12.5},
				{"phrase":"h","volume":1e30},
				{"phrase":"i","volume":123456789012345678901234567890},
				{"phrase":"j","difficulty":101},
				{"phrase":"k","intent":"purchase"},
				{},
				{"phrase":null},
				{"phrase":"` + phrase201 + `"},
				{"phrase":"nul\u0000byte"},
				{"phrase":"l","phrase":"m"},
				{"phrase":"n","keyword":"o"},
				{"volume":"x","cpc":1},
				{"phrase":"ok","volume":1e3},
				{"phrase":"fine","volume":1000000000,"difficulty":100}
			]`,
			want: Result{
				Total: 21,
				Rows:  []Row{{Number: 21, Phrase: "fine", Norm: "fine", Volume: i32(1000000000), Difficulty: i16(100)}},
				Invalid: []RowError{
					{Row: 1, Field: "cpc", Problem: "is not a known field (allowed: " + allowedFields + ")"},
					{Row: 2, Field: "volume", Problem: "must be a number"},
					{Row: 3, Field: "phrase", Problem: "must be a string"},
					{Row: 4, Field: "intent", Problem: "must be a string"},
					{Row: 5, Field: "volume", Problem: "must be a number"},
					{Row: 6, Field: "difficulty", Problem: "must be a number"},
					{Row: 7, Field: "volume", Problem: volumeProblem},
					{Row: 8, Field: "volume", Problem: volumeProblem},
					{Row: 9, Field: "volume", Problem: volumeProblem},
					{Row: 10, Field: "volume", Problem: volumeProblem},
					{Row: 11, Field: "difficulty", Problem: diffProblem},
					{Row: 12, Field: "intent", Problem: "must be one of informational, navigational, commercial, transactional"},
					{Row: 13, Field: "phrase", Problem: "is required"},
					{Row: 14, Field: "phrase", Problem: "is required"},
					{Row: 15, Field: "phrase", Problem: "must be at most 200 characters"},
					{Row: 16, Field: "phrase", Problem: "must not contain control characters"},
					{Row: 17, Field: "phrase", Problem: "is given more than once"},
					{Row: 18, Field: "phrase", Problem: "is given more than once"},
					{Row: 19, Field: "volume", Problem: "must be a number"},
					{Row: 20, Field: "volume", Problem: volumeProblem},
				},
			},
		},
		{name: "row limit exceeded", in: `[{"phrase":"a"},{"phrase":"b"},{"phrase":"c"}]`, maxRows: 2, wantErr: "at most 2 rows per import"},
		{name: "empty body", in: "", wantErr: "the file has no keyword rows"},
		{name: "whitespace body", in: " \n\t ", wantErr: "the file has no keyword rows"},
		{name: "empty array", in: "[]", wantErr: "the file has no keyword rows"},
		{name: "empty keywords", in: `{"keywords":[]}`, wantErr: "the file has no keyword rows"},
		{name: "scalar", in: `42`, wantErr: "must be a JSON array of keyword objects"},
		{name: "null", in: `null`, wantErr: "must be a JSON array of keyword objects"},
		{name: "empty object", in: `{}`, wantErr: "must be a JSON array of keyword objects"},
		{name: "other key", in: `{"rows":[{"phrase":"x"}]}`, wantErr: "must be a JSON array of keyword objects"},
		{name: "keywords not an array", in: `{"keywords":{"phrase":"x"}}`, wantErr: "must be a JSON array of keyword objects"},
		{name: "extra key after keywords", in: `{"keywords":[{"phrase":"x"}],"total":1}`, wantErr: `only the "keywords" key`},
		{name: "array of strings", in: `["running shoes"]`, wantErr: "row 1 is not a JSON object"},
		{name: "array with a nested array", in: `[{"phrase":"a"},[{"phrase":"b"}]]`, wantErr: "row 2 is not a JSON object"},
		{name: "trailing array", in: `[{"phrase":"a"}] []`, wantErr: "more data after the keywords"},
		{name: "trailing garbage", in: `[{"phrase":"a"}] x`, wantErr: "not valid JSON"},
		{name: "trailing comma", in: `[{"phrase":"a",}]`, wantErr: "not valid JSON (near row 1)"},
		{name: "missing comma", in: `[{"phrase":"a"} {"phrase":"b"}]`, wantErr: "not valid JSON"},
		{name: "truncated", in: `[{"phrase":"a"},{"phrase":"b"`, wantErr: "ends too early (near row 2)"},
		{name: "truncated after array start", in: `[`, wantErr: "ends too early"},
		{name: "invalid UTF-8 in a string", in: "[\n{\"phrase\":\"a\"},\n{\"phrase\":\"b\xff\"}]", wantErr: "not valid UTF-8 text (line 3)"},
		{name: "invalid UTF-8 in a key", in: "[{\"phr\xe9ase\":\"a\"}]", wantErr: "not valid UTF-8 text (line 1)"},
		{name: "UTF-16", in: "\xfe\xff\x00[", wantErr: "UTF-16"},
	}
	runParseCases(t, parseJSONString, cases)
}

// jsonRows returns an array of n distinct rows.
func jsonRows(n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"phrase":"keyword number ` + strconv.Itoa(i) + `","volume":` + strconv.Itoa(i) + `}`)
	}
	b.WriteString("]")
	return b.String()
}

func TestParseJSONMaxRowsDefault(t *testing.T) {
	res, err := ParseJSON(strings.NewReader(jsonRows(MaxRows)), 0)
	if err != nil {
		t.Fatalf("%d rows: %v", MaxRows, err)
	}
	if len(res.Rows) != MaxRows || res.Total != MaxRows {
		t.Errorf("%d rows: got %d rows, total %d", MaxRows, len(res.Rows), res.Total)
	}
	_, err = ParseJSON(strings.NewReader(jsonRows(MaxRows+1)), 0)
	checkFileError(t, err, "at most 100000 rows per import")
}

func TestParseJSONSmallReads(t *testing.T) {
	res, err := ParseJSON(oneByteReader{strings.NewReader(`{"keywords":[{"phrase":"Grüße  aus Köln"},{"phrase":"日本語"}]}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0].Phrase != "Grüße aus Köln" || res.Rows[1].Phrase != "日本語" {
		t.Errorf("rows = %+v", res.Rows)
	}
}
