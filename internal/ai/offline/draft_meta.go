package offline

import (
	"fmt"
	"hash/fnv"
	"strings"
	"unicode"

	textnorm "golang.org/x/text/unicode/norm"
)

func (w *draftWriter) excerpt(focus string, h2s []string) string {
	f := cutWords(focus, 120)
	var topics []string
	for _, h := range h2s {
		if len(topics) == 2 {
			break
		}
		if runeLen(h) > 80 {
			continue
		}
		if h = headingRef(h); h != "" {
			topics = append(topics, h)
		}
	}
	var s string
	if len(topics) == 2 {
		s = pickOne(w.rng,
			fmt.Sprintf("A practical %s about %s, from %s to %s.", w.noun, f, topics[0], topics[1]),
			fmt.Sprintf("Everything you need to know about %s, including %s and %s.", f, topics[0], topics[1]),
			fmt.Sprintf("Clear, practical advice on %s: %s, %s and more.", f, topics[0], topics[1]),
		)
	} else {
		s = fmt.Sprintf("Clear, practical advice on %s, with tips you can use straight away.", f)
	}
	return cutWords(upperFirst(s), 300)
}

const metaFiller = "Practical advice, clear explanations and answers to the most common questions."

func (w *draftWriter) metaDescription(focus, site string) string {
	f := shortKeyword(focus)
	site = cutWords(cleanText(site), 40)
	var s string
	switch w.rng.IntN(3) {
	case 0:
		s = fmt.Sprintf("Learn about %s: what matters, what to avoid and how to get started with confidence.", f)
	case 1:
		s = fmt.Sprintf("A practical %s about %s, with clear steps, common mistakes to avoid and tips that work.", w.noun, f)
	default:
		s = fmt.Sprintf("Everything you need to know about %s, explained simply, with practical tips you can use today.", f)
	}
	s = upperFirst(s)
	if site != "" && runeLen(s)+runeLen(site)+8 <= 160 {
		s += " From " + site + "."
	}
	if runeLen(s) < 50 {
		s += " " + metaFiller
	}
	if runeLen(s) > 160 {
		s = cutWords(s, 159) + "…"
	}
	return s
}

func metaTitle(title string) string {
	t := cutWords(title, 60)
	if strings.TrimSpace(t) == "" {
		t = string([]rune(title)[:min(60, runeLen(title))])
	}
	if strings.TrimSpace(t) == "" {
		t = "Article"
	}
	return t
}

// translit spells letters that do not decompose into ASCII.
var translit = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'ł': "l", 'þ': "th",
	'ħ': "h", 'ı': "i", 'ŋ': "n", 'ŧ': "t", '&': "and",
}

// slugify turns s into lower-case ASCII words joined by single hyphens, at
// most max bytes long, cut at a hyphen where possible.
func slugify(s string, max int) string {
	var b strings.Builder
	hyphen := true // suppress a leading hyphen
	for _, r := range textnorm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			hyphen = false
		case translit[r] != "":
			if r == '&' && !hyphen {
				b.WriteByte('-')
			}
			b.WriteString(translit[r])
			if r == '&' {
				b.WriteByte('-')
				hyphen = true
			} else {
				hyphen = false
			}
		default:
			if !hyphen {
				b.WriteByte('-')
				hyphen = true
			}
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > max {
		slug = slug[:max]
		if i := strings.LastIndexByte(slug, '-'); i >= max/2 {
			slug = slug[:i]
		}
		slug = strings.Trim(slug, "-")
	}
	return slug
}

func makeSlug(title, focus string) string {
	if s := slugify(title, 80); s != "" {
		return s
	}
	if s := slugify(focus, 80); s != "" {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(title + "\x00" + focus))
	return fmt.Sprintf("article-%08x", h.Sum32())
}
