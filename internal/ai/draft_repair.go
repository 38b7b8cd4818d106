package ai

import (
	"fmt"
	"html"
	"strings"
	"unicode"

	xhtml "golang.org/x/net/html"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
)

// repairDraft fixes in d, in place, the faults of a draft answer that need
// no model call, and records each fix in d.Fixes. It expects the fields
// trimmed and the body sanitized; what it cannot fix is left for
// ValidateDraft to report. docs/ai-repair.md lists the rules.
func repairDraft(in DraftInput, d *Draft) {
	fix := func(field string, value *string, fitted, note string) {
		if note != "" {
			*value = fitted
			d.Fixes = append(d.Fixes, errs.FieldProblem{Field: field, Problem: note})
		}
	}
	v, note := fitTitle(in, d.Title)
	fix("title", &d.Title, v, note)
	v, note = fitMetaTitle(d.MetaTitle, d.Title)
	fix("meta_title", &d.MetaTitle, v, note)
	v, note = fitExcerpt(d.Excerpt, d.MetaDescription)
	fix("excerpt", &d.Excerpt, v, note)
	v, note = fitMetaDescription(d.MetaDescription, d.Excerpt)
	fix("meta_description", &d.MetaDescription, v, note)
	v, note = fitFocusKeyword(in, d.FocusKeyword)
	fix("focus_keyword", &d.FocusKeyword, v, note)
	v, note = fitSlug(d.Slug, d.FocusKeyword, d.Title)
	fix("slug", &d.Slug, v, note)
	body, notes := fitHeadings(in.Outline, d.BodyHTML)
	d.BodyHTML = body
	for _, n := range notes {
		d.Fixes = append(d.Fixes, errs.FieldProblem{Field: "body_html", Problem: n})
	}
}

// draftWarnings returns the soft rules d does not meet: a draft shorter
// than its minimum (in.MinWords, else its content type's default), unless
// the profile sets a word target for its content type.
func draftWarnings(in DraftInput, d Draft) []errs.FieldProblem {
	if in.WordTarget() > 0 {
		return nil // the profile's target and its band rule instead (lengthFault)
	}
	want := in.MinWords
	if want <= 0 {
		want = minDraftWords(in.ContentType)
	}
	if n := markup.WordCount(d.BodyHTML); n < want {
		return []errs.FieldProblem{{Field: "body_html",
			Problem: fmt.Sprintf("has %d words, fewer than the %d expected of a %s", n, want, contentTypeName(in.ContentType))}}
	}
	return nil
}

// contentTypeName names a content type in a warning.
func contentTypeName(t string) string {
	if isContentType(t) {
		return t
	}
	return "post"
}

// fitTitle cuts a title over maxTitleLen at a word boundary, and replaces
// one under minTitleLen with the planned title. The note says what was
// done, or is "" when title is kept.
func fitTitle(in DraftInput, title string) (string, string) {
	n := runes(title)
	switch {
	case n > maxTitleLen:
		if cut := cutPhrase(title, maxTitleLen); runes(cut) >= minTitleLen {
			return cut, cutNote(n, cut)
		}
	case n < minTitleLen:
		if planned := cutPhrase(oneLine(in.Title), maxTitleLen); runes(planned) >= minTitleLen {
			return planned, fmt.Sprintf("had %d characters; the planned title is used", n)
		}
	}
	return title, ""
}

// fitMetaTitle cuts a meta title over maxMetaTitleLen at a word boundary
// and fills an empty one from the title.
func fitMetaTitle(metaTitle, title string) (string, string) {
	n := runes(metaTitle)
	switch {
	case n > maxMetaTitleLen:
		cut := cutPhrase(metaTitle, maxMetaTitleLen)
		return cut, cutNote(n, cut)
	case n == 0 && title != "":
		return cutPhrase(title, maxMetaTitleLen), "was empty; made from the title"
	}
	return metaTitle, ""
}

// fitExcerpt cuts an excerpt over maxExcerptLen at a word boundary and
// fills an empty one from the meta description.
func fitExcerpt(excerpt, metaDescription string) (string, string) {
	n := runes(excerpt)
	switch {
	case n > maxExcerptLen:
		cut := cutPhrase(excerpt, maxExcerptLen)
		return cut, cutNote(n, cut)
	case n == 0 && metaDescription != "":
		return cutPhrase(metaDescription, maxExcerptLen), "was empty; made from the meta description"
	}
	return excerpt, ""
}

// fitMetaDescription cuts a meta description over maxMetaDescriptionLen at
// a word boundary, and replaces one under minMetaDescriptionLen with the
// excerpt when that is long enough.
func fitMetaDescription(desc, excerpt string) (string, string) {
	n := runes(desc)
	switch {
	case n > maxMetaDescriptionLen:
		if cut := cutPhrase(desc, maxMetaDescriptionLen); runes(cut) >= minMetaDescriptionLen {
			return cut, cutNote(n, cut)
		}
	case n < minMetaDescriptionLen:
		if alt := cutPhrase(excerpt, maxMetaDescriptionLen); runes(alt) >= minMetaDescriptionLen {
			return alt, fmt.Sprintf("had %d characters; made from the excerpt", n)
		}
	}
	return desc, ""
}

// cutNote describes a cut from n runes to cut.
func cutNote(n int, cut string) string {
	return fmt.Sprintf("cut from %d to %d characters at a word boundary, with no dangling last word", n, runes(cut))
}

// targetKeywords returns in's target keywords normalized by
// markup.CleanText, without empty ones and repeats, in order.
func targetKeywords(in DraftInput) []string {
	var out []string
	for _, k := range in.TargetKeywords {
		if k = markup.CleanText(k); k != "" && !containsString(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// fitFocusKeyword makes focus one of in's target keywords: the one it
// equals ignoring case and whitespace, else the first one it contains or
// is contained in (ignoring case), else the first.
func fitFocusKeyword(in DraftInput, focus string) (string, string) {
	targets := targetKeywords(in)
	if len(targets) == 0 || containsString(targets, focus) {
		return focus, ""
	}
	key := strings.ToLower(markup.CleanText(focus))
	pick := ""
	for _, t := range targets {
		if strings.ToLower(t) == key {
			pick = t
			break
		}
	}
	for _, t := range targets {
		lt := strings.ToLower(t)
		if pick == "" && key != "" && (strings.Contains(lt, key) || strings.Contains(key, lt)) {
			pick = t
		}
	}
	if pick == "" {
		pick = targets[0]
	}
	return pick, fmt.Sprintf("%q is not one of the target keywords; %q is used", focus, pick)
}

// fitSlug keeps a valid slug and otherwise makes one from the slug, else
// the focus keyword, else the title.
func fitSlug(slug, focus, title string) (string, string) {
	if slugRE.MatchString(slug) && len(slug) <= maxSlugLen {
		return slug, ""
	}
	for _, src := range []string{slug, focus, title} {
		if s := markup.Slug(src, maxSlugLen); s != "" {
			return s, fmt.Sprintf("%q was not a slug; %q is used", truncateRunes(slug, 100), s)
		}
	}
	return slug, ""
}

// headingKey is the form in which a heading of the body is compared with
// the outline when repairing: text (normalized by markup.CleanText)
// without punctuation and spaces at its ends, in lower case.
func headingKey(text string) string {
	return strings.ToLower(strings.TrimFunc(text, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r)
	}))
}

// fitHeadings rewrites the <h2>/<h3> headings of body that stand for an
// outline heading of the same level but differ from it in case, or in
// punctuation and spaces at the ends, to the outline's text. It returns
// the body and a note for each heading rewritten.
func fitHeadings(outline []Heading, body string) (string, []string) {
	found := markup.Headings(body)
	want := outlineTexts(outline)
	keys := make([][2]string, len(want))
	for i, w := range want {
		keys[i] = [2]string{headingKey(w[0]), headingKey(w[1])}
	}
	// loose says which outline text found[j] stands for: 0 or 1, or -1.
	loose := func(i, j int) int {
		if found[j].Level != outline[i].Level {
			return -1
		}
		text := found[j].Text
		key := headingKey(text)
		for k := range 2 {
			if text == want[i][k] || (key != "" && key == keys[i][k]) {
				return k
			}
		}
		return -1
	}
	pairs := alignHeadings(len(outline), len(found), func(i, j int) bool { return loose(i, j) >= 0 })
	texts := map[int]string{}
	var notes []string
	for i, j := range pairs {
		if j < 0 || found[j].Text == want[i][0] || found[j].Text == want[i][1] {
			continue
		}
		texts[j] = want[i][loose(i, j)]
		notes = append(notes, fmt.Sprintf("heading %q rewritten as outline[%d] %q",
			truncateRunes(found[j].Text, 80), i, truncateRunes(texts[j], 80)))
	}
	if len(texts) == 0 {
		return body, nil
	}
	return rewriteHeadings(body, texts), notes
}

// rewriteHeadings replaces the content of the <h2>/<h3> headings of body
// whose index (as markup.Headings counts them) is in texts with that text,
// escaped. Everything else is written back byte for byte.
func rewriteHeadings(body string, texts map[int]string) string {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var out strings.Builder
	out.Grow(len(body))
	n := -1            // index of the last <h2>/<h3> started
	replacing := false // inside a heading whose content is replaced
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out.String()
		}
		if tt == xhtml.StartTagToken || tt == xhtml.EndTagToken {
			name, _ := z.TagName()
			if level := headingTagLevel(name); level != 0 {
				// Any heading tag ends the heading before it, as in
				// markup.Headings.
				replacing = false
				if tt == xhtml.StartTagToken && (level == 2 || level == 3) {
					n++
					if text, ok := texts[n]; ok {
						out.Write(z.Raw())
						out.WriteString(html.EscapeString(text))
						replacing = true
						continue
					}
				}
			}
		}
		if !replacing {
			out.Write(z.Raw())
		}
	}
}

// headingTagLevel is n for the tag name hn (n from 1 to 6), else 0.
func headingTagLevel(name []byte) int {
	if len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6' {
		return int(name[1] - '0')
	}
	return 0
}
