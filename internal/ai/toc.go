package ai

import (
	"fmt"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
	"golang.org/x/text/language"

	"github.com/presswork/presswork/internal/markup"
)

// tocLabels is the label of a table of contents by base language; a
// language not listed gets a table without a label rather than an English
// one.
var tocLabels = map[string]string{
	"en": "Contents", "de": "Inhalt", "fr": "Sommaire", "es": "Índice", "it": "Indice", "pt": "Índice",
	"nl": "Inhoud", "sv": "Innehåll", "da": "Indhold", "nb": "Innhold", "pl": "Spis treści", "cs": "Obsah",
}

// tocLabel is the table of contents' label for a profile language ("" is
// the keywords' language, taken as English, which the offline writer
// writes).
func tocLabel(lang string) string {
	if lang == "" {
		return tocLabels["en"]
	}
	base, _ := language.Make(lang).Base()
	return tocLabels[base.String()]
}

// addTableOfContents gives every <h2> and <h3> of body an id (a slug of its
// text, kept when it has a valid one already) and puts before the first
// <h2> a <nav> listing the <h2> headings as links to their ids. A body that
// already has a <nav>, or has no <h2>, is returned as it is.
func addTableOfContents(body, lang string) string {
	if strings.Contains(body, "<nav") {
		return body
	}
	type entry struct{ id, text string }
	var (
		out     strings.Builder
		entries []entry
		navAt   = -1 // where in out the <nav> goes
		used    = map[string]bool{}
		count   int
	)
	headings := markup.Headings(body) // the texts, in the order of the start tags below
	z := xhtml.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		tok := z.Token()
		if tt == xhtml.StartTagToken && (tok.Data == "h2" || tok.Data == "h3") {
			text := ""
			if count < len(headings) {
				text = headings[count].Text
			}
			count++
			id := ""
			for _, a := range tok.Attr {
				if a.Key == "id" {
					id = a.Val
				}
			}
			if id == "" || used[id] {
				id = uniqueID(headingSlug(text, count), used)
				tok.Attr = []xhtml.Attribute{{Key: "id", Val: id}}
			}
			used[id] = true
			if tok.Data == "h2" {
				if navAt < 0 {
					navAt = out.Len()
				}
				entries = append(entries, entry{id: id, text: text})
			}
		}
		out.WriteString(tok.String())
	}
	if navAt < 0 || len(entries) == 0 {
		return body
	}
	var nav strings.Builder
	nav.WriteString("<nav>")
	if label := tocLabel(lang); label != "" {
		fmt.Fprintf(&nav, "<p><strong>%s</strong></p>", html.EscapeString(label))
	}
	nav.WriteString("<ul>")
	for _, e := range entries {
		fmt.Fprintf(&nav, `<li><a href="#%s">%s</a></li>`, e.id, html.EscapeString(e.text))
	}
	nav.WriteString("</ul></nav>\n")
	s := out.String()
	return s[:navAt] + nav.String() + s[navAt:]
}

// headingSlug makes an id from a heading's text: its slug, else
// "section-n".
func headingSlug(text string, n int) string {
	if s := markup.Slug(text, 60); s != "" {
		return s
	}
	return fmt.Sprintf("section-%d", n)
}

// uniqueID returns id, or id with the first free "-2", "-3"... suffix.
func uniqueID(id string, used map[string]bool) string {
	if !used[id] {
		return id
	}
	for i := 2; ; i++ {
		if c := fmt.Sprintf("%s-%d", id, i); !used[c] {
			return c
		}
	}
}
