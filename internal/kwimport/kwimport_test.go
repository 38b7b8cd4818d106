package kwimport

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"running shoes", "running shoes"},
		{"Running  Shoes", "running shoes"},
		{"  RUNNING\tSHOES\r\n", "running shoes"},
		{"a\u00a0\u2003b\u3000\u2028c", "a b c"},
		{"ÄÖÜ Straße", "äöü straße"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"zero\u200bwidth", "zero\u200bwidth"}, // U+200B is not whitespace
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, Normalize(tc.in)); diff != "" {
			t.Errorf("Normalize(%q) (-want +got):\n%s", tc.in, diff)
		}
		if got := Normalize(Normalize(tc.in)); got != Normalize(tc.in) {
			t.Errorf("Normalize is not idempotent on %q: %q", tc.in, got)
		}
	}
}

func TestFoldSpaceKeepsCleanStrings(t *testing.T) {
	for _, s := range []string{"", "a", "a b", "Grüße aus Köln", "日本 語"} {
		if got := foldSpace(s); got != s {
			t.Errorf("foldSpace(%q) = %q", s, got)
		}
	}
	for _, s := range []string{" a", "a ", "a  b", "a\tb", "a\u00a0b"} {
		if isFolded(s) {
			t.Errorf("isFolded(%q) = true", s)
		}
	}
}

// oneByteReader returns at most one byte per Read.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// failingReader returns some data, then a non-EOF error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadErrorIsNotAValidationError(t *testing.T) {
	boom := errors.New("connection reset")
	parsers := map[string]func(io.Reader, int) (Result, error){"csv": ParseCSV, "json": ParseJSON}
	inputs := map[string]string{"csv": "phrase\nx\n", "json": `[{"phrase":"x"}`}
	for name, parse := range parsers {
		_, err := parse(&failingReader{data: inputs[name], err: boom}, 0)
		var ve *errs.ValidationError
		if !errors.Is(err, boom) || errors.As(err, &ve) {
			t.Errorf("%s: error = %v, want the read error, not a validation error", name, err)
		}
	}
}

func TestRowErrorJSON(t *testing.T) {
	// The HTTP layer serializes RowError as is.
	got := strings.TrimSpace(mustJSON(t, RowError{Row: 3, Field: "volume", Problem: "p"}))
	if diff := cmp.Diff(`{"row":3,"field":"volume","problem":"p"}`, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
