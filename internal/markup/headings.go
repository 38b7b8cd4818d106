package markup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Heading is an <h2> or <h3> element of an HTML fragment.
type Heading struct {
	Level int    // 2 or 3
	Text  string // normalized by CleanText
}

// Headings returns the <h2> and <h3> elements of an HTML fragment, in
// order, with their text (entities decoded, inner tags dropped) normalized
// by CleanText. It returns an empty, non-nil slice when there are none.
func Headings(body string) []Heading {
	z := html.NewTokenizer(strings.NewReader(body))
	out := []Heading{}
	var cur strings.Builder
	level := 0
	flush := func() {
		if level != 0 {
			out = append(out, Heading{Level: level, Text: CleanText(cur.String())})
		}
		level = 0
		cur.Reset()
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return out
		case html.StartTagToken:
			name, _ := z.TagName()
			if l := headingLevel(name); l != 0 {
				flush()
				if l == 2 || l == 3 {
					level = l
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if headingLevel(name) != 0 {
				flush()
			}
		case html.TextToken:
			if level != 0 {
				cur.Write(z.Text())
			}
		}
	}
}

// AfterH2 returns body with insert(text) written after each <h2> element,
// text being the heading's text normalized as Headings gives it, so that a
// heading read from Headings finds its place again.
func AfterH2(body string, insert func(text string) string) string {
	z := html.NewTokenizer(strings.NewReader(body))
	var out, text strings.Builder
	inH2 := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		out.Write(z.Raw())
		switch tt {
		case html.StartTagToken:
			if name, _ := z.TagName(); headingLevel(name) == 2 {
				inH2 = true
				text.Reset()
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); headingLevel(name) == 2 && inH2 {
				inH2 = false
				out.WriteString(insert(CleanText(text.String())))
			}
		case html.TextToken:
			if inH2 {
				text.Write(z.Text())
			}
		}
	}
}

// headingLevel is n for the tag name hn (n from 1 to 6), else 0.
func headingLevel(name []byte) int {
	if len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6' {
		return int(name[1] - '0')
	}
	return 0
}

// CleanText normalizes text for comparison (headings, titles, keywords):
// invalid UTF-8, control characters and U+FFFD are dropped and whitespace
// is folded.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && !unicode.IsSpace(r)) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
