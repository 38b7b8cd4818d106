package offline

import (
	_ "embed"
	"strings"
)

// Brand and product names share no words with what they are: "makita"
// says nothing of drills, "klaviyo" nothing of email, and WordNet knows
// neither. brands.txt is a small hand-written gazetteer of well-known
// brands and product lines and the words a searcher would use for what
// they sell; a keyword naming one is embedded as if it also said those
// words (weighted brandWeight), so "makita 18v review" lies near "best
// cordless drill". It is general knowledge, written for this purpose and
// not drawn from any keyword set; a brand missing from it is grouped by
// spelling and by the other words of its keywords, as before.

//go:embed brands.txt
var brandsTxt string

// brand is one entry: the words of its name and its category words.
type brand struct {
	name  []string
	words []string
}

// brandList maps the first word of a brand's name to its entries, longest
// name first.
type brandList map[string][]brand

// defaultBrands parses brands.txt.
func defaultBrands() brandList { return parseBrands(brandsTxt) }

// parseBrands reads lines "name words: category words"; "#" starts a
// comment. Names are split into words as the embedder splits text, so
// "monday.com" is "monday com" and "1password" one word.
func parseBrands(text string) brandList {
	bl := brandList{}
	f := newFeaturizer(nil)
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		name, cat, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		b := brand{name: f.wordsOf(name), words: f.wordsOf(cat)}
		if len(b.name) == 0 || len(b.words) == 0 {
			continue
		}
		entries := append(bl[b.name[0]], b)
		// Longest first, so that "apple watch" wins over "apple".
		for i := len(entries) - 1; i > 0 && len(entries[i].name) > len(entries[i-1].name); i-- {
			entries[i], entries[i-1] = entries[i-1], entries[i]
		}
		bl[b.name[0]] = entries
	}
	return bl
}

// wordsOf splits text as embed does and returns its words.
func (f *featurizer) wordsOf(text string) []string {
	f.split(text)
	out := make([]string, len(f.ends))
	for i := range out {
		out[i] = string(f.word(i))
	}
	return out
}

// match returns the entry whose name starts at word i of the current text
// (the longest), and its length in words.
func (bl brandList) match(f *featurizer, i int) (brand, int) {
	for _, b := range bl[string(f.word(i))] {
		if i+len(b.name) > len(f.ends) {
			continue
		}
		ok := true
		for j, w := range b.name[1:] {
			if string(f.word(i+1+j)) != w {
				ok = false
				break
			}
		}
		if ok {
			return b, len(b.name)
		}
	}
	return brand{}, 0
}

// addBrands adds, for each brand named in the current text, the features
// of its category words (spelling and meaning), weighted brandWeight; a
// category word the text already says is not added again.
func (f *featurizer) addBrands(v []float32) {
	if f.lex == nil || len(f.lex.brands) == 0 {
		return
	}
	n := len(f.ends)
	for i := 0; i < n; {
		b, k := f.lex.brands.match(f, i)
		if k == 0 {
			i++
			continue
		}
		i += k
		if k == 1 && !f.brandContext(b) {
			continue
		}
		for _, w := range b.words {
			if f.says(w) {
				continue
			}
			wi := f.lex.info([]byte(w))
			f.addWord([]byte(w), v, brandWeight*wi.scale)
			addSemantic(wi, v, brandWeight*wi.scale)
		}
	}
}

// brandContext reports whether a one-word brand that is also an English
// word ("purple", "ring", "shark") is the brand here: the text says
// something of buying (a modifier such as "review", "vs" or "price"), or
// has a model number (a word of letters and digits), or names another
// brand. "purple mattress review" and "shark vs dyson" name brands,
// "purple flowers" does not. A name WordNet does not know is a brand.
func (f *featurizer) brandContext(b brand) bool {
	if f.lex.db == nil || f.lex.db.Polysemy(b.name[0]) == 0 {
		return true
	}
	for i := range f.ends {
		w := f.word(i)
		if string(w) == b.name[0] {
			continue
		}
		if f.mods[i] && shoppingWords[string(w)] || hasLetterAndDigit(w) {
			return true
		}
		if _, k := f.lex.brands.match(f, i); k > 0 {
			return true
		}
	}
	return false
}

// shoppingWords are the modifiers that say a keyword is about a product.
var shoppingWords = map[string]bool{
	"vs": true, "versus": true, "review": true, "reviews": true, "price": true, "prices": true,
	"pricing": true, "cost": true, "costs": true, "deal": true, "deals": true, "sale": true,
	"buy": true, "alternative": true, "alternatives": true, "cheap": true, "cheapest": true,
	"best": true, "comparison": true,
}

func hasLetterAndDigit(w []byte) bool {
	letter, digit := false, false
	for _, c := range w {
		letter = letter || 'a' <= c && c <= 'z'
		digit = digit || '0' <= c && c <= '9'
	}
	return letter && digit
}

// says reports whether the current text has the word w.
func (f *featurizer) says(w string) bool {
	for i := range f.ends {
		if string(f.word(i)) == w {
			return true
		}
	}
	return false
}
