package offline

import (
	"context"
	"math"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/ai"
)

// EmbedModel is the name of the offline embedding model when WordNet is
// there (see embed_semantic.go); it is also the Model reported in Usage.
// EmbedModelLexical is its name without WordNet, spelling only. Vectors are
// cached by model name, so the two are never mixed, nor with those of
// earlier versions (v2: query modifiers weigh little).
const (
	EmbedModel        = "offline-wordnet-v1"
	EmbedModelLexical = "offline-ngram-v3"
)

// DefaultDimensions is the vector length NewEmbedder uses when given none.
const DefaultDimensions = 512

// Feature weights: whole words and their stems count more than the character
// trigrams that spell them.
const (
	wordWeight = 2
	stemWeight = 2
	gramWeight = 1
)

// Feature namespaces, hashed in first so that a word, its stem and a trigram
// with the same bytes land on different indexes.
const (
	tagWord byte = 'w'
	tagStem byte = 's'
	tagGram byte = 'g'
)

// FNV-1a 64-bit parameters, the same as hash/fnv's New64a.
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// embedCheckEvery is how many texts Embed embeds between checks of ctx.
const embedCheckEvery = 1000

// Embedder is the offline ai.Embedder: a deterministic feature-hashing
// embedder. A text is lower-cased and split into words (runs of letters and
// digits); articles, prepositions and "and"/"or" are dropped unless the text
// has nothing else. Each word adds three kinds of features: the word itself
// (weight 2), a crude stem, so that "shoes" meets "shoe" and "running" meets
// "run" (weight 2), and the character trigrams of " word " (weight 1); a
// word WordNet knows adds its senses and their hypernyms, and a brand its
// category words (embed_semantic.go). Each feature is hashed with FNV-1a
// to an index and a sign, and the vector is L2-normalized. The zero value
// uses DefaultDimensions and WordNet from WORDNET_DIR. It is safe for
// concurrent use.
type Embedder struct {
	dims int
	lex  *lexicon // nil: the shared one
}

var _ ai.Embedder = (*Embedder)(nil)

// NewEmbedder returns the offline embedder with the given dimension
// (DefaultDimensions when dims <= 0).
func NewEmbedder(dims int) *Embedder {
	return &Embedder{dims: dims}
}

// Name returns the model name: EmbedModel, or EmbedModelLexical when
// WordNet could not be read.
func (e *Embedder) Name() string {
	if e.lexicon().db == nil {
		return EmbedModelLexical
	}
	return EmbedModel
}

// lexicon returns the embedder's lexicon, loading the shared one on first
// use.
func (e *Embedder) lexicon() *lexicon {
	if e == nil || e.lex == nil {
		return sharedLexicon()
	}
	return e.lex
}

// Dimensions returns the length of every vector Embed returns.
func (e *Embedder) Dimensions() int {
	if e == nil || e.dims <= 0 {
		return DefaultDimensions
	}
	return e.dims
}

// Embed returns one L2-normalized vector per text, in order; a text without
// words gets a zero vector. Usage counts words as prompt tokens and costs
// nothing. Embed checks ctx every 1,000 texts and returns ctx.Err() when it
// is cancelled.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	if err := ctx.Err(); err != nil {
		return nil, ai.Usage{}, err
	}
	d := e.Dimensions()
	usage := ai.Usage{Model: e.Name()}
	backing := make([]float32, len(texts)*d)
	out := make([][]float32, len(texts))
	f := newFeaturizer(e.lexicon())
	for i, text := range texts {
		if i > 0 && i%embedCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, ai.Usage{}, err
			}
		}
		v := backing[i*d : (i+1)*d : (i+1)*d]
		usage.PromptTokens += f.embed(text, v)
		out[i] = v
	}
	return out, usage, nil
}

// featurizer holds the buffers reused across texts so that embedding
// allocates nothing per word or feature.
type featurizer struct {
	words []byte // the lower-cased words of the current text, back to back
	ends  []int  // ends[i] is the end offset of word i in words
	pad   []byte // " word " for trigrams
	stem  []byte // the stem of the current word
	mods  []bool // mods[i]: word i is part of a query modifier
	// colloc[i] is the length of the WordNet collocation starting at word
	// i ("snake plant"), 0 for a later word of one, -1 outside any.
	colloc []int
	join   []byte // a collocation's words joined by "_"
	lex    *lexicon
}

func newFeaturizer(lex *lexicon) *featurizer {
	return &featurizer{
		lex:    lex,
		colloc: make([]int, 0, 32),
		join:   make([]byte, 0, 64),
		words:  make([]byte, 0, 256),
		ends:   make([]int, 0, 32),
		pad:    make([]byte, 0, 64),
		stem:   make([]byte, 0, 64),
	}
}

// embed writes the normalized vector of text into v (which must be zeroed)
// and returns the number of words in text.
func (f *featurizer) embed(text string, v []float32) int {
	f.split(text)
	n := len(f.ends)
	keepStop := true
	for i := range n {
		if !isEmbedStopWord(f.word(i)) {
			keepStop = false
			break
		}
	}
	// Modifiers weigh little, unless the text is nothing but modifiers and
	// stop words.
	f.mods = modifierSpans(n, f.word, f.mods)
	weight := float32(modifierWeight)
	if !slices.Contains(f.mods, false) {
		weight = 1
	}
	f.collocations()
	for i := range n {
		w := f.word(i)
		if !keepStop && isEmbedStopWord(w) && !f.mods[i] {
			continue
		}
		if f.mods[i] {
			f.addWord(w, v, weight)
			continue
		}
		// A word of many senses says less of a topic; the meaning of a
		// collocation is the whole's, not its words'.
		wi := f.lex.info(w)
		f.addWord(w, v, wi.scale)
		switch {
		case f.colloc[i] < 0:
			addSemantic(wi, v, wi.scale)
		case f.colloc[i] > 0:
			addSemantic(f.lex.info(f.joined(i, f.colloc[i])), v, 1)
		}
	}
	f.addBrands(v)
	normalizeVec(v)
	return n
}

// word returns word i of the current text.
func (f *featurizer) word(i int) []byte {
	start := 0
	if i > 0 {
		start = f.ends[i-1]
	}
	return f.words[start:f.ends[i]]
}

// split lower-cases text and splits it into words: runs of letters and
// digits. Apostrophes inside a word are dropped ("men's" is "mens").
func (f *featurizer) split(text string) {
	f.words, f.ends = f.words[:0], f.ends[:0]
	inWord := false
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case isWordRune(r):
			f.words = appendLower(f.words, r)
			inWord = true
		case inWord && (r == '\'' || r == '\u2019'):
			// Skip apostrophes inside words.
		case inWord:
			f.ends = append(f.ends, len(f.words))
			inWord = false
		}
	}
	if inWord {
		f.ends = append(f.ends, len(f.words))
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func appendLower(b []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(b, byte(r))
	}
	return utf8.AppendRune(b, unicode.ToLower(r))
}

// addWord adds the features of one word to v: the word, its stem and the
// trigrams of " word ".
func (f *featurizer) addWord(w []byte, v []float32, scale float32) {
	addFeature(v, tagWord, w, wordWeight*scale)
	f.stem = appendStem(f.stem[:0], w)
	addFeature(v, tagStem, f.stem, stemWeight*scale)
	f.pad = append(append(append(f.pad[:0], ' '), w...), ' ')
	for i := 0; i+3 <= len(f.pad); i++ {
		addFeature(v, tagGram, f.pad[i:i+3], gramWeight*scale)
	}
}

// addFeature hashes the feature (tag, b) to an index and a sign and adds
// weight there.
func addFeature(v []float32, tag byte, b []byte, weight float32) {
	addHashed(v, fnv1a(tag, b), weight)
}

// addHashed adds weight at the index and sign of hash h.
func addHashed(v []float32, h uint64, weight float32) {
	// FNV's low bits mix poorly; take the index from the high half and the
	// sign from another bit, after a final avalanche.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	idx := (h >> 32) * uint64(len(v)) >> 32
	if h&1 != 0 {
		weight = -weight
	}
	v[idx] += weight
}

// fnv1a is the 64-bit FNV-1a hash of tag followed by b.
func fnv1a(tag byte, b []byte) uint64 {
	h := fnvOffset64
	h ^= uint64(tag)
	h *= fnvPrime64
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// normalizeVec scales v to unit length; a zero vector stays zero.
func normalizeVec(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}

// isEmbedStopWord reports whether w is an article, a preposition or a bare
// conjunction, which carry no topic.
func isEmbedStopWord(w []byte) bool {
	switch string(w) {
	case "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for",
		"with", "by", "from", "into", "as":
		return true
	}
	return false
}

// appendStem appends a crude English stem of w to dst, so that plurals and
// verb forms share a feature: "shoes" and "shoe" are "sho", "running" and
// "run" are "run", "baking", "baked" and "bakes" are "bak".
func appendStem(dst, w []byte) []byte {
	n := len(w)
	switch {
	case n >= 6 && endsWith(w, "ing"):
		return undouble(append(dst, w[:n-3]...))
	case n >= 5 && endsWith(w, "ies"):
		return append(append(dst, w[:n-3]...), 'i')
	case n >= 5 && endsWith(w, "es"):
		return append(dst, w[:n-2]...)
	case n >= 5 && endsWith(w, "ed") && !endsWith(w, "eed"):
		return undouble(append(dst, w[:n-2]...))
	case n >= 4 && endsWith(w, "s") && !endsWith(w, "ss") && !endsWith(w, "us") && !endsWith(w, "is"):
		return append(dst, w[:n-1]...)
	case n >= 4 && endsWith(w, "e"):
		return append(dst, w[:n-1]...)
	case n >= 3 && endsWith(w, "y"):
		return append(append(dst, w[:n-1]...), 'i')
	}
	return append(dst, w...)
}

// endsWith reports whether w ends with suffix, without allocating.
func endsWith(w []byte, suffix string) bool {
	return len(w) >= len(suffix) && string(w[len(w)-len(suffix):]) == suffix
}

// undouble drops the last letter of a stem that ends in a doubled consonant
// other than l, s or z ("runn" is "run", "stopp" is "stop").
func undouble(b []byte) []byte {
	n := len(b)
	if n < 3 || b[n-1] != b[n-2] {
		return b
	}
	switch b[n-1] {
	case 'a', 'e', 'i', 'o', 'u', 'l', 's', 'z':
		return b
	}
	if b[n-1] < 'a' || b[n-1] > 'z' {
		return b
	}
	return b[:n-1]
}
