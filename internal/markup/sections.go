package markup

import (
	"strings"

	"golang.org/x/net/html"
)

// Section is a part of an HTML fragment: what comes before its first <h2>
// (Heading "") or one <h2> with everything up to the next, its <h3>
// subsections included.
type Section struct {
	Heading string // normalized by CleanText; "" for the introduction
	Words   int    // as WordCount counts them, the heading included
}

// Sections splits an HTML fragment at its <h2> elements and counts the
// words of each part. An empty introduction is left out.
func Sections(body string) []Section {
	z := html.NewTokenizer(strings.NewReader(body))
	var out []Section
	var part, heading strings.Builder
	inHeading := false
	title := ""
	started := false // a part (the introduction or a section) is open
	flush := func() {
		if started || strings.TrimSpace(part.String()) != "" {
			if n := WordCount(part.String()); n > 0 || title != "" {
				out = append(out, Section{Heading: title, Words: n})
			}
		}
		part.Reset()
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			flush()
			return out
		}
		raw := string(z.Raw()) // copied: Text unescapes in place
		name, _ := z.TagName()
		switch {
		case tt == html.StartTagToken && string(name) == "h2":
			flush()
			started, inHeading, title = true, true, ""
			heading.Reset()
		case tt == html.EndTagToken && string(name) == "h2" && inHeading:
			inHeading = false
			title = CleanText(heading.String())
		case tt == html.TextToken && inHeading:
			heading.Write(z.Text())
		}
		part.WriteString(raw)
	}
}
