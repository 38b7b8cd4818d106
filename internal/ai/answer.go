package ai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

// containsString reports whether ss holds s.
func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data. A Markdown code fence around the JSON is removed.
func decodeStrict(content []byte, v any) error {
	content = stripCodeFence(content)
	if len(bytes.TrimSpace(content)) == 0 {
		return errors.New("the answer is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the answer is not JSON that matches the schema: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the answer has data after the JSON object")
	}
	return nil
}

// stripCodeFence removes a Markdown code fence (and its info string) around b.
func stripCodeFence(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if !bytes.HasPrefix(t, []byte("```")) || !bytes.HasSuffix(t, []byte("```")) || len(t) < 6 {
		return b
	}
	t = t[3 : len(t)-3]
	if i := bytes.IndexByte(t, '\n'); i >= 0 {
		// Drop the info string ("json") on the opening line.
		if first := bytes.TrimSpace(t[:i]); len(first) == 0 || isWord(first) {
			t = t[i+1:]
		}
	}
	return t
}

// isWord reports whether b is only ASCII letters.
func isWord(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// runes counts the runes of s.
func runes(s string) int { return utf8.RuneCountInString(s) }

// checkLen adds a problem on field unless value, trimmed, has lo to hi runes.
func checkLen(ve *errs.ValidationError, field, value string, lo, hi int) {
	n := runes(strings.TrimSpace(value))
	switch {
	case n == 0 && lo > 0:
		ve.Add(field, "must not be empty")
	case n < lo:
		ve.Add(field, "must be at least %d characters, got %d", lo, n)
	case n > hi:
		ve.Add(field, "must be at most %d characters, got %d", hi, n)
	}
}

// cutAtWord shortens s to at most n runes: at the last space when the cut
// would fall inside a word and one is not too far back (in the second
// half), without the spaces and separating punctuation that would dangle
// at the end.
func cutAtWord(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := r[:n]
	if !unicode.IsSpace(r[n]) {
		for i := len(cut) - 1; i >= n/2; i-- {
			if unicode.IsSpace(cut[i]) {
				cut = cut[:i]
				break
			}
		}
	}
	out := strings.TrimRightFunc(string(cut), func(c rune) bool {
		return unicode.IsSpace(c) || strings.ContainsRune(",;:-–—/&|(", c)
	})
	if out == "" {
		out = strings.TrimSpace(string(r[:n]))
	}
	return out
}

// truncateRunes cuts s to n runes and marks the cut with an ellipsis.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
