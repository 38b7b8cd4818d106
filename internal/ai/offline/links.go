package offline

import (
	"html"
	"strings"

	"github.com/presswork/presswork/internal/ai"
)

// maxDraftLinks is the most internal links the offline writer places.
const maxDraftLinks = 5

// linkSentences introduce an internal link; {L} is the link.
var linkSentences = []string{
	"There is more on this in {L}.",
	"For the background, see {L}.",
	"Our piece {L} goes into more detail.",
	"If this is new to you, start with {L}.",
	"See also {L}.",
}

// withInternalLinks places a link to each of the first pages of targets
// (at most maxDraftLinks, as many as there are paragraphs) in body: a
// sentence at the end of paragraphs spread over the article, the page's
// title as the anchor text. Without targets body is returned as it is.
func withInternalLinks(body string, targets []ai.LinkTarget) string {
	paras := strings.Count(body, "</p>")
	n := min(len(targets), maxDraftLinks, paras)
	if n == 0 {
		return body
	}
	at := make(map[int]ai.LinkTarget, n) // paragraph index -> link
	for i := range n {
		at[(i+1)*paras/(n+1)] = targets[i]
	}
	var b strings.Builder
	placed := 0
	rest := body
	for i := 0; ; i++ {
		end := strings.Index(rest, "</p>")
		if end < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:end])
		if t, ok := at[i]; ok {
			link := `<a href="` + html.EscapeString(t.URL) + `">` + html.EscapeString(t.Title) + `</a>`
			b.WriteString(" " + strings.Replace(linkSentences[placed%len(linkSentences)], "{L}", link, 1))
			placed++
		}
		b.WriteString("</p>")
		rest = rest[end+len("</p>"):]
	}
}
