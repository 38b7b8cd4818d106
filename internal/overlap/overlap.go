// Package overlap finds content ideas that would compete with a site's
// other ideas for the same search query (keyword cannibalization): two
// articles of one site aimed at one query split its ranking between them.
//
// An idea overlaps an earlier one when both aim at the same primary
// keyword (compared by KeywordKey: case, punctuation and simple plurals do
// not matter) or when their titles mean the same: the cosine similarity of
// their embeddings reaches a threshold. The package decides on vectors it
// is given; embedding the titles is the caller's (cached) work.
package overlap

import (
	"strings"
	"unicode"
)

// DefaultThreshold is the title similarity from which two titles are taken
// to mean the same. With the offline embedder, "Pothos Care Guide" and "How
// to Care for Pothos" score 0.99 and two starter guides 0.91, while
// "Trail Running Shoes vs Road Shoes" against a best-of list of trail
// shoes scores 0.88 and two different dog-training topics 0.64; OpenAI's
// text-embedding-3 models score paraphrased titles around 0.9 as well.
const DefaultThreshold = 0.9

// Reason says why an idea was refused.
type Reason string

const (
	// SamePrimaryKeyword: both aim at the same primary keyword.
	SamePrimaryKeyword Reason = "same_primary_keyword"
	// SimilarTitle: the titles mean the same.
	SimilarTitle Reason = "similar_title"
)

// Entry is an idea as the check sees it. ID is the stored idea's id, zero
// for a candidate not stored yet.
type Entry struct {
	ID      int64
	Title   string
	Primary string
	Vector  []float32
}

// Conflict is a candidate refused because it overlaps With.
type Conflict struct {
	// Candidate is the refused candidate's index in the candidates given.
	Candidate  int
	With       Entry
	Reason     Reason
	Similarity float32
}

// Check returns the candidates that overlap an existing entry or an
// earlier candidate that was kept, in candidate order. A same primary
// keyword is reported before a similar title; among similar titles, the
// most similar entry is named. Vectors are expected L2-normalized (as
// embedding models return them); a candidate or entry without a vector is
// compared by keyword only. threshold <= 0 means DefaultThreshold.
func Check(candidates, existing []Entry, threshold float32) []Conflict {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	kept := append([]Entry(nil), existing...)
	byKey := make(map[string]int, len(kept)+len(candidates))
	for i, e := range kept {
		if k := KeywordKey(e.Primary); k != "" {
			if _, ok := byKey[k]; !ok {
				byKey[k] = i
			}
		}
	}
	var out []Conflict
	for ci, c := range candidates {
		key := KeywordKey(c.Primary)
		if i, ok := byKey[key]; ok && key != "" {
			out = append(out, Conflict{Candidate: ci, With: kept[i], Reason: SamePrimaryKeyword,
				Similarity: cosine(c.Vector, kept[i].Vector)})
			continue
		}
		if i, sim := closest(c.Vector, kept); i >= 0 && sim >= threshold {
			out = append(out, Conflict{Candidate: ci, With: kept[i], Reason: SimilarTitle, Similarity: sim})
			continue
		}
		if key != "" {
			byKey[key] = len(kept)
		}
		kept = append(kept, c)
	}
	return out
}

// closest returns the index of the entry most similar to v and the
// similarity, or -1 when no entry has a comparable vector.
func closest(v []float32, entries []Entry) (int, float32) {
	best, bestSim := -1, float32(-2)
	if len(v) == 0 {
		return best, 0
	}
	for i, e := range entries {
		if len(e.Vector) != len(v) {
			continue
		}
		if s := cosine(v, e.Vector); s > bestSim {
			best, bestSim = i, s
		}
	}
	return best, bestSim
}

// cosine is the dot product of two normalized vectors; 0 when their
// lengths differ or one is missing.
func cosine(a, b []float32) float32 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// KeywordKey is the form in which primary keywords are compared: lower
// case, punctuation as space, runs of space as one, and a plural "s" off
// words of more than three letters that do not end in "ss" ("Trail
// Running Shoes" and "trail-running shoe" are one query).
func KeywordKey(keyword string) string {
	words := strings.FieldsFunc(strings.ToLower(keyword), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for i, w := range words {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			words[i] = w[:len(w)-1]
		}
	}
	return strings.Join(words, " ")
}
