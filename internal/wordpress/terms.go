package wordpress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/presswork/presswork/internal/errs"
)

// Taxonomy is the REST collection of a kind of term.
type Taxonomy string

// The taxonomies posts take.
const (
	Categories Taxonomy = "categories"
	Tags       Taxonomy = "tags"
)

// term is a category or tag as WordPress sends it.
type term struct {
	ID   int64  `json:"id"`
	Name string `json:"name"` // HTML-escaped as stored: "Food &amp; Drink"
	Slug string `json:"slug"`
}

// EnsureTerm returns the id of the category or tag called name, creating
// it when there is none: it looks the term up by the slug WordPress would
// give name (see Slug), then among the terms a search for name finds, by
// name regardless of case, and else creates it; when WordPress answers that
// the term exists (term_exists), the id it names is used.
func (c *Client) EnsureTerm(ctx context.Context, tax Taxonomy, name string) (int64, error) {
	if tax != Categories && tax != Tags {
		return 0, errs.Invalid("taxonomy", "must be %q or %q, got %q", Categories, Tags, tax)
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return 0, errs.Invalid("name", "the %s name is empty", singular(tax))
	}
	id, err := c.findTerm(ctx, tax, name)
	if err != nil || id > 0 {
		return id, err
	}
	return c.createTerm(ctx, tax, name)
}

// findTerm returns the id of an existing term called name, 0 if none.
func (c *Client) findTerm(ctx context.Context, tax Taxonomy, name string) (int64, error) {
	route := "/wp/v2/" + string(tax)
	if slug := Slug(name); slug != "" {
		k := call{op: fmt.Sprintf("look up %s %q", singular(tax), slug), what: "search", method: http.MethodGet, route: route, query: url.Values{"slug": {slug}}}
		found, err := list[term](ctx, c, k)
		if err != nil || len(found) > 0 {
			return firstID(found), err
		}
	}
	k := call{op: fmt.Sprintf("search %s %q", string(tax), name), what: "search", method: http.MethodGet, route: route, query: url.Values{"search": {name}}}
	found, err := list[term](ctx, c, k)
	if err != nil {
		return 0, err
	}
	for _, t := range found {
		if strings.EqualFold(strings.Join(strings.Fields(html.UnescapeString(t.Name)), " "), name) {
			return t.ID, nil
		}
	}
	return 0, nil
}

// firstID is the id of the first term, 0 if none.
func firstID(ts []term) int64 {
	if len(ts) == 0 {
		return 0
	}
	return ts[0].ID
}

// createTerm creates a term, or takes the id of the one WordPress says
// already exists.
func (c *Client) createTerm(ctx context.Context, tax Taxonomy, name string) (int64, error) {
	body, err := json.Marshal(map[string]string{"name": name})
	if err != nil {
		return 0, fmt.Errorf("wordpress: create %s: %w", singular(tax), err)
	}
	k := call{
		op: fmt.Sprintf("create %s %q", singular(tax), name), what: singular(tax), method: http.MethodPost,
		route: "/wp/v2/" + string(tax), body: body, contentType: "application/json",
	}
	var t term
	_, err = c.do(ctx, k, &t)
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && fe.Code == "term_exists" && fe.TermID > 0:
		return fe.TermID, nil
	case err != nil:
		return 0, err
	case t.ID <= 0:
		return 0, fmt.Errorf("wordpress: %s: the reply has no term id", k.op)
	}
	return t.ID, nil
}

// singular names one term of tax.
func singular(tax Taxonomy) string {
	if tax == Tags {
		return "tag"
	}
	return "category"
}

var (
	reTags     = regexp.MustCompile(`<[^>]*>`)
	reEntities = regexp.MustCompile(`&.+?;`)
	reSpaces   = regexp.MustCompile(`\s+`)
	reDashes   = regexp.MustCompile(`-+`)
	reSlugJunk = regexp.MustCompile(`[^%a-z0-9 _-]`)
)

// ligatures are letters remove_accents spells out rather than strips.
var ligatures = strings.NewReplacer(
	"ß", "ss", "æ", "ae", "Æ", "AE", "œ", "oe", "Œ", "OE", "ø", "o", "Ø", "O",
	"đ", "d", "Đ", "D", "ł", "l", "Ł", "L", "þ", "th", "Þ", "TH", "ð", "d", "Ð", "D",
)

// Slug derives the slug WordPress gives a title or term name, after its
// sanitize_title: accents removed, lowercase, tags and entities dropped,
// spaces, dots and slashes made dashes, other punctuation removed, other
// non-ASCII letters percent-encoded.
func Slug(s string) string {
	s = reTags.ReplaceAllString(s, "")
	s = foldAccents(s)
	s = strings.ToLower(s)
	s = reEntities.ReplaceAllString(s, "")
	s = strings.NewReplacer(".", "-", "/", "-", "\u00a0", "-", "\u2013", "-", "\u2014", "-").Replace(s)
	s = percentEncodeNonASCII(s)
	s = reSlugJunk.ReplaceAllString(s, "")
	s = reSpaces.ReplaceAllString(s, "-")
	s = reDashes.ReplaceAllString(s, "-")
	return strings.Trim(s, "-")
}

// foldAccents removes accents (é -> e) and spells out ligatures.
func foldAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(ligatures.Replace(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// percentEncodeNonASCII writes the bytes of non-ASCII runes as lowercase
// %xx, as WordPress does for letters it cannot transliterate.
func percentEncodeNonASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
			continue
		case unicode.IsSpace(r):
			b.WriteByte(' ')
			continue
		}
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// asciiWord reduces s to ASCII letters, digits, dashes and the characters
// in keep; anything else becomes a dash, runs of dashes one, and dashes and
// kept characters are trimmed from the ends.
func asciiWord(s, keep string) string {
	var b strings.Builder
	for _, r := range foldAccents(s) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || strings.ContainsRune(keep, r)):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := reDashes.ReplaceAllString(b.String(), "-")
	return strings.Trim(out, "-"+keep)
}
