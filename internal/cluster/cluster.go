// Package cluster groups keyword embeddings into topical clusters. It is an
// algorithm over vectors, not a prompt.
//
// Group normalizes the vectors and splits them top-down with spherical
// k-means: a node larger than MaxSize is split k ways (k up to 8, seeded with
// random members), a node whose mean cosine to its centroid is below
// Threshold is bisected, and any other node is bisected on trial and split
// if its two halves are less similar than Threshold (two topics side by
// side). Bisection is seeded deterministically (the two most dissimilar
// members, or the centroid against its farthest member, whichever fits
// tighter). A finished node drops its strays, the members less similar than
// Threshold to the centroid of the others, and is examined again if it lost
// any. Leftovers (strays and nodes smaller than MinSize) are clustered once
// more among themselves, then attached to the most similar cluster with
// room whose centroid is at least Threshold similar. A second pass (#21)
// then merges clusters whose centroids are MergeThreshold similar (a topic
// the tree cut in pieces), attaches leftovers to the cluster whose centroid
// is AttachThreshold similar, and then to the cluster holding their nearest
// member when that member is NearThreshold similar. What is left is split
// once more into a tree held to the looser RegroupThreshold, whose strays
// are attached the same way. GroupComparing then places comparisons by
// their sides and, given the keywords' phrases, runs a lexical pass over
// the head terms the keywords share (lexical.go); the rest are outliers.
//
// Group never builds an n x n matrix: it works on one contiguous copy of the
// normalized vectors plus index slices, so memory is linear in n and time is
// about n x depth x k x iterations dot products.
package cluster

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/presswork/presswork/internal/errs"
)

// Default option values.
const (
	DefaultMinSize   = 3
	DefaultMaxSize   = 30
	DefaultThreshold = 0.35
	// DefaultMergeThreshold and DefaultAttachThreshold are the balanced
	// second pass (see Strictness).
	DefaultMergeThreshold   = 0.3
	DefaultAttachThreshold  = 0.25
	DefaultNearThreshold    = 0.3
	DefaultRegroupThreshold = 0.25
	DefaultSeed             = 1
	// DefaultTermShare and DefaultTermSupport are the balanced lexical
	// pass (see lexical.go).
	DefaultTermShare    = 0.05
	DefaultTermSupport  = 2
	DefaultTermCohesion = 0.05
)

// Algorithm constants.
const (
	maxBranch    = 8    // most children of one split
	lloydIters   = 10   // most Lloyd iterations per split
	attachChoice = 3    // clusters an outlier candidate may try, best first
	maxChoice    = 4    // most clusters one proposeN call returns
	attachRounds = 3    // rounds of attachNear
	attachFloor  = 0.1  // least centroid similarity of a cluster attachNear tries
	bruteBudget  = 4e6  // candidate x cluster pairs searched exhaustively
	probeLists   = 8    // inverted lists probed per candidate beyond bruteBudget
	checkEvery   = 1024 // candidates attached between checks of ctx
)

// Options tunes Group. Zero values take the defaults shown.
type Options struct {
	MinSize   int     // 3: smaller groups are outliers
	MaxSize   int     // 30: larger groups are split
	Threshold float32 // 0.35: minimum cosine similarity of a member to its cluster centroid for outlier attachment / cohesion
	Seed      int64   // 1: deterministic
	// The second pass: clusters whose centroids are MergeThreshold similar
	// merge (when their union fits in MaxSize), then an outlier joins its
	// nearest cluster when that one's centroid is AttachThreshold similar.
	MergeThreshold  float32 // 0.3
	AttachThreshold float32 // 0.25
	NearThreshold   float32 // 0.3
	// RegroupThreshold is the Threshold of a last tree built over the
	// outliers left (see regroup).
	RegroupThreshold float32 // 0.25
	// The lexical pass (GroupComparing with phrases; see lexical.go): an
	// outlier joins the only cluster where one of its head terms occurs in
	// TermSupport members; outliers left that share a rare head term, one
	// at most TermShare of the set's keywords hold (MinSize at least), form
	// a cluster of those at least TermCohesion similar to the others. A
	// negative TermSupport turns the pass off.
	TermShare    float32 // 0.05
	TermSupport  int     // 2
	TermCohesion float32 // 0.05
}

// Result is a clustering. Clusters holds indexes into the input, each
// cluster sorted so that the most central member (highest cosine to the
// centroid) comes first; clusters are sorted by size, largest first, then by
// their first index. Outliers holds, in ascending order, the indexes that fit
// nowhere. Every input index appears exactly once.
type Result struct {
	Clusters [][]int
	Outliers []int
}

// withDefaults fills zero fields and validates the rest.
func (o Options) withDefaults() (Options, error) {
	if o.MinSize == 0 {
		o.MinSize = DefaultMinSize
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.MergeThreshold == 0 {
		o.MergeThreshold = DefaultMergeThreshold
	}
	if o.AttachThreshold == 0 {
		o.AttachThreshold = DefaultAttachThreshold
	}
	if o.NearThreshold == 0 {
		o.NearThreshold = DefaultNearThreshold
	}
	if o.RegroupThreshold == 0 {
		o.RegroupThreshold = DefaultRegroupThreshold
	}
	if o.TermShare == 0 {
		o.TermShare = DefaultTermShare
	}
	if o.TermSupport == 0 {
		o.TermSupport = DefaultTermSupport
	}
	if o.TermCohesion == 0 {
		o.TermCohesion = DefaultTermCohesion
	}
	switch {
	case o.MinSize < 1:
		return o, fmt.Errorf("cluster: MinSize %d is negative: %w", o.MinSize, errs.ErrPermanent)
	case o.MaxSize < o.MinSize:
		return o, fmt.Errorf("cluster: MaxSize %d is below MinSize %d: %w", o.MaxSize, o.MinSize, errs.ErrPermanent)
	case !inRange(o.Threshold): // also rejects NaN
		return o, fmt.Errorf("cluster: Threshold %v is outside [-1, 1]: %w", o.Threshold, errs.ErrPermanent)
	case !inRange(o.MergeThreshold):
		return o, fmt.Errorf("cluster: MergeThreshold %v is outside [-1, 1]: %w", o.MergeThreshold, errs.ErrPermanent)
	case !inRange(o.RegroupThreshold):
		return o, fmt.Errorf("cluster: RegroupThreshold %v is outside [-1, 1]: %w", o.RegroupThreshold, errs.ErrPermanent)
	case !inRange(o.AttachThreshold):
		return o, fmt.Errorf("cluster: AttachThreshold %v is outside [-1, 1]: %w", o.AttachThreshold, errs.ErrPermanent)
	case !(o.TermShare > 0 && o.TermShare <= 1):
		return o, fmt.Errorf("cluster: TermShare %v is outside (0, 1]: %w", o.TermShare, errs.ErrPermanent)
	case !inRange(o.TermCohesion):
		return o, fmt.Errorf("cluster: TermCohesion %v is outside [-1, 1]: %w", o.TermCohesion, errs.ErrPermanent)
	}
	return o, nil
}

// inRange reports whether x is a cosine, in [-1, 1] (false for NaN).
func inRange(x float32) bool { return x >= -1 && x <= 1 }

// Group clusters vectors (one per keyword, all of the same length; they need
// not be normalized). Zero vectors, and vectors with NaN or infinite
// components, are outliers. The result depends only on the input and opt:
// the same call gives the same answer. Group returns ctx.Err() when ctx is
// cancelled, and an error wrapping errs.ErrPermanent for invalid options or
// vectors of different lengths.
func Group(ctx context.Context, vectors [][]float32, opt Options) (Result, error) {
	return group(ctx, vectors, opt, bruteBudget)
}

// group is Group with the size above which attach uses an inverted file
// instead of an exhaustive scan (a parameter so tests reach both paths).
func group(ctx context.Context, vectors [][]float32, opt Options, budget float64) (Result, error) {
	return groupComparing(ctx, vectors, nil, nil, opt, budget)
}

// groupComparing is GroupComparing with the attach budget of group.
func groupComparing(ctx context.Context, vectors [][]float32, phrases []string, comparisons []Comparison, opt Options, budget float64) (Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	m, valid, zero, err := normalized(vectors)
	if err != nil {
		return Result{}, err
	}
	g := &grouper{m: m, opt: opt, rng: newRNG(opt.Seed), budget: budget}
	clusters, rest, err := g.build(ctx, valid)
	if err != nil {
		return Result{}, err
	}
	// Leftovers get a second chance to form clusters among themselves: a true
	// group cut across two branches of the first tree reunites here.
	more, rest, err := g.build(ctx, rest)
	if err != nil {
		return Result{}, err
	}
	clusters = append(clusters, more...)
	outliers, err := g.attach(ctx, clusters, rest, g.opt.Threshold)
	if err != nil {
		return Result{}, err
	}
	if clusters, err = g.merge(ctx, clusters); err != nil {
		return Result{}, err
	}
	if outliers, err = g.attach(ctx, clusters, outliers, g.opt.AttachThreshold); err != nil {
		return Result{}, err
	}
	if outliers, err = g.attachNear(ctx, clusters, outliers, attachFloor, g.opt.NearThreshold); err != nil {
		return Result{}, err
	}
	if clusters, outliers, err = g.regroup(ctx, clusters, outliers); err != nil {
		return Result{}, err
	}
	slices.Sort(outliers)
	if outliers, err = g.attachSides(ctx, clusters, outliers, comparisons); err != nil {
		return Result{}, err
	}
	if len(phrases) == len(vectors) {
		if clusters, outliers, err = g.lexical(ctx, clusters, outliers, phrases); err != nil {
			return Result{}, err
		}
		slices.Sort(outliers)
	}
	return g.result(clusters, append(outliers, zero...)), nil
}

// matrix is a row-major set of vectors of length d.
type matrix struct {
	data []float32
	d    int
}

// row returns row i, capped so that appending to it cannot spill into the
// next row.
func (m matrix) row(i int) []float32 { return m.data[i*m.d : (i+1)*m.d : (i+1)*m.d] }

// normalized copies vectors into one matrix of unit rows. valid lists the
// rows that are usable; zero lists the zero and non-finite ones, whose rows
// stay zero.
func normalized(vectors [][]float32) (m matrix, valid, zero []int, err error) {
	if len(vectors) == 0 {
		return matrix{}, nil, nil, nil
	}
	d := len(vectors[0])
	for i, v := range vectors {
		if len(v) != d {
			return matrix{}, nil, nil, fmt.Errorf("cluster: vector %d has %d dimensions, vector 0 has %d: %w", i, len(v), d, errs.ErrPermanent)
		}
	}
	m = matrix{data: make([]float32, len(vectors)*d), d: d}
	valid = make([]int, 0, len(vectors))
	for i, v := range vectors {
		if normalizeInto(m.row(i), v) {
			valid = append(valid, i)
		} else {
			zero = append(zero, i)
		}
	}
	return m, valid, zero, nil
}

// normalizeInto writes v / |v| into dst and reports whether v had a finite,
// non-zero length.
func normalizeInto(dst, v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for j, x := range v {
		dst[j] = float32(float64(x) * inv)
	}
	return true
}

// grouper holds the state of one Group call.
type grouper struct {
	m      matrix
	opt    Options
	rng    *rand.Rand
	budget float64 // candidate x cluster pairs attach may scan exhaustively
}

// leaf is a finished cluster: its members and its unit centroid.
type leaf struct {
	members  []int
	centroid []float32
}

// build splits members top-down until every node is a cohesive leaf of
// MinSize..MaxSize members. It returns the leaves and the leftovers: members
// of nodes that ended too small and members too far from their leaf's
// centroid.
func (g *grouper) build(ctx context.Context, members []int) ([]leaf, []int, error) {
	var leaves []leaf
	var rest []int
	stack := [][]int{members}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		node := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		children, err := g.children(ctx, node)
		if err != nil {
			return nil, nil, err
		}
		if children == nil {
			var l leaf
			l, children, rest = g.settle(node, rest)
			if l.members != nil {
				leaves = append(leaves, l)
			}
		}
		// Push in reverse so that children are processed in order.
		for i := len(children) - 1; i >= 0; i-- {
			stack = append(stack, children[i])
		}
	}
	return leaves, rest, nil
}

// settle finishes a node that needs no split. A node of fewer than MinSize
// members goes to rest; otherwise its strays are pruned to rest and it is a
// leaf, unless something was pruned: then what remains is returned to be
// examined again, as without its strays it may turn out to be two groups.
func (g *grouper) settle(node, rest []int) (leaf, [][]int, []int) {
	if len(node) < g.opt.MinSize {
		return leaf{}, nil, append(rest, node...)
	}
	l, pruned := g.prune(node)
	rest = append(rest, pruned...)
	if l.members != nil && len(pruned) > 0 {
		return leaf{}, [][]int{l.members}, rest
	}
	return l, nil, rest
}

// children decides whether node must be split and returns its parts, or nil
// when node is final (a leaf, or too small to be one).
func (g *grouper) children(ctx context.Context, node []int) ([][]int, error) {
	n := len(node)
	switch {
	case n < g.opt.MinSize || n < 2:
		return nil, nil
	case n > g.opt.MaxSize:
		k := min(max(2, ceilDiv(n, g.opt.MaxSize)), maxBranch)
		return g.split(ctx, node, k)
	}
	_, cohesion := centroid(g.m, node)
	if n >= 2*g.opt.MinSize && cohesion < float64(g.opt.Threshold) {
		return g.split(ctx, node, 2)
	}
	// A node can be cohesive on average and still be two topics side by side:
	// split it when its two halves are less similar than Threshold.
	parts, err := g.split(ctx, node, 2)
	if err != nil || len(parts) != 2 {
		return nil, err
	}
	a, _ := centroid(g.m, parts[0])
	b, _ := centroid(g.m, parts[1])
	if dot(a, b) < g.opt.Threshold {
		return parts, nil
	}
	return nil, nil
}

// split partitions node (at least 2 members) into at most k non-empty parts,
// always at least 2, with spherical k-means. Should k-means put everything in
// one part (identical vectors), node is cut by a random projection instead, so
// that recursion always terminates.
func (g *grouper) split(ctx context.Context, node []int, k int) ([][]int, error) {
	k = min(k, len(node))
	var parts [][]int
	var err error
	if k == 2 {
		parts, err = g.bisect(ctx, node)
	} else {
		parts, err = g.kmeans(ctx, node, forgy(g.m, node, k, g.rng))
	}
	if err != nil {
		return nil, err
	}
	if len(parts) < 2 {
		return g.splitByProjection(node, k), nil
	}
	return parts, nil
}

// bisect runs 2-means from two seedings and keeps the tighter result (the
// larger sum over parts of the length of their vector sum). Both seedings are
// deterministic: the two most dissimilar members, which separates two groups
// of any sizes, and the centroid against its least similar member, which
// peels off stray members without cutting the main group in two.
func (g *grouper) bisect(ctx context.Context, node []int) ([][]int, error) {
	c, _ := centroid(g.m, node)
	far := leastSimilar(g.m, node, c)
	farther := leastSimilar(g.m, node, g.m.row(far))
	seedings := [][]float32{
		slices.Concat(g.m.row(far), g.m.row(farther)),
		slices.Concat(c, g.m.row(far)),
	}
	var best [][]int
	bestScore := math.Inf(-1)
	for _, centers := range seedings {
		parts, err := g.kmeans(ctx, node, centers)
		if err != nil {
			return nil, err
		}
		if len(parts) < 2 {
			continue
		}
		var score float64
		for _, p := range parts {
			_, cohesion := centroid(g.m, p)
			score += cohesion * float64(len(p))
		}
		if score > bestScore {
			best, bestScore = parts, score
		}
	}
	return best, nil
}

// kmeans runs Lloyd's iterations from centers and returns the non-empty
// parts of node.
func (g *grouper) kmeans(ctx context.Context, node []int, centers []float32) ([][]int, error) {
	assign, err := lloyd(ctx, g.m, node, centers)
	if err != nil {
		return nil, err
	}
	parts := make([][]int, len(centers)/g.m.d)
	for i, c := range assign {
		parts[c] = append(parts[c], node[i])
	}
	return slices.DeleteFunc(parts, func(p []int) bool { return len(p) == 0 }), nil
}

// splitByProjection sorts node along a random direction (ties by index) and
// cuts it into k nearly equal runs.
func (g *grouper) splitByProjection(node []int, k int) [][]int {
	dir := make([]float32, g.m.d)
	for j := range dir {
		dir[j] = float32(g.rng.NormFloat64())
	}
	type proj struct {
		i int
		p float32
	}
	ps := make([]proj, len(node))
	for i, idx := range node {
		ps[i] = proj{idx, dot(g.m.row(idx), dir)}
	}
	slices.SortFunc(ps, func(a, b proj) int {
		return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.i, b.i))
	})
	parts := make([][]int, k)
	for i, p := range ps {
		c := i * k / len(ps)
		parts[c] = append(parts[c], p.i)
	}
	return parts
}

// prune drops from node the members whose cosine to the centroid of the
// other members is below Threshold: the test attach applies to outsiders,
// without the bias of a member pulling a small cluster's centroid towards
// itself. It returns the leaf (members nil when fewer than MinSize remain, all
// of node then being returned as pruned) and the pruned members.
func (g *grouper) prune(node []int) (leaf, []int) {
	sum := make([]float64, g.m.d)
	for _, i := range node {
		for j, x := range g.m.row(i) {
			sum[j] += float64(x)
		}
	}
	var sq float64
	for _, x := range sum {
		sq += x * x
	}
	keep := make([]int, 0, len(node))
	var pruned []int
	for _, i := range node {
		if len(node) == 1 || looCosine(g.m.row(i), sum, sq) >= float64(g.opt.Threshold) {
			keep = append(keep, i)
		} else {
			pruned = append(pruned, i)
		}
	}
	if len(keep) < g.opt.MinSize {
		return leaf{}, node
	}
	c, _ := centroid(g.m, keep)
	return leaf{members: keep, centroid: c}, pruned
}

// looCosine is the cosine of x to sum - x, where sq is |sum|^2; 0 when the
// others cancel out.
func looCosine(x []float32, sum []float64, sq float64) float64 {
	var xs, xx float64
	for j, v := range x {
		xs += float64(v) * sum[j]
		xx += float64(v) * float64(v)
	}
	others := sq - 2*xs + xx
	if others <= 1e-12 {
		return 0
	}
	return (xs - xx) / math.Sqrt(others)
}

// centroid returns the unit mean direction of the rows in members and the
// length of their mean, which is their mean cosine to that direction.
func centroid(m matrix, members []int) ([]float32, float64) {
	sum := make([]float64, m.d)
	for _, i := range members {
		for j, x := range m.row(i) {
			sum[j] += float64(x)
		}
	}
	c := make([]float32, m.d)
	length := unit(c, sum)
	if len(members) == 0 {
		return c, 0
	}
	return c, length / float64(len(members))
}

// unit writes sum / |sum| into dst (zero when sum is zero) and returns |sum|.
func unit(dst []float32, sum []float64) float64 {
	var sq float64
	for _, x := range sum {
		sq += x * x
	}
	if sq == 0 {
		clear(dst)
		return 0
	}
	length := math.Sqrt(sq)
	for j, x := range sum {
		dst[j] = float32(x / length)
	}
	return length
}

// forgy picks k distinct members (at most all of them) at random as initial
// centers. Random members, unlike k-means++ seeds, follow the density, so a
// split of a large node is balanced instead of peeling off a few outliers.
func forgy(m matrix, members []int, k int, rng *rand.Rand) []float32 {
	k = min(k, len(members))
	centers := make([]float32, 0, k*m.d)
	picked := make([]int, 0, k)
	for len(picked) < k {
		i := members[rng.IntN(len(members))]
		if slices.Contains(picked, i) {
			continue
		}
		picked = append(picked, i)
		centers = append(centers, m.row(i)...)
	}
	return centers
}

// leastSimilar returns the member with the lowest cosine to x (the lowest
// index on ties).
func leastSimilar(m matrix, members []int, x []float32) int {
	best, bestSim := members[0], float32(math.Inf(1))
	for _, i := range members {
		if s := dot(m.row(i), x); s < bestSim {
			best, bestSim = i, s
		}
	}
	return best
}

// lloyd runs spherical k-means from centers (k rows of length m.d, updated
// in place) and returns each member's center. It stops after lloydIters
// iterations or when at most one assignment in 1,000 changes.
func lloyd(ctx context.Context, m matrix, members []int, centers []float32) ([]int, error) {
	k := len(centers) / m.d
	assign := make([]int, len(members))
	sums := make([]float64, len(centers))
	tmp := make([]float32, m.d)
	for it := range lloydIters {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		changed := assignNearest(m, members, centers, assign)
		if it > 0 && changed <= len(members)/1000 {
			break
		}
		clear(sums)
		for i, idx := range members {
			s := sums[assign[i]*m.d : (assign[i]+1)*m.d]
			for j, x := range m.row(idx) {
				s[j] += float64(x)
			}
		}
		for c := range k {
			// An empty cluster keeps its center.
			s := sums[c*m.d : (c+1)*m.d]
			if unit(tmp, s) > 0 {
				copy(centers[c*m.d:], tmp)
			}
		}
	}
	return assign, nil
}

// assignNearest sets assign[i] to the center most similar to member i (the
// lowest index on ties) and returns how many assignments changed.
func assignNearest(m matrix, members []int, centers []float32, assign []int) int {
	k := len(centers) / m.d
	changed := 0
	for i, idx := range members {
		x := m.row(idx)
		best, bestSim := 0, float32(math.Inf(-1))
		for c := range k {
			if s := dot(x, centers[c*m.d:(c+1)*m.d]); s > bestSim {
				best, bestSim = c, s
			}
		}
		if assign[i] != best {
			changed++
		}
		assign[i] = best
	}
	return changed
}

// proposal offers candidate cand a place in cluster c at similarity sim.
type proposal struct {
	cand, c int
	sim     float32
}

// attach adds each candidate to the most similar cluster whose centroid is
// at least Threshold similar and which has room, the most similar
// candidate-cluster pairs first. It returns the candidates left over, sorted.
func (g *grouper) attach(ctx context.Context, clusters []leaf, cands []int, threshold float32) ([]int, error) {
	slices.Sort(cands)
	if len(clusters) == 0 || len(cands) == 0 {
		return cands, nil
	}
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
		props = idx.propose(props, cand, g.m.row(cand), threshold)
	}
	slices.SortFunc(props, func(a, b proposal) int {
		return cmp.Or(cmp.Compare(b.sim, a.sim), cmp.Compare(a.cand, b.cand), cmp.Compare(a.c, b.c))
	})
	placed := make(map[int]bool, len(props))
	for _, p := range props {
		if placed[p.cand] || len(clusters[p.c].members) >= g.opt.MaxSize {
			continue
		}
		clusters[p.c].members = append(clusters[p.c].members, p.cand)
		placed[p.cand] = true
	}
	return slices.DeleteFunc(cands, func(i int) bool { return placed[i] }), nil
}

// index finds the clusters most similar to a vector. With few clusters it
// scans them all; with many it is an inverted file: cluster centroids are
// grouped with k-means into about sqrt(clusters) lists, and only the
// probeLists lists nearest to the vector are scanned.
type index struct {
	centroids matrix  // one row per cluster
	lists     [][]int // clusters per list; one list of all for an exhaustive scan
	heads     matrix  // one row per list; empty for an exhaustive scan
}

// newIndex indexes the centroids of clusters for nCands candidates.
func (g *grouper) newIndex(ctx context.Context, clusters []leaf, nCands int) (*index, error) {
	cm := matrix{data: make([]float32, 0, len(clusters)*g.m.d), d: g.m.d}
	all := make([]int, len(clusters))
	for i, c := range clusters {
		cm.data = append(cm.data, c.centroid...)
		all[i] = i
	}
	idx := &index{centroids: cm}
	if float64(len(clusters))*float64(nCands) <= g.budget {
		idx.lists = [][]int{all}
		return idx, nil
	}
	nl := int(math.Ceil(math.Sqrt(float64(len(clusters)))))
	heads := forgy(cm, all, nl, g.rng)
	assign, err := lloyd(ctx, cm, all, heads)
	if err != nil {
		return nil, err
	}
	idx.heads = matrix{data: heads, d: g.m.d}
	idx.lists = make([][]int, len(heads)/g.m.d)
	for i, l := range assign {
		idx.lists[l] = append(idx.lists[l], i)
	}
	return idx, nil
}

// propose appends to props up to attachChoice clusters whose centroid is at
// least threshold similar to x, best first.
func (idx *index) propose(props []proposal, cand int, x []float32, threshold float32) []proposal {
	return idx.proposeN(props, cand, x, threshold, attachChoice)
}

// proposeN is propose for up to n clusters (n <= maxChoice).
func (idx *index) proposeN(props []proposal, cand int, x []float32, threshold float32, n int) []proposal {
	var buf [maxChoice]proposal
	top := buf[:n]
	found := 0
	consider := func(c int) {
		s := dot(x, idx.centroids.row(c))
		if s < threshold {
			return
		}
		found = insertTop(top, found, proposal{cand: cand, c: c, sim: s})
	}
	for _, l := range idx.probe(x) {
		for _, c := range idx.lists[l] {
			consider(c)
		}
	}
	return append(props, top[:found]...)
}

// insertTop inserts p into top[:n], kept sorted by sim descending (cluster
// ascending on ties), and returns the new length, at most len(top).
func insertTop(top []proposal, n int, p proposal) int {
	pos := n
	for pos > 0 && (top[pos-1].sim < p.sim || top[pos-1].sim == p.sim && top[pos-1].c > p.c) {
		pos--
	}
	if pos >= len(top) {
		return n
	}
	if n < len(top) {
		n++
	}
	copy(top[pos+1:n], top[pos:n-1])
	top[pos] = p
	return n
}

// probe returns the lists to scan for x.
func (idx *index) probe(x []float32) []int {
	if idx.heads.data == nil {
		return []int{0}
	}
	nl := len(idx.lists)
	type head struct {
		l   int
		sim float32
	}
	hs := make([]head, nl)
	for l := range nl {
		hs[l] = head{l, dot(x, idx.heads.row(l))}
	}
	slices.SortFunc(hs, func(a, b head) int { return cmp.Or(cmp.Compare(b.sim, a.sim), cmp.Compare(a.l, b.l)) })
	out := make([]int, 0, probeLists)
	for _, h := range hs[:min(probeLists, nl)] {
		out = append(out, h.l)
	}
	return out
}

// result orders every cluster by closeness to its centroid and the clusters
// by size, then first index.
func (g *grouper) result(clusters []leaf, outliers []int) Result {
	res := Result{Clusters: make([][]int, 0, len(clusters)), Outliers: outliers}
	for _, l := range clusters {
		res.Clusters = append(res.Clusters, g.byCentrality(l.members))
	}
	slices.SortFunc(res.Clusters, func(a, b []int) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a[0], b[0]))
	})
	slices.Sort(res.Outliers)
	if res.Outliers == nil {
		res.Outliers = []int{}
	}
	return res
}

// byCentrality sorts members by cosine to their centroid, highest first
// (lowest index on ties).
func (g *grouper) byCentrality(members []int) []int {
	c, _ := centroid(g.m, members)
	type member struct {
		i   int
		sim float32
	}
	ms := make([]member, len(members))
	for n, i := range members {
		ms[n] = member{i, dot(g.m.row(i), c)}
	}
	slices.SortFunc(ms, func(a, b member) int {
		return cmp.Or(cmp.Compare(b.sim, a.sim), cmp.Compare(a.i, b.i))
	})
	for n, m := range ms {
		members[n] = m.i
	}
	return members
}

// dot is the inner product of a and b (len(b) >= len(a)).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a4, b4 := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += a4[0] * b4[0]
		s1 += a4[1] * b4[1]
		s2 += a4[2] * b4[2]
		s3 += a4[3] * b4[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// ceilDiv is a / b rounded up, for positive a and b.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// newRNG returns the generator for seed.
func newRNG(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}
