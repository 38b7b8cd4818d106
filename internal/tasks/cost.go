package tasks

// MaxKeywordsPerClustering bounds one clustering job; a site with more
// unclustered keywords is clustered by successive jobs.
const MaxKeywordsPerClustering = 100000

// ClusterCost is the credit cost of clustering n keywords.
func ClusterCost(n, keywordsPerCredit int64) int64 {
	return (n + keywordsPerCredit - 1) / keywordsPerCredit
}
