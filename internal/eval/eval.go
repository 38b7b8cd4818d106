// Package eval measures what issue #21 asks of clustering and of the
// offline writer, for make eval: it runs Presswork's real clustering path
// with the built-in offline provider on keyword sets (labelled ones in
// testdata/eval and the shipped sample file), scores the clusters (purity,
// adjusted Rand index, coverage, clusters held together only by a query
// modifier) and checks what the offline writer makes of them (ideas, titles,
// SEO fields, names and descriptions). No network and no database: the
// stages are called the way the worker calls them, from memory.
package eval

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/cluster"
	"github.com/presswork/presswork/internal/kwimport"
)

// LabelColumn is the column of a labelled set that holds a keyword's true
// topic; the other columns are those of a keyword import.
const LabelColumn = "topic"

// SiteName is the site the sets are clustered for (the demo's).
const SiteName = "Demo Outdoor & Kitchen Blog"

// Keyword is one keyword of a set, as imported, and its true topic ("" in
// an unlabelled set).
type Keyword struct {
	Phrase     string
	Volume     *int32
	Difficulty *int16
	Intent     string
	Label      string
}

// Set is a keyword file, in file order without repeated phrases, as the
// store holds an import.
type Set struct {
	Name     string
	Keywords []Keyword
	Labelled bool
}

// LoadSet reads a keyword file: a keyword import (CSV) with, for a
// labelled set, a LabelColumn column. Rows go through kwimport.ParseCSV as
// an import does (the label column taken out first); an invalid row, or a
// labelled row without a label, is an error.
func LoadSet(name, path string) (Set, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Set{}, err
	}
	records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(records) == 0 {
		return Set{}, fmt.Errorf("%s: not a CSV with a header: %v", path, err)
	}
	col := slices.Index(records[0], LabelColumn)
	labels := map[string]string{}
	if col >= 0 {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		for i, r := range records {
			if i > 0 {
				labels[kwimport.Normalize(r[0])] = strings.TrimSpace(r[col])
			}
			if err := w.Write(slices.Delete(slices.Clone(r), col, col+1)); err != nil {
				return Set{}, err
			}
		}
		w.Flush()
		raw = buf.Bytes()
	}
	parsed, err := kwimport.ParseCSV(bytes.NewReader(raw), kwimport.MaxRows)
	if err != nil {
		return Set{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(parsed.Invalid) > 0 {
		return Set{}, fmt.Errorf("%s: row %d: %s: %s", path, parsed.Invalid[0].Row, parsed.Invalid[0].Field, parsed.Invalid[0].Problem)
	}
	set := Set{Name: name, Labelled: col >= 0, Keywords: make([]Keyword, len(parsed.Rows))}
	for i, r := range parsed.Rows {
		set.Keywords[i] = Keyword{Phrase: r.Phrase, Volume: r.Volume, Difficulty: r.Difficulty, Intent: r.Intent,
			Label: labels[r.Norm]}
		if set.Labelled && set.Keywords[i].Label == "" {
			return Set{}, fmt.Errorf("%s: %q has no %s", path, r.Phrase, LabelColumn)
		}
	}
	return set, nil
}

// Cluster is one named cluster of a run: its keywords' indexes in the set,
// most central first, as the worker stores them.
type Cluster struct {
	Name        string
	Description string
	NameSource  string // "model", or "fallback" when the writer's answers were unusable
	Members     []int
}

// Clustering is a run's clusters and the indexes of its outliers.
type Clustering struct {
	Set      Set
	Clusters []Cluster
	Outliers []int
}

// Assignment returns each keyword's cluster number, Unclustered for an
// outlier.
func (c Clustering) Assignment() []int {
	a := make([]int, len(c.Set.Keywords))
	for i := range a {
		a[i] = Unclustered
	}
	for n, cl := range c.Clusters {
		for _, i := range cl.Members {
			a[i] = n
		}
	}
	return a
}

// Phrases returns the phrases of a cluster's members, most central first.
func (c Clustering) Phrases(cl Cluster) []string {
	out := make([]string, len(cl.Members))
	for j, i := range cl.Members {
		out[j] = c.Set.Keywords[i].Phrase
	}
	return out
}

// embedChunk and nameKeywords are the worker's (internal/worker/cluster.go):
// texts per embeddings call, and the keywords the namer sees.
const (
	embedChunk   = 500
	nameKeywords = 10
)

// Run clusters set as a keywords:cluster job of the worker does
// (worker.Clusterer: embed every phrase and the sides of every comparison,
// cluster.GroupComparing with the options of the site's strictness,
// "balanced" unless RunStrict says otherwise, name each group from its ten
// most central keywords and its size, a group whose names stay unusable
// named after its most central keyword, then each name made unique on the
// site, here a new one), with
// the offline embedder and writer.
func Run(ctx context.Context, set Set) (Clustering, error) {
	return RunStrict(ctx, set, string(cluster.Balanced))
}

// RunStrict is Run for a site whose clustering strictness is strictness
// (store.Site.Clustering).
func RunStrict(ctx context.Context, set Set, strictness string) (Clustering, error) {
	phrases := make([]string, len(set.Keywords))
	for i, k := range set.Keywords {
		phrases[i] = k.Phrase
	}
	embedder := offline.NewEmbedder(0)
	sides, at := cluster.ComparisonTexts(phrases)
	var vectors [][]float32
	for chunk := range slices.Chunk(slices.Concat(phrases, sides), embedChunk) {
		got, _, err := embedder.Embed(ctx, chunk)
		if err != nil {
			return Clustering{}, fmt.Errorf("embed: %w", err)
		}
		vectors = append(vectors, got...)
	}
	opt, err := cluster.Strictness(strictness).Options()
	if err != nil {
		return Clustering{}, err
	}
	res, err := cluster.GroupComparing(ctx, vectors[:len(phrases)], phrases, cluster.Comparisons(at, vectors[len(phrases):]), opt)
	if err != nil {
		return Clustering{}, err
	}
	writer, err := ai.NewWriter(offline.NewTextModel())
	if err != nil {
		return Clustering{}, err
	}
	out := Clustering{Set: set, Outliers: res.Outliers}
	for _, members := range res.Clusters {
		infos := make([]ai.KeywordInfo, 0, nameKeywords)
		for _, i := range members[:min(nameKeywords, len(members))] {
			infos = append(infos, set.Keywords[i].info())
		}
		c := Cluster{Members: members, NameSource: "model"}
		name, _, err := writer.NameCluster(ctx, ai.ClusterNameInput{SiteName: SiteName, Keywords: infos,
			KeywordCount: len(members)})
		switch {
		case errors.Is(err, ai.ErrUnusableAnswer):
			c.Name, c.Description, c.NameSource = fallbackName(phrases[members[0]]), "", "fallback"
		case err != nil:
			return Clustering{}, fmt.Errorf("name cluster: %w", err)
		default:
			c.Name, c.Description = name.Name, name.Description
		}
		out.Clusters = append(out.Clusters, c)
	}
	taken := map[string]bool{}
	for i, c := range out.Clusters {
		out.Clusters[i].Name = ai.UniqueName(c.Name, out.Phrases(c), taken)
		taken[ai.NameKey(out.Clusters[i].Name)] = true
	}
	return out, nil
}

func (k Keyword) info() ai.KeywordInfo {
	return ai.KeywordInfo{Phrase: k.Phrase, Volume: k.Volume, Difficulty: k.Difficulty, Intent: k.Intent}
}

// fallbackName is the worker's name for a cluster the model could not
// name: its most central keyword in title case.
func fallbackName(phrase string) string {
	phrase = strings.Join(strings.Fields(phrase), " ")
	return ai.TitleName(phrase, []string{phrase})
}
