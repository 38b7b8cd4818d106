package offline

import (
	"cmp"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/presswork/presswork/internal/wordnet"
)

// The semantic signal of the offline embedder (#21). Spelling alone cannot
// tell that "pothos" and "monstera" are both vines kept as houseplants, or
// that "latte" and "cappuccino" are coffees. A word found in WordNet also
// adds a feature for each of its first senses and for the hypernyms of
// those a few levels up, so two words meet where their meanings do.
// Hypernyms that are too general to say anything (a synset covering more
// than maxHypernymSize others, such as "plant", "artifact" or "food") are
// not climbed past. A brand or product name from the brand list
// (brands.txt) adds the features of its category words, as if the keyword
// named them.

// WordNetDirEnv names the environment variable holding the directory of the
// WordNet database; DefaultWordNetDir when unset.
const WordNetDirEnv = "WORDNET_DIR"

// Semantic feature weights and limits, chosen on the labelled sets
// everyday and brands of testdata/eval (make eval).
const (
	semWeight       = 2.5 // a word's own synset
	semLevelDecay   = 0.7 // each hypernym level up keeps this share
	semLevels       = 3   // hypernym levels climbed
	semSenses       = 2   // senses of a word used, most frequent first
	maxHypernymSize = 400 // synsets more general than this end the climb
	minHypernymDep  = 4   // nor are synsets this close to a root used
	brandWeight     = 0.8 // a brand's category words, against the words of the text
	glossWeight     = 1.5 // a content word of a sense's definition
	polysemyK       = 0.1 // how fast a word's weight falls with its number of senses
)

// tagSyn is the feature namespace of synsets.
const tagSyn byte = 'n'

// semFeature is one weighted feature: its hash (fnv1a of its namespace and
// bytes) and weight.
type semFeature struct {
	hash   uint64
	weight float32
}

// lexicon holds what the embedder knows about words beyond their
// spelling: WordNet (nil when absent) and the brand list, with a cache of
// each word's semantic features.
type lexicon struct {
	db     *wordnet.DB
	brands brandList

	mu     sync.RWMutex
	cache  map[string]wordInfo // by word
	colloc map[string]bool     // by words joined with "_": WordNet has it
}

// maxCached bounds each cache of a lexicon; a full cache starts over, so a
// long-running worker's memory stays bounded.
const maxCached = 200_000

// sharedLexicon is the lexicon of every Embedder not given one: loaded once
// per process, on first use, from the directory WORDNET_DIR names or
// wordnet.DefaultDir.
var sharedLexicon = sync.OnceValue(func() *lexicon {
	return loadLexicon(cmp.Or(os.Getenv(WordNetDirEnv), wordnet.DefaultDir), slog.Default())
})

// loadLexicon reads WordNet from dir; without it (or with unreadable files)
// it logs that the offline embedder groups by spelling only, and returns a
// lexicon with the brand list alone.
func loadLexicon(dir string, log *slog.Logger) *lexicon {
	db, err := wordnet.Open(dir)
	if err != nil {
		log.Warn("offline embedder: no WordNet, keywords are grouped by spelling only (install Debian's wordnet-base or set "+WordNetDirEnv+")",
			"model", EmbedModelLexical, "error", err)
		db = nil
	}
	return newLexicon(db)
}

func newLexicon(db *wordnet.DB) *lexicon {
	return &lexicon{db: db, brands: defaultBrands(), cache: map[string]wordInfo{}, colloc: map[string]bool{}}
}

// wordInfo is what the lexicon adds to a word's spelling: a scale for
// all its features (below 1 for a word of many senses, which says little
// about a topic) and its semantic features.
type wordInfo struct {
	scale float32
	feats []semFeature
}

// info returns what the lexicon knows of word w, cached.
func (l *lexicon) info(w []byte) wordInfo {
	if l == nil || l.db == nil || len(w) < 3 || isNumeral(w) {
		return wordInfo{scale: 1}
	}
	l.mu.RLock()
	wi, ok := l.cache[string(w)]
	l.mu.RUnlock()
	if ok {
		return wi
	}
	wi = l.compute(string(w))
	l.mu.Lock()
	if len(l.cache) >= maxCached {
		clear(l.cache)
	}
	l.cache[string(w)] = wi
	l.mu.Unlock()
	return wi
}

// isCollocation reports whether WordNet has the words joined by "_" as a
// noun, cached.
func (l *lexicon) isCollocation(joined []byte) bool {
	l.mu.RLock()
	known, ok := l.colloc[string(joined)]
	l.mu.RUnlock()
	if ok {
		return known
	}
	known = len(l.db.Senses(string(joined), wordnet.Noun)) > 0
	l.mu.Lock()
	if len(l.colloc) >= maxCached {
		clear(l.colloc)
	}
	l.colloc[string(joined)] = known
	l.mu.Unlock()
	return known
}

// compute finds the senses of a word (as a noun, or as a verb when it is
// no noun) and adds each sense, its topic domains and its hypernyms up to
// semLevels levels, each level weighing semLevelDecay of the one below, a
// later sense half of the one before it; a synset reached twice keeps its
// larger weight. The content words of each sense's definition add their
// stems, so that "honey" ("a sweet yellow liquid produced by bees") meets
// "beekeeping".
func (l *lexicon) compute(w string) wordInfo {
	wi := wordInfo{scale: polysemyScale(l.db.Polysemy(w))}
	senses := l.db.Senses(w, wordnet.Noun)
	if len(senses) == 0 {
		senses = l.db.Senses(w, wordnet.Verb)
	}
	weights := map[wordnet.ID]float32{}
	stems := map[string]float32{}
	senseW := float32(1)
	f := newFeaturizer(nil)
	for _, id := range senses[:min(semSenses, len(senses))] {
		l.climb(id, semWeight*senseW, 0, weights)
		if s := l.db.Synset(id); s != nil {
			for _, d := range slices.Concat(s.Domains, s.Wholes) {
				weights[d] = max(weights[d], semWeight*senseW*semLevelDecay)
			}
			f.glossStems(s.Gloss, w, glossWeight*senseW, stems, l.db)
		}
		senseW /= 2
	}
	var buf []byte
	for id, wt := range weights {
		buf = strconv.AppendUint(append(buf[:0], byte(id.POS)), uint64(id.Offset), 10)
		wi.feats = append(wi.feats, semFeature{hash: fnv1a(tagSyn, buf), weight: wt})
	}
	for st, wt := range stems {
		wi.feats = append(wi.feats, semFeature{hash: fnv1a(tagStem, []byte(st)), weight: wt})
	}
	return wi
}

// glossStems adds to stems the stem of each content word of a definition
// (not the word defined), weighted by how specific the word is.
func (f *featurizer) glossStems(gloss, self string, weight float32, stems map[string]float32, db *wordnet.DB) {
	f.split(gloss)
	f.mods = modifierSpans(len(f.ends), f.word, f.mods)
	for i := range f.ends {
		w := f.word(i)
		if len(w) < 3 || f.mods[i] || isEmbedStopWord(w) || isNumeral(w) || glossStopWords[string(w)] || string(w) == self {
			continue
		}
		f.stem = appendStem(f.stem[:0], w)
		st := string(f.stem)
		stems[st] = max(stems[st], weight*polysemyScale(db.Polysemy(string(w))))
	}
}

// glossStopWords are the words of definitions that say nothing of a topic.
var glossStopWords = map[string]bool{
	"that": true, "which": true, "who": true, "whom": true, "whose": true, "this": true, "these": true,
	"those": true, "its": true, "their": true, "his": true, "her": true, "they": true, "them": true,
	"one": true, "any": true, "some": true, "something": true, "someone": true, "somebody": true,
	"used": true, "using": true, "usually": true, "especially": true, "often": true, "etc": true,
	"having": true, "has": true, "have": true, "being": true, "been": true, "was": true, "were": true,
	"not": true, "other": true, "such": true, "very": true, "more": true, "most": true, "also": true,
	"kind": true, "type": true, "sort": true, "form": true, "made": true, "make": true, "act": true,
	"person": true, "thing": true, "things": true, "part": true, "state": true, "quality": true,
	"process": true, "various": true, "certain": true, "small": true, "large": true, "genus": true,
	"family": true, "species": true, "plant": true, "order": true,
}

// polysemyScale weighs a word by its number of senses: 1 for a word of one
// sense or none (a name WordNet does not know is as specific as can be),
// about 0.7 for ten senses, 0.45 for forty.
func polysemyScale(senses int) float32 {
	if senses <= 1 {
		return 1
	}
	return float32(1 / math.Sqrt(1+polysemyK*float64(senses-1)))
}

func (l *lexicon) climb(id wordnet.ID, w float32, level int, weights map[wordnet.ID]float32) {
	s := l.db.Synset(id)
	if s == nil || level > 0 && (s.Size > maxHypernymSize || s.Depth < minHypernymDep) {
		return
	}
	if w > weights[id] {
		weights[id] = w
	}
	if level == semLevels {
		return
	}
	for _, h := range s.Hypernyms {
		l.climb(h, w*semLevelDecay, level+1, weights)
	}
}

// addSemantic adds the semantic features of a word to v, scaled.
func addSemantic(wi wordInfo, v []float32, scale float32) {
	for _, f := range wi.feats {
		addHashed(v, f.hash, f.weight*scale)
	}
}

// maxCollocation is the most words of a collocation looked up.
const maxCollocation = 3

// collocations marks the collocations WordNet knows among the words of the
// current text ("snake plant", "peace lily", "salicylic acid"), longest
// first: their meaning is that of the whole, not of "snake" and "plant".
func (f *featurizer) collocations() {
	n := len(f.ends)
	f.colloc = f.colloc[:0]
	for range n {
		f.colloc = append(f.colloc, -1)
	}
	if f.lex == nil || f.lex.db == nil {
		return
	}
	for i := 0; i < n; i++ {
		if f.mods[i] || isEmbedStopWord(f.word(i)) {
			continue
		}
		for k := min(maxCollocation, n-i); k >= 2; k-- {
			if slices.Contains(f.mods[i:i+k], true) {
				continue
			}
			if !f.lex.isCollocation(f.joined(i, k)) {
				continue
			}
			f.colloc[i] = k
			for j := i + 1; j < i+k; j++ {
				f.colloc[j] = 0
			}
			i += k - 1
			break
		}
	}
}

// joined returns words i..i+k-1 of the current text joined by "_".
func (f *featurizer) joined(i, k int) []byte {
	f.join = f.join[:0]
	for j := i; j < i+k; j++ {
		if j > i {
			f.join = append(f.join, '_')
		}
		f.join = append(f.join, f.word(j)...)
	}
	return f.join
}
