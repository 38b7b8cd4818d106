package markup

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// inlineElements do not separate words.
var inlineElements = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "i": true, "kbd": true, "mark": true, "q": true,
	"s": true, "samp": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "time": true, "u": true, "var": true,
}

// WordCount counts the words of the visible text of an HTML fragment: runs
// of non-space characters that contain at least one letter or digit. The
// content of script, style and similar elements is not counted.
func WordCount(s string) int {
	z := html.NewTokenizer(strings.NewReader(s))
	var text strings.Builder
	skip := ""
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return countWords(text.String())
		case html.TextToken:
			if skip == "" {
				text.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			n := string(name)
			switch n {
			case "script", "style", "template", "noscript", "iframe", "textarea", "title":
				if skip == "" && tt == html.StartTagToken {
					skip = n
				}
			}
			if !inlineElements[n] {
				text.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == skip {
				skip = ""
			}
			if !inlineElements[string(name)] {
				text.WriteByte(' ')
			}
		}
	}
}

// countWords counts the runs of non-space characters that hold a letter
// or a digit, without splitting s.
func countWords(s string) int {
	n := 0
	counted := false // the current run has been counted
	for _, r := range s {
		if unicode.IsSpace(r) {
			counted = false
			continue
		}
		if !counted && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			n++
			counted = true
		}
	}
	return n
}
