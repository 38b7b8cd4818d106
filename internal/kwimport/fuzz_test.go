package kwimport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

// fuzzMaxRows keeps the row limit reachable by the fuzzer.
const fuzzMaxRows = 50

func FuzzParseCSV(f *testing.F) {
	seeds := []string{
		"phrase,volume,difficulty,intent\nRunning Shoes,1200,45,Commercial\nrunning  shoes,1,1,\n",
		"\ufeffkeyword;search_volume;kd\nshoes, red;100;5\n",
		"phrase\tvolume\nred shoes\t\t30\n",
		"phrase,volume\n\"shoes, \"\"best\"\"\",1\n\"two\nlines\",2\n",
		"phrase,volume\n,1\n" + phrase201 + ",2\nx,-1\ny,1e30\nz,1,2,3\n",
		"phrase\na\x00b\nc\x7fd\n",
		"phrase,volume\nthe \"best\" shoes,2\n",
		"phrase\n\"never closed\n",
		"phrase\nbad \xff byte\n",
		"\xff\xfep\x00",
		"volume,intent\n1,x\n",
		"phrase,phrase\n",
		"phrase,cpc\nx,1\n",
		"",
		"phrase\n" + strings.Repeat("x\n", fuzzMaxRows+1),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ParseCSV(bytes.NewReader(in), fuzzMaxRows)
		checkInvariants(t, res, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	seeds := []string{
		`[{"phrase":"Running Shoes","volume":1200,"difficulty":45,"intent":"Commercial"},{"phrase":"running  shoes"}]`,
		"\ufeff" + `{"keywords":[{"keyword":"x","search_volume":1,"kd":2}]}`,
		`[{"phrase":"a","cpc":1},{"phrase":"b","volume":"12"},{"phrase":5},{"phrase":"c","volume":[1,{"a":[]}]}]`,
		`[{"phrase":"a","volume":-1},{"phrase":"b","volume":1e30},{"phrase":"c","difficulty":101},{"phrase":"d","phrase":"e"}]`,
		`[{"phrase":"nul\u0000"},{"phrase":"\ud800"},{},{"phrase":null,"intent":null}]`,
		`{"keywords":[],"x":1}`,
		`[{"phrase":"a"}] []`,
		`[{"phrase":"a"},{"phrase":"b"`,
		"[{\"phrase\":\"b\xff\"}]",
		`["x"]`,
		`42`,
		``,
		`[` + strings.Repeat(`{"phrase":"x"},`, fuzzMaxRows) + `{"phrase":"y"}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := ParseJSON(bytes.NewReader(in), fuzzMaxRows)
		checkInvariants(t, res, err)
	})
}

// checkInvariants checks what must hold for any input: a validation error
// and no result, or a consistent result.
func checkInvariants(t *testing.T, res Result, err error) {
	t.Helper()
	if err != nil {
		var ve *errs.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error %v (%T) is not a *errs.ValidationError", err, err)
		}
		if res.Total != 0 || res.Rows != nil || res.Invalid != nil || res.DuplicatesInFile != 0 {
			t.Fatalf("a result came with the error %v: %+v", err, res)
		}
		return
	}
	if got := len(res.Rows) + len(res.Invalid) + res.DuplicatesInFile; got != res.Total || res.Total == 0 || res.Total > fuzzMaxRows {
		t.Fatalf("rows %d + invalid %d + duplicates %d != total %d (or total out of range)",
			len(res.Rows), len(res.Invalid), res.DuplicatesInFile, res.Total)
	}
	checkRows(t, res)
	checkInvalid(t, res)
}

func checkRows(t *testing.T, res Result) {
	t.Helper()
	norms := make(map[string]bool, len(res.Rows))
	last := 0
	for _, r := range res.Rows {
		if r.Norm != Normalize(r.Phrase) || Normalize(r.Norm) != r.Norm {
			t.Fatalf("row %d: Norm %q, Normalize(Phrase %q) = %q", r.Number, r.Norm, r.Phrase, Normalize(r.Phrase))
		}
		if norms[r.Norm] {
			t.Fatalf("row %d: Norm %q repeats", r.Number, r.Norm)
		}
		norms[r.Norm] = true
		if r.Number <= last || r.Number > res.Total {
			t.Fatalf("row number %d after %d, total %d", r.Number, last, res.Total)
		}
		last = r.Number
		checkRowValues(t, r)
	}
}

func checkRowValues(t *testing.T, r Row) {
	t.Helper()
	n := utf8.RuneCountInString(r.Phrase)
	if !utf8.ValidString(r.Phrase) || n == 0 || n > MaxPhraseRunes || foldSpace(r.Phrase) != r.Phrase ||
		strings.IndexFunc(r.Phrase, unicode.IsControl) >= 0 {
		t.Fatalf("row %d: bad phrase %q", r.Number, r.Phrase)
	}
	if r.Volume != nil && (*r.Volume < 0 || *r.Volume > MaxVolume) ||
		r.Difficulty != nil && (*r.Difficulty < 0 || *r.Difficulty > MaxDifficulty) {
		t.Fatalf("row %d: volume or difficulty out of range", r.Number)
	}
	if _, ok := parseIntent(r.Intent); !ok || strings.ToLower(r.Intent) != r.Intent {
		t.Fatalf("row %d: bad intent %q", r.Number, r.Intent)
	}
}

func checkInvalid(t *testing.T, res Result) {
	t.Helper()
	last := 0
	for _, e := range res.Invalid {
		if e.Row <= last || e.Row > res.Total || e.Problem == "" {
			t.Fatalf("invalid row %+v after row %d, total %d", e, last, res.Total)
		}
		last = e.Row
	}
}
