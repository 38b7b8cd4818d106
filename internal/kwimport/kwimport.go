// Package kwimport parses a keyword import file, CSV or JSON, into validated
// rows ready for the store's COPY.
//
// Problems with the file as a whole (not UTF-8, no header, malformed CSV
// quoting, not an array of objects, too many rows, no rows at all) are
// returned as an *errs.ValidationError on the field [ErrorField] and no
// Result. Problems with one row (an empty phrase, a volume out of range, an
// unknown intent...) mark just that row invalid and parsing goes on; a row
// whose normalized phrase repeats an earlier valid row is skipped and
// counted in Result.DuplicatesInFile. Tabs and newlines inside a phrase fold
// to spaces like any whitespace; other control characters make the row
// invalid.
//
// The parsers stream their input and read at most maxRows+1 rows, but they
// do not limit the size of a single row: the caller bounds the body size
// (for example with http.MaxBytesReader).
package kwimport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

// MaxRows is the default, and usual, limit on data rows in one import.
const MaxRows = 100000

// MaxPhraseRunes is the longest phrase allowed, in characters (runes),
// after its whitespace is folded.
const MaxPhraseRunes = 200

// MaxVolume is the largest search volume accepted.
const MaxVolume = 1_000_000_000

// MaxDifficulty is the largest keyword difficulty accepted; the smallest is 0.
const MaxDifficulty = 100

// ErrorField is the field named by the *errs.ValidationError returned for a
// problem with the file as a whole.
const ErrorField = "file"

// intents are the accepted search intents, in the order error messages list
// them. Input is matched case-insensitively; Row.Intent is lower-case.
var intents = []string{"informational", "navigational", "commercial", "transactional"}

// Row is one valid keyword. Norm is Normalize(Phrase); the store's uniqueness key.
type Row struct {
	Number     int    // 1-based data row number (CSV: the header is not counted; JSON: array index + 1)
	Phrase     string // trimmed, inner whitespace folded to single spaces, original case kept
	Norm       string // Normalize(Phrase)
	Volume     *int32 // optional, 0..MaxVolume
	Difficulty *int16 // optional, 0..MaxDifficulty
	Intent     string // "" or informational, navigational, commercial, transactional
}

// RowError reports one invalid row: its number, the field at fault (the
// canonical name phrase, volume, difficulty or intent; an unknown JSON key
// as given; or "row" for a CSV row with more cells than the header) and a
// plain-English problem.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Result is a parsed file.
type Result struct {
	Rows             []Row      // valid rows, in file order, with distinct Norms
	Invalid          []RowError // at most one entry per row (the first problem), sorted by row
	DuplicatesInFile int        // rows skipped because an earlier row had the same Norm
	Total            int        // data rows seen
}

// Normalize returns the uniqueness key of a phrase: lower-cased
// (strings.ToLower, so Unicode-aware) with every run of Unicode whitespace
// (unicode.IsSpace) folded to one space and leading and trailing whitespace
// removed. Phrases that differ only in case or spacing, such as
// "Running  Shoes" and "running shoes", have the same key. No Unicode
// normalization (NFC) is applied.
func Normalize(phrase string) string {
	return foldSpace(strings.ToLower(phrase))
}

// foldSpace trims s and folds each inner run of Unicode whitespace to one
// ASCII space. It returns s itself when nothing changes.
func foldSpace(s string) string {
	if isFolded(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			pending = b.Len() > 0
			continue
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isFolded reports whether s has no leading, trailing, repeated or
// non-ASCII-space whitespace.
func isFolded(s string) bool {
	prevSpace := true // a space at the start is not allowed
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			return false
		}
		prevSpace = sp
	}
	return !prevSpace || s == ""
}

// field identifies a column (CSV) or key (JSON).
type field uint8

const (
	fieldNone field = iota
	fieldPhrase
	fieldVolume
	fieldDifficulty
	fieldIntent
	numFields
)

var fieldNames = [numFields]string{"", "phrase", "volume", "difficulty", "intent"}

// aliases maps accepted (lower-case) column and key names to fields.
var aliases = map[string]field{
	"phrase": fieldPhrase, "keyword": fieldPhrase, "keywords": fieldPhrase, "query": fieldPhrase,
	"volume": fieldVolume, "search_volume": fieldVolume,
	"difficulty": fieldDifficulty, "kd": fieldDifficulty,
	"intent": fieldIntent,
}

const allowedFields = "phrase (or keyword, keywords, query), volume (or search_volume), difficulty (or kd), intent"

// lookupField matches a column or key name, trimmed and case-insensitively.
func lookupField(name string) field {
	return aliases[strings.ToLower(strings.TrimSpace(name))]
}

// rawRow holds one row's cells before validation. A format-level problem
// (unknown JSON key, wrong JSON type, extra CSV cells) is kept in bad*.
type rawRow struct {
	vals       [numFields]string
	set        [numFields]bool
	bad        bool
	badField   string
	badProblem string
}

// fail records the row's first problem.
func (r *rawRow) fail(field, problem string) {
	if !r.bad {
		r.bad, r.badField, r.badProblem = true, field, problem
	}
}

// builder accumulates a Result.
type builder struct {
	res   Result
	seen  map[string]struct{}
	vols  slab[int32]
	diffs slab[int16]
}

// slab hands out pointers to values allocated in chunks, so that rows do
// not cost one small allocation per optional number.
type slab[T any] struct{ free []T }

// ptr returns a pointer to a new slot holding v.
func (s *slab[T]) ptr(v T) *T {
	const chunk = 1024
	if len(s.free) == 0 {
		s.free = make([]T, chunk)
	}
	p := &s.free[0]
	*p = v
	s.free = s.free[1:]
	return p
}

func newBuilder(hint int) *builder {
	return &builder{
		res:  Result{Rows: make([]Row, 0, hint)},
		seen: make(map[string]struct{}, hint),
	}
}

// add validates raw as data row num and files it as valid, invalid or duplicate.
func (b *builder) add(num int, raw *rawRow) {
	b.res.Total++
	if raw.bad {
		b.res.Invalid = append(b.res.Invalid, RowError{Row: num, Field: raw.badField, Problem: raw.badProblem})
		return
	}
	row, rerr, ok := b.buildRow(num, raw)
	if !ok {
		b.res.Invalid = append(b.res.Invalid, rerr)
		return
	}
	if _, dup := b.seen[row.Norm]; dup {
		b.res.DuplicatesInFile++
		return
	}
	b.seen[row.Norm] = struct{}{}
	b.res.Rows = append(b.res.Rows, row)
}

// finish returns the Result, or an error when the file had no data rows.
func (b *builder) finish() (Result, error) {
	if b.res.Total == 0 {
		return Result{}, errNoRows()
	}
	return b.res, nil
}

// buildRow validates raw's cells, in the order phrase, volume, difficulty,
// intent, stopping at the first problem.
func (b *builder) buildRow(num int, raw *rawRow) (Row, RowError, bool) {
	fail := func(f field, problem string) (Row, RowError, bool) {
		return Row{}, RowError{Row: num, Field: fieldNames[f], Problem: problem}, false
	}
	phrase, problem := cleanPhrase(raw.vals[fieldPhrase])
	if problem != "" {
		return fail(fieldPhrase, problem)
	}
	row := Row{Number: num, Phrase: phrase, Norm: Normalize(phrase)}
	vol, hasVol, ok := parseBounded(raw.vals[fieldVolume], MaxVolume)
	if !ok {
		return fail(fieldVolume, fmt.Sprintf("must be a whole number from 0 to %d", MaxVolume))
	}
	if hasVol {
		row.Volume = b.vols.ptr(int32(vol))
	}
	diff, hasDiff, ok := parseBounded(raw.vals[fieldDifficulty], MaxDifficulty)
	if !ok {
		return fail(fieldDifficulty, fmt.Sprintf("must be a whole number from 0 to %d", MaxDifficulty))
	}
	if hasDiff {
		row.Difficulty = b.diffs.ptr(int16(diff))
	}
	if row.Intent, ok = parseIntent(raw.vals[fieldIntent]); !ok {
		return fail(fieldIntent, "must be one of "+strings.Join(intents, ", "))
	}
	return row, RowError{}, true
}

// cleanPhrase folds a phrase's whitespace and checks it; problem is "" when
// the phrase is valid. Whitespace control characters (tab, newline...) are
// folded like spaces; any other control character makes the phrase invalid.
func cleanPhrase(s string) (phrase, problem string) {
	phrase = foldSpace(s)
	switch {
	case phrase == "":
		return "", "is required"
	case strings.IndexFunc(phrase, unicode.IsControl) >= 0:
		return "", "must not contain control characters"
	case utf8.RuneCountInString(phrase) > MaxPhraseRunes:
		return "", fmt.Sprintf("must be at most %d characters", MaxPhraseRunes)
	}
	return phrase, ""
}

// parseBounded parses an optional decimal integer in 0..hi. Blank means
// absent (present false, ok true).
func parseBounded(s string, hi int64) (v int64, present, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > hi {
		return 0, true, false
	}
	return v, true, true
}

// parseIntent returns the lower-case intent; blank means none.
func parseIntent(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", true
	}
	for _, in := range intents {
		if s == in {
			return in, true
		}
	}
	return "", false
}

// rowLimit applies the default limit.
func rowLimit(maxRows int) int {
	if maxRows <= 0 {
		return MaxRows
	}
	return maxRows
}

// sizeHint guesses how many rows to preallocate: from the input length when
// the reader knows it (bytes.Reader, strings.Reader, bytes.Buffer).
func sizeHint(r io.Reader, maxRows int) int {
	const bytesPerRow = 24
	hint := 1024
	if l, ok := r.(interface{ Len() int }); ok {
		hint = l.Len()/bytesPerRow + 1
	}
	return min(hint, maxRows)
}

// clip shortens a name echoed in an error message.
func clip(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	return string([]rune(s)[:maxRunes]) + "…"
}

func errNoRows() error {
	return errs.Invalid(ErrorField, "the file has no keyword rows")
}

func errTooManyRows(maxRows int) error {
	return errs.Invalid(ErrorField, "at most %d rows per import", maxRows)
}
