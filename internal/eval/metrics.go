package eval

// Unclustered is the assignment of a keyword that belongs to no cluster.
const Unclustered = -1

// Scores are the clustering metrics of one labelled set.
type Scores struct {
	Keywords  int // keywords in the set
	Clustered int // keywords placed in a cluster
	Clusters  int
	// Purity is, over clustered keywords, the share that carry their
	// cluster's most common true label. 0 when nothing is clustered.
	Purity float64
	// ARI is the adjusted Rand index of the clustered keywords only:
	// unclustered keywords are left out of both partitions, so it measures
	// the precision of what was grouped and says nothing of coverage.
	ARI float64
	// ARISingletons is the adjusted Rand index over every keyword, each
	// unclustered keyword counted as a cluster of its own (so leaving a
	// keyword out costs what putting it alone costs).
	ARISingletons float64
}

// Coverage is the share of keywords placed in a cluster.
func (s Scores) Coverage() float64 {
	if s.Keywords == 0 {
		return 0
	}
	return float64(s.Clustered) / float64(s.Keywords)
}

// Score compares assignment (a cluster number per keyword, Unclustered for
// none) with the true labels (same length).
func Score(labels []string, assignment []int) Scores {
	s := Scores{Keywords: len(labels)}
	var inLabels []string
	var inClusters []int
	singletons := make([]int, len(assignment))
	next := 0
	for _, c := range assignment {
		next = max(next, c+1)
	}
	seen := map[int]bool{}
	for i, c := range assignment {
		singletons[i] = c
		if c == Unclustered {
			singletons[i] = next
			next++
			continue
		}
		if !seen[c] {
			seen[c] = true
			s.Clusters++
		}
		inLabels = append(inLabels, labels[i])
		inClusters = append(inClusters, c)
	}
	s.Clustered = len(inClusters)
	s.Purity = Purity(inLabels, inClusters)
	s.ARI = AdjustedRand(inLabels, inClusters)
	s.ARISingletons = AdjustedRand(labels, singletons)
	return s
}

// Purity is the share of items whose label is the most common label of
// their cluster; 0 for no items.
func Purity(labels []string, clusters []int) float64 {
	if len(labels) == 0 {
		return 0
	}
	counts := map[int]map[string]int{}
	for i, c := range clusters {
		if counts[c] == nil {
			counts[c] = map[string]int{}
		}
		counts[c][labels[i]]++
	}
	var hits int
	for _, byLabel := range counts {
		best := 0
		for _, n := range byLabel {
			best = max(best, n)
		}
		hits += best
	}
	return float64(hits) / float64(len(labels))
}

// AdjustedRand is the adjusted Rand index (Hubert and Arabie, 1985) of the
// partition clusters against the partition labels: 1 for identical
// partitions, about 0 for chance agreement, negative below chance. When
// both partitions are trivial in the same way (all in one group, or all
// apart, or fewer than two items) the index is undefined and 1 is returned,
// as scikit-learn does.
func AdjustedRand(labels []string, clusters []int) float64 {
	n := len(labels)
	type cell struct {
		l string
		c int
	}
	cells := map[cell]int{}
	rows := map[string]int{}
	cols := map[int]int{}
	for i := range labels {
		cells[cell{labels[i], clusters[i]}]++
		rows[labels[i]]++
		cols[clusters[i]]++
	}
	var index, sumRows, sumCols float64
	for _, v := range cells {
		index += pairs(v)
	}
	for _, v := range rows {
		sumRows += pairs(v)
	}
	for _, v := range cols {
		sumCols += pairs(v)
	}
	total := pairs(n)
	if total == 0 {
		return 1
	}
	expected := sumRows * sumCols / total
	maximum := (sumRows + sumCols) / 2
	if maximum == expected {
		return 1
	}
	return (index - expected) / (maximum - expected)
}

// pairs is n choose 2.
func pairs(n int) float64 { return float64(n) * float64(n-1) / 2 }
