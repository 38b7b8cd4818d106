// Package wordnet reads the Princeton WordNet 3.0 database as Debian's
// wordnet-base package installs it (/usr/share/wordnet: index.noun,
// data.noun, noun.exc, and the same for verbs): lemmas, their synsets in
// sense order, and each synset's words and hypernyms. It is the offline
// embedder's semantic signal (#21): "pothos" and "monstera" share no letters
// but meet a few hypernyms up.
//
// Only nouns and verbs are read; adjectives and adverbs have no hypernyms.
// The files are read once into memory (about 18 MB of text, parsed into
// about 95,000 synsets).
package wordnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultDir is where Debian's wordnet-base installs the database.
const DefaultDir = "/usr/share/wordnet"

// POS is a part of speech, as WordNet's files name it.
type POS byte

// The parts of speech read.
const (
	Noun POS = 'n'
	Verb POS = 'v'
)

var posFile = map[POS]string{Noun: "noun", Verb: "verb"}

// ID identifies a synset: its part of speech and its byte offset in its
// data file.
type ID struct {
	POS    POS
	Offset uint32
}

// Synset is a set of synonyms: its words (lemmas, with "_" between the
// words of a collocation), its direct hypernyms (instance hypernyms
// included), its depth (the fewest hypernym links to a root, 0 for a root)
// and its size (the synset and all its hyponyms, counted along every path,
// so a rough measure of how general it is).
type Synset struct {
	ID        ID
	Words     []string
	Hypernyms []ID
	Domains   []ID   // topic domains (";c"): "chess" for "castling"
	Wholes    []ID   // part holonyms ("#p"): "Iceland" for "Reykjavik"
	Gloss     string // the definition, without its examples
	Depth     int
	Size      int

	hyponyms []ID
}

// DB is a loaded WordNet database. It is read-only and safe for concurrent
// use.
type DB struct {
	index   map[POS]map[string][]ID
	exc     map[POS]map[string][]string
	synsets map[ID]*Synset
}

// ErrNotFound is returned by Open when dir holds no WordNet database.
var ErrNotFound = errors.New("wordnet: database not found")

// Open reads the database in dir. When dir has no index.noun it returns an
// error wrapping ErrNotFound.
func Open(dir string) (*DB, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.noun")); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, dir)
	}
	db := &DB{index: map[POS]map[string][]ID{}, exc: map[POS]map[string][]string{}, synsets: map[ID]*Synset{}}
	for pos, name := range posFile {
		if err := db.readIndex(filepath.Join(dir, "index."+name), pos); err != nil {
			return nil, err
		}
		if err := db.readData(filepath.Join(dir, "data."+name), pos); err != nil {
			return nil, err
		}
		if err := db.readExc(filepath.Join(dir, name+".exc"), pos); err != nil {
			return nil, err
		}
	}
	db.measure()
	return db, nil
}

// lines calls fn with each line of the file that is not part of the
// license header (header lines start with two spaces).
func lines(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("wordnet: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(line) == 0 || line[0] == ' ' {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("wordnet: %s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("wordnet: %s: %w", path, err)
	}
	return nil
}

// readIndex reads an index file: "lemma pos synset_cnt p_cnt [ptr...]
// sense_cnt tagsense_cnt offset...".
func (db *DB) readIndex(path string, pos POS) error {
	idx := map[string][]ID{}
	err := lines(path, func(line []byte) error {
		f := strings.Fields(string(line))
		if len(f) < 6 {
			return errors.New("short index line")
		}
		nSyn, err1 := strconv.Atoi(f[2])
		nPtr, err2 := strconv.Atoi(f[3])
		if err := errors.Join(err1, err2); err != nil || 4+nPtr+2+nSyn != len(f) {
			return fmt.Errorf("malformed index line %q", f[0])
		}
		ids := make([]ID, 0, nSyn)
		for _, s := range f[4+nPtr+2:] {
			off, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return fmt.Errorf("offset %q: %w", s, err)
			}
			ids = append(ids, ID{pos, uint32(off)})
		}
		idx[f[0]] = ids
		return nil
	})
	db.index[pos] = idx
	return err
}

// readData reads a data file: "offset lex_filenum ss_type w_cnt (word
// lex_id)... p_cnt (symbol offset pos source/target)... [frames] | gloss".
func (db *DB) readData(path string, pos POS) error {
	return lines(path, func(line []byte) error {
		var gloss string
		if i := bytes.Index(line, []byte(" | ")); i >= 0 {
			gloss = definition(string(line[i+3:]))
			line = line[:i]
		}
		f := strings.Fields(string(line))
		if len(f) < 4 {
			return errors.New("short data line")
		}
		off, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil {
			return fmt.Errorf("offset %q: %w", f[0], err)
		}
		nw, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil || 4+2*int(nw) >= len(f) {
			return fmt.Errorf("word count %q", f[3])
		}
		s := &Synset{ID: ID{pos, uint32(off)}, Words: make([]string, 0, nw), Gloss: gloss}
		for i := range int(nw) {
			s.Words = append(s.Words, strings.ToLower(trimMarker(f[4+2*i])))
		}
		at := 4 + 2*int(nw)
		np, err := strconv.Atoi(f[at])
		if err != nil || at+1+4*np > len(f) {
			return fmt.Errorf("pointer count %q", f[at])
		}
		for p := range np {
			ptr := f[at+1+4*p : at+5+4*p]
			if len(ptr[2]) != 1 {
				continue
			}
			if POS(ptr[2][0]) != pos && (ptr[0] != ";c" || POS(ptr[2][0]) != Noun) {
				continue // only topic domains may be nouns of a verb
			}
			to, err := strconv.ParseUint(ptr[1], 10, 32)
			if err != nil {
				return fmt.Errorf("pointer offset %q: %w", ptr[1], err)
			}
			switch ptr[0] {
			case "@", "@i":
				s.Hypernyms = append(s.Hypernyms, ID{pos, uint32(to)})
			case "~", "~i":
				s.hyponyms = append(s.hyponyms, ID{pos, uint32(to)})
			case "#p":
				s.Wholes = append(s.Wholes, ID{pos, uint32(to)})
			case ";c":
				s.Domains = append(s.Domains, ID{POS(ptr[2][0]), uint32(to)})
			}
		}
		db.synsets[s.ID] = s
		return nil
	})
}

// definition returns a gloss without its quoted examples: the text before
// the first "; \"" (or the first quote).
func definition(gloss string) string {
	if i := strings.IndexByte(gloss, '"'); i >= 0 {
		gloss = gloss[:i]
	}
	return strings.TrimRight(strings.TrimSpace(gloss), ";")
}

// trimMarker drops an adjective's syntactic marker ("(a)", "(p)", "(ip)").
func trimMarker(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 {
		return w[:i]
	}
	return w
}

// readExc reads an exception list: "inflected base...".
func (db *DB) readExc(path string, pos POS) error {
	exc := map[string][]string{}
	db.exc[pos] = exc
	err := lines(path, func(line []byte) error {
		f := strings.Fields(string(line))
		if len(f) >= 2 {
			exc[f[0]] = f[1:]
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the exception lists only help
	}
	return err
}

// measure sets every synset's Depth and Size.
func (db *DB) measure() {
	const unknown = -1
	for _, s := range db.synsets {
		s.Depth, s.Size = unknown, unknown
	}
	var depth func(s *Synset, guard int) int
	depth = func(s *Synset, guard int) int {
		if s.Depth != unknown {
			return s.Depth
		}
		d := 0
		if guard > 0 {
			for _, h := range s.Hypernyms {
				if hs := db.synsets[h]; hs != nil {
					if hd := depth(hs, guard-1) + 1; d == 0 || hd < d {
						d = hd
					}
				}
			}
		}
		s.Depth = d
		return d
	}
	var size func(s *Synset, guard int) int
	size = func(s *Synset, guard int) int {
		if s.Size != unknown {
			return s.Size
		}
		n := 1
		if guard > 0 {
			for _, h := range s.hyponyms {
				if hs := db.synsets[h]; hs != nil {
					n += size(hs, guard-1)
				}
			}
		}
		s.Size = n
		return n
	}
	for _, s := range db.synsets {
		depth(s, 64)
		size(s, 64)
	}
}

// Synset returns the synset id names, nil when there is none.
func (db *DB) Synset(id ID) *Synset { return db.synsets[id] }

// Senses returns the synsets of a word (lower case; words of a
// collocation joined by "_") as pos, most frequent sense first: those of
// the word itself, or else of its base forms (WordNet's morphology: the
// exception list, then the detachment rules, "tomatoes" is "tomato",
// "brewing" is "brew").
func (db *DB) Senses(word string, pos POS) []ID {
	idx := db.index[pos]
	if ids, ok := idx[word]; ok {
		return ids
	}
	for _, base := range db.exc[pos][word] {
		if ids, ok := idx[base]; ok {
			return ids
		}
	}
	for _, r := range rules[pos] {
		if len(word) > len(r[0])+1 && strings.HasSuffix(word, r[0]) {
			if ids, ok := idx[word[:len(word)-len(r[0])]+r[1]]; ok {
				return ids
			}
		}
	}
	return nil
}

// rules are WordNet's detachment rules (morphy(7WN)): suffix, replacement.
var rules = map[POS][][2]string{
	Noun: {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"},
		{"men", "man"}, {"ies", "y"}},
	Verb: {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""},
		{"ing", "e"}, {"ing", ""}},
}

// Polysemy returns how many senses a word has as a noun and as a verb: 0
// for a word WordNet does not know, many for a general one ("set", "run",
// "make"). It stands in for how little a word says about a topic.
func (db *DB) Polysemy(word string) int {
	return len(db.Senses(word, Noun)) + len(db.Senses(word, Verb))
}
