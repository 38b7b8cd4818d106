package cluster

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/presswork/presswork/internal/errs"
)

// Incremental clustering (#21). A site's clusters are kept with their
// centroids, the mean of their members' unit vectors; keywords imported
// later join the cluster they fit before the rest are grouped, so that a
// site's clusters grow instead of gaining parallel ones.

// Existing is a cluster kept from earlier clusterings that new keywords
// may join: the mean of its members' unit vectors (it need not be a unit
// vector itself) and how many members it has. Like a cluster Group builds,
// it takes members while it has fewer than MaxSize.
type Existing struct {
	Mean []float32
	Size int
}

// Join places vectors in existing clusters and returns, for each vector,
// the index in existing of the cluster it joins, or -1. Before grouping
// (leftovers false) a vector joins the cluster whose centroid it is at
// least Threshold similar to, as close as a member of a cluster Group
// builds must be to stay in it; after grouping, an outlier (leftovers
// true) joins at AttachThreshold, as Group's second pass attaches its own
// outliers. The most similar vectors are placed first, each in the most
// similar of its few best clusters that still has room. Zero and
// non-finite vectors, and clusters with a zero mean, join nothing. Join is
// deterministic; it returns ctx.Err() when ctx is cancelled and an error
// wrapping errs.ErrPermanent for invalid options or vectors whose length
// differs from each other's or from a mean's.
func Join(ctx context.Context, vectors [][]float32, existing []Existing, opt Options, leftovers bool) ([]int, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(vectors))
	for i := range out {
		out[i] = -1
	}
	if len(vectors) == 0 || len(existing) == 0 {
		return out, ctx.Err()
	}
	m, valid, _, err := normalized(vectors)
	if err != nil {
		return nil, err
	}
	g := &grouper{m: m, opt: opt, rng: newRNG(opt.Seed), budget: bruteBudget}
	clusters := make([]leaf, 0, len(existing))
	at := make([]int, 0, len(existing))
	for i, e := range existing {
		if len(e.Mean) != m.d {
			return nil, fmt.Errorf("cluster: mean %d has %d dimensions, the vectors %d: %w", i, len(e.Mean), m.d, errs.ErrPermanent)
		}
		c := make([]float32, m.d)
		if !normalizeInto(c, e.Mean) {
			continue
		}
		// Placeholders stand for the cluster's members: attach sees how
		// full it is, and what it appends are the vectors that join.
		clusters = append(clusters, leaf{members: slices.Repeat([]int{-1}, max(e.Size, 0)), centroid: c})
		at = append(at, i)
	}
	threshold := opt.Threshold
	if leftovers {
		threshold = opt.AttachThreshold
	}
	if _, err := g.attach(ctx, clusters, valid, threshold); err != nil {
		return nil, err
	}
	for ci, c := range clusters {
		for _, v := range c.members[max(existing[at[ci]].Size, 0):] {
			out[v] = at[ci]
		}
	}
	return out, nil
}

// AddMean returns the mean of the unit vectors of n members, mean, with
// the unit vectors of vectors added, and the number of members it is now
// over. Zero and non-finite vectors, and vectors whose length differs
// from the mean's, are left out. A nil mean (n 0) starts a new one: Mean.
func AddMean(mean []float32, n int, vectors [][]float32) ([]float32, int) {
	var sum []float64
	if n > 0 && len(mean) > 0 {
		sum = make([]float64, len(mean))
		for j, x := range mean {
			sum[j] = float64(x) * float64(n)
		}
	} else {
		n = 0
	}
	var u []float32
	for _, v := range vectors {
		if sum == nil {
			sum = make([]float64, len(v))
		}
		if len(v) != len(sum) {
			continue
		}
		if u == nil {
			u = make([]float32, len(v))
		}
		if !normalizeInto(u, v) {
			continue
		}
		for j, x := range u {
			sum[j] += float64(x)
		}
		n++
	}
	if n == 0 {
		return nil, 0
	}
	out := make([]float32, len(sum))
	for j, x := range sum {
		out[j] = float32(x / float64(n))
	}
	if !finite(out) {
		return nil, 0
	}
	return out, n
}

// Mean returns the mean of the unit vectors of vectors and how many it is
// over (see AddMean); nil and 0 when none is usable.
func Mean(vectors [][]float32) ([]float32, int) { return AddMean(nil, 0, vectors) }

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
