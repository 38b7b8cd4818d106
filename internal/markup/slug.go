package markup

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// slugLetters spells letters that do not decompose into ASCII, and "&".
var slugLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'ł': "l", 'þ': "th",
	'ħ': "h", 'ı': "i", 'ŋ': "n", 'ŧ': "t", '&': "and",
}

// Slug turns s into lower-case ASCII words joined by single hyphens, at
// most max bytes long, cut at a hyphen where one is not too far back.
// Accents are dropped, apostrophes vanish, "&" is the word "and", and what
// has no ASCII spelling separates words. It is "" when s has no Latin
// letter or digit.
func Slug(s string, max int) string {
	var b strings.Builder
	hyphen := true // suppress a leading hyphen
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			hyphen = false
		case r == '&':
			if !hyphen {
				b.WriteByte('-')
			}
			b.WriteString("and-")
			hyphen = true
		case slugLetters[r] != "":
			b.WriteString(slugLetters[r])
			hyphen = false
		case !hyphen:
			b.WriteByte('-')
			hyphen = true
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
