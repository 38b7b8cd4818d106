package cluster

import (
	"context"
	"slices"
	"strings"
)

// Comparison keywords (#21). "cortado vs flat white" belongs with cortados
// and flat whites, but its vector is a mix of both (and, with a model that
// weighs "vs", of every other comparison), so it may be near no cluster as
// a whole. Its sides are each near their own cluster: a comparison left
// out is placed by the better of its two sides.

// Comparison is a keyword that compares two things: its index in the
// vectors given to GroupComparing and the vectors of its two sides.
type Comparison struct {
	Index int
	A, B  []float32
}

// Sides splits a comparison keyword ("x vs y", "x vs. y", "x versus y")
// into its two sides, and reports whether it is one. Sides are trimmed;
// both must be non-empty.
func Sides(phrase string) (a, b string, ok bool) {
	words := strings.Fields(strings.ToLower(phrase))
	for i, w := range words {
		if (w == "vs" || w == "vs." || w == "versus") && i > 0 && i < len(words)-1 {
			return strings.Join(words[:i], " "), strings.Join(words[i+1:], " "), true
		}
	}
	return "", "", false
}

// GroupComparing is Group, then a comparison still left out joins the
// cluster holding the member most similar to either of its sides, when
// that member is at least NearThreshold similar to the side and the
// cluster has room. A comparison whose index is out of range, or whose side
// vectors do not have the vectors' length, is ignored. Then, when phrases
// holds the keyword of each vector (len(phrases) == len(vectors)), the
// lexical pass places outliers by the rare head terms they share (see
// lexical.go); with nil phrases there is no lexical pass.
func GroupComparing(ctx context.Context, vectors [][]float32, phrases []string, comparisons []Comparison, opt Options) (Result, error) {
	return groupComparing(ctx, vectors, phrases, comparisons, opt, bruteBudget)
}

// attachSides places the comparisons among outliers by their sides and
// returns the outliers left.
func (g *grouper) attachSides(ctx context.Context, clusters []leaf, outliers []int, comparisons []Comparison) ([]int, error) {
	if len(clusters) == 0 || len(comparisons) == 0 {
		return outliers, nil
	}
	idx, err := g.newIndex(ctx, clusters, 2*len(comparisons))
	if err != nil {
		return nil, err
	}
	side := make([]float32, g.m.d)
	var props []proposal
	for n, cp := range comparisons {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if _, found := slices.BinarySearch(outliers, cp.Index); !found {
			continue
		}
		best := proposal{cand: cp.Index, c: -1, sim: g.opt.NearThreshold}
		for _, v := range [][]float32{cp.A, cp.B} {
			if len(v) != g.m.d || !normalizeInto(side, v) {
				continue
			}
			for _, p := range idx.proposeN(nil, cp.Index, side, 0, maxChoice) {
				for _, i := range clusters[p.c].members {
					if s := dot(side, g.m.row(i)); s > best.sim || s == best.sim && best.c < 0 {
						best.c, best.sim = p.c, s
					}
				}
			}
		}
		if best.c >= 0 {
			props = append(props, best)
		}
	}
	placed := make(map[int]bool, len(props))
	for _, p := range props {
		if len(clusters[p.c].members) < g.opt.MaxSize {
			clusters[p.c].members = append(clusters[p.c].members, p.cand)
			placed[p.cand] = true
		}
	}
	return slices.DeleteFunc(outliers, func(i int) bool { return placed[i] }), nil
}

// ComparisonTexts returns the sides of the comparisons among phrases, two
// texts per comparison (to be embedded with the phrases), and the indexes
// of those comparisons in phrases.
func ComparisonTexts(phrases []string) (sides []string, at []int) {
	for i, p := range phrases {
		if a, b, ok := Sides(p); ok {
			sides = append(sides, a, b)
			at = append(at, i)
		}
	}
	return sides, at
}

// Comparisons pairs the comparisons' indexes from ComparisonTexts with the
// vectors of their sides, in the same order.
func Comparisons(at []int, sideVectors [][]float32) []Comparison {
	out := make([]Comparison, 0, len(at))
	for n, i := range at {
		if 2*n+1 < len(sideVectors) {
			out = append(out, Comparison{Index: i, A: sideVectors[2*n], B: sideVectors[2*n+1]})
		}
	}
	return out
}
