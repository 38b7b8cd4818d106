package eval

import "github.com/presswork/presswork/internal/cluster"

// ModifierPhrases are the query modifiers (cluster.ModifierPhrases).
var ModifierPhrases = cluster.ModifierPhrases

// Terms splits a keyword into its head terms and its modifiers
// (cluster.Terms).
func Terms(keyword string) (heads, modifiers []string) { return cluster.Terms(keyword) }

// ModifierShare is the share of a cluster's keywords a term must occur in
// to hold the cluster together.
const ModifierShare = 0.5

// ModifierHeld reports whether a cluster is held together only by a
// modifier: some modifier term occurs in at least ModifierShare of its
// keywords while no head term does. term is that modifier ("" when the
// cluster is not modifier-held). A cluster of fewer than two keywords is
// never modifier-held.
func ModifierHeld(keywords []string) (held bool, term string) {
	if len(keywords) < 2 {
		return false, ""
	}
	heads, mods := map[string]int{}, map[string]int{}
	for _, k := range keywords {
		h, m := Terms(k)
		for _, t := range distinct(h) {
			heads[t]++
		}
		for _, t := range distinct(m) {
			mods[t]++
		}
	}
	need := ModifierShare * float64(len(keywords))
	for _, n := range heads {
		if float64(n) >= need {
			return false, ""
		}
	}
	best := 0
	for t, n := range mods {
		if float64(n) >= need && (n > best || n == best && t < term) {
			best, term = n, t
		}
	}
	return term != "", term
}

func distinct(ts []string) []string {
	seen := make(map[string]bool, len(ts))
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
