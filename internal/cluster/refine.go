package cluster

import (
	"cmp"
	"context"
	"slices"
)

// The second pass (#21). The top-down tree is precise but cuts a topic in
// pieces when its keywords share words only in twos and threes ("tomato
// plant spacing", "growing tomatoes from seed"), and leaves keywords out
// that are close to a cluster without reaching Threshold. merge joins
// near-duplicate clusters, then outliers whose nearest cluster is at least
// AttachThreshold similar join it.

// merge joins clusters whose centroids are at least MergeThreshold similar
// while their union fits in MaxSize, the most similar pairs first. Pairs
// are proposed by the index of attach (each cluster's attachChoice nearest
// others), so merging stays near-linear in the number of clusters; a pair
// is checked again with the centroids of what it has become before it is
// merged.
func (g *grouper) merge(ctx context.Context, clusters []leaf) ([]leaf, error) {
	if len(clusters) < 2 {
		return clusters, nil
	}
	idx, err := g.newIndex(ctx, clusters, len(clusters))
	if err != nil {
		return nil, err
	}
	var props []proposal
	for c := range clusters {
		if c%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		// attachChoice+1: the nearest cluster to a centroid is its own.
		props = idx.proposeN(props, c, clusters[c].centroid, g.opt.MergeThreshold, attachChoice+1)
	}
	props = slices.DeleteFunc(props, func(p proposal) bool { return p.cand >= p.c })
	slices.SortFunc(props, func(a, b proposal) int {
		return cmp.Or(cmp.Compare(b.sim, a.sim), cmp.Compare(a.cand, b.cand), cmp.Compare(a.c, b.c))
	})
	parent := make([]int, len(clusters))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, p := range props {
		a, b := find(p.cand), find(p.c)
		if a == b || len(clusters[a].members)+len(clusters[b].members) > g.opt.MaxSize {
			continue
		}
		if dot(clusters[a].centroid, clusters[b].centroid) < g.opt.MergeThreshold {
			continue
		}
		a, b = min(a, b), max(a, b)
		clusters[a].members = append(clusters[a].members, clusters[b].members...)
		clusters[a].centroid, _ = centroid(g.m, clusters[a].members)
		clusters[b].members = nil
		parent[b] = a
	}
	return slices.DeleteFunc(clusters, func(l leaf) bool { return l.members == nil }), nil
}

// attachNear adds outliers to clusters by their nearest member: among the
// maxChoice clusters whose centroids are most similar to a candidate (at
// least floor), the one holding the member most similar to it, when that
// member is at least threshold similar and the cluster has room. A keyword
// that shares its rarer words with one member ("clickup review", "clickup
// vs monday.com") is placed even when the cluster's centroid is spread
// over many words. Candidates are taken most similar first, in rounds, so
// that one placed can bring in another; it returns those left over.
func (g *grouper) attachNear(ctx context.Context, clusters []leaf, cands []int, floor, threshold float32) ([]int, error) {
	for round := 0; round < attachRounds && len(cands) > 0 && len(clusters) > 0; round++ {
		idx, err := g.newIndex(ctx, clusters, len(cands))
		if err != nil {
			return nil, err
		}
		var props []proposal
		for n, cand := range cands {
			if n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			x := g.m.row(cand)
			best := proposal{cand: cand, c: -1, sim: threshold}
			for _, p := range idx.proposeN(nil, cand, x, floor, maxChoice) {
				for _, i := range clusters[p.c].members {
					if s := dot(x, g.m.row(i)); s > best.sim || s == best.sim && best.c < 0 {
						best.c, best.sim = p.c, s
					}
				}
			}
			if best.c >= 0 {
				props = append(props, best)
			}
		}
		if len(props) == 0 {
			break
		}
		slices.SortFunc(props, func(a, b proposal) int {
			return cmp.Or(cmp.Compare(b.sim, a.sim), cmp.Compare(a.cand, b.cand))
		})
		placed := make(map[int]bool, len(props))
		for _, p := range props {
			if len(clusters[p.c].members) >= g.opt.MaxSize {
				continue
			}
			clusters[p.c].members = append(clusters[p.c].members, p.cand)
			placed[p.cand] = true
		}
		if len(placed) == 0 {
			break
		}
		for c := range clusters {
			clusters[c].centroid, _ = centroid(g.m, clusters[c].members)
		}
		cands = slices.DeleteFunc(cands, func(i int) bool { return placed[i] })
	}
	return cands, nil
}

// regroup gives the outliers left a last chance to form clusters among
// themselves, held to RegroupThreshold instead of Threshold: a topic whose
// keywords share a word only in twos and threes ("pothos care", "monstera
// yellow leaves", "best low light houseplants") forms no cluster in the
// strict tree but is one. Its strays are attached as in the second pass.
func (g *grouper) regroup(ctx context.Context, clusters []leaf, outliers []int) ([]leaf, []int, error) {
	if len(outliers) < g.opt.MinSize {
		return clusters, outliers, nil
	}
	strict := g.opt.Threshold
	g.opt.Threshold = g.opt.RegroupThreshold
	// A generator of its own, so that the tree does not depend on how many
	// draws the inverted files of the passes before took.
	g.rng = newRNG(g.opt.Seed + 1)
	more, rest, err := g.build(ctx, outliers)
	g.opt.Threshold = strict
	if err != nil {
		return nil, nil, err
	}
	clusters = append(clusters, more...)
	if rest, err = g.attach(ctx, clusters, rest, g.opt.AttachThreshold); err != nil {
		return nil, nil, err
	}
	rest, err = g.attachNear(ctx, clusters, rest, attachFloor, g.opt.NearThreshold)
	return clusters, rest, err
}
