package cluster

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// The lexical pass (#21). A keyword's vector is made from its own words,
// so "flow hive review" and "langstroth vs top bar hive" need world
// knowledge to meet, and the offline embedder has little. A set of
// keywords has a signal no single vector has: a head term (not a query
// modifier, not a stop word) that a few keywords of the set share, "hive",
// "plane", "defense", is evidence of one topic. After the vector passes:
//
//   - an outlier joins the only cluster where one of its head terms occurs
//     in TermSupport members, when no other cluster holds that term and no
//     other of its terms points to another cluster;
//   - outliers left that share a rare head term (one at most TermShare of
//     the set's keywords hold) form a cluster when MinSize of them do, less
//     those not TermCohesion similar to the others;
//   - outliers are offered to the clusters as in the first step again, and
//     near clusters merge as in the second pass.
//
// A shared modifier ("review", "how to", "vs") is no evidence: Terms keeps
// modifiers out of the head terms.

// weakHeads are head terms that say little about a topic beyond the query
// modifiers of Terms: the offline embedder's further modifiers and verbs
// and adverbs of any topic.
var weakHeads = map[string]bool{
	"good": true, "better": true, "easy": true, "simple": true, "ultimate": true, "new": true,
	"online": true, "checklist": true, "comparison": true, "compared": true, "difference": true,
	"between": true, "much": true, "many": true, "under": true, "over": true, "less": true,
	"than": true, "way": true, "make": true, "use": true, "need": true, "start": true,
	"most": true, "more": true, "first": true, "one": true, "will": true, "if": true, "out": true,
	"up": true, "about": true, "all": true, "like": true,
}

// termIDs returns, for each phrase, the ids of its head terms that at least
// two phrases of the set hold, and for each id whether it is rare: held by
// at most maxDF phrases.
func termIDs(phrases []string, maxDF int) (terms [][]int, rare []bool) {
	heads := make([][]string, len(phrases))
	df := map[string]int{}
	for i, p := range phrases {
		h, _ := Terms(p)
		heads[i] = slices.DeleteFunc(distinct(h), func(t string) bool { return weakHeads[t] || len(t) < 2 })
		for _, t := range heads[i] {
			df[t]++
		}
	}
	ids := map[string]int{}
	terms = make([][]int, len(phrases))
	for i, h := range heads {
		for _, t := range h {
			if df[t] < 2 {
				continue
			}
			id, ok := ids[t]
			if !ok {
				id = len(ids)
				ids[t] = id
				rare = append(rare, df[t] <= maxDF)
			}
			terms[i] = append(terms[i], id)
		}
	}
	return terms, rare
}

// maxTermDF is the most phrases of a set of n a rare term may occur in.
func (o Options) maxTermDF(n int) int {
	return max(o.MinSize, int(math.Floor(float64(o.TermShare)*float64(n))))
}

// lexical runs the lexical pass over the clusters and outliers of the set
// of phrases and returns both.
func (g *grouper) lexical(ctx context.Context, clusters []leaf, outliers []int, phrases []string) ([]leaf, []int, error) {
	if g.opt.TermSupport < 0 || len(outliers) == 0 {
		return clusters, outliers, nil
	}
	terms, rare := termIDs(phrases, g.opt.maxTermDF(len(phrases)))
	outliers = g.attachTerms(clusters, outliers, terms)
	more, outliers := g.groupTerms(outliers, terms, rare)
	clusters = append(clusters, more...)
	outliers = g.attachTerms(clusters, outliers, terms)
	clusters, err := g.merge(ctx, clusters)
	return clusters, outliers, err
}

// attachTerms places each outlier in the one cluster that holds one of its
// terms in at least TermSupport members while no other cluster holds that
// term, unless another of its terms points to another cluster in the same
// way; it repeats while outliers are placed, attachRounds times at most,
// and returns those left.
func (g *grouper) attachTerms(clusters []leaf, outliers []int, terms [][]int) []int {
	for round := 0; round < attachRounds && len(outliers) > 0; round++ {
		holders := termHolders(clusters, terms)
		placed := map[int]bool{}
		for _, o := range outliers {
			c := g.termTarget(holders, terms[o])
			if c >= 0 && len(clusters[c].members) < g.opt.MaxSize {
				clusters[c].members = append(clusters[c].members, o)
				placed[o] = true
			}
		}
		if len(placed) == 0 {
			break
		}
		for c := range clusters {
			clusters[c].centroid, _ = centroid(g.m, clusters[c].members)
		}
		outliers = slices.DeleteFunc(outliers, func(i int) bool { return placed[i] })
	}
	return outliers
}

// termHolders maps each term to the clusters whose members hold it, with
// how many of them do.
func termHolders(clusters []leaf, terms [][]int) map[int]map[int]int {
	holders := map[int]map[int]int{}
	for c, l := range clusters {
		for _, i := range l.members {
			for _, t := range terms[i] {
				if holders[t] == nil {
					holders[t] = map[int]int{}
				}
				holders[t][c]++
			}
		}
	}
	return holders
}

// termTarget returns the cluster the terms point to, or -1 when they point
// to none or to more than one.
func (g *grouper) termTarget(holders map[int]map[int]int, terms []int) int {
	target := -1
	for _, t := range terms {
		if len(holders[t]) != 1 {
			continue
		}
		for c, n := range holders[t] {
			switch {
			case n < g.opt.TermSupport || c == target:
			case target >= 0:
				return -1
			default:
				target = c
			}
		}
	}
	return target
}

// groupTerms makes clusters of the outliers that share a rare term, MinSize
// of them at least (at most MaxSize) once pruned to TermCohesion, the terms
// most outliers share first, and returns them with the outliers left.
func (g *grouper) groupTerms(outliers []int, terms [][]int, rare []bool) ([]leaf, []int) {
	holders := map[int][]int{}
	for _, o := range outliers {
		for _, t := range terms[o] {
			if rare[t] {
				holders[t] = append(holders[t], o)
			}
		}
	}
	order := make([]int, 0, len(holders))
	for t := range holders {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(len(holders[b]), len(holders[a])), cmp.Compare(a, b))
	})
	taken := map[int]bool{}
	var out []leaf
	for _, t := range order {
		members := slices.DeleteFunc(slices.Clone(holders[t]), func(i int) bool { return taken[i] })
		if len(members) < g.opt.MinSize || len(members) > g.opt.MaxSize {
			continue
		}
		l := g.cohesive(members)
		if l.members == nil {
			continue
		}
		for _, i := range l.members {
			taken[i] = true
		}
		out = append(out, l)
	}
	return out, slices.DeleteFunc(outliers, func(i int) bool { return taken[i] })
}

// cohesive prunes members as a leaf is pruned, held to TermCohesion: a term
// shared by keywords of different topics ("line" in "caro kann defense
// main line" and "vatican museums skip the line") does not hold them
// together when their other words pull apart. The leaf's members are nil
// when fewer than MinSize stay.
func (g *grouper) cohesive(members []int) leaf {
	strict := g.opt.Threshold
	g.opt.Threshold = g.opt.TermCohesion
	l, _ := g.prune(members)
	g.opt.Threshold = strict
	return l
}
