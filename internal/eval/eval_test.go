package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Environment of make eval.
const (
	evalEnv    = "PRESSWORK_EVAL"     // "1": every set, in full
	evalOutEnv = "PRESSWORK_EVAL_OUT" // the Markdown file whose section the run replaces
)

// sets are the keyword files make eval scores, by name.
var sets = [][2]string{
	{"everyday (labelled)", "../../testdata/eval/everyday.csv"},
	{"brands (labelled)", "../../testdata/eval/brands.csv"},
	{"holdout (labelled, not tuned on)", "../../testdata/eval/holdout.csv"},
	{"sample (testdata/sample-keywords.csv)", "../../testdata/sample-keywords.csv"},
}

// TestEval is make eval (PRESSWORK_EVAL=1): it scores every set and
// prints, and with PRESSWORK_EVAL_OUT writes, the table. Without it, as
// part of go test, it runs the same harness on a slice of each set (the
// first 60 keywords of the sample, four topics of each labelled set) so
// that it cannot rot.
func TestEval(t *testing.T) {
	full := os.Getenv(evalEnv) == "1"
	ctx := context.Background()
	var results []Result
	for _, s := range sets {
		set, err := LoadSet(s[0], s[1])
		if err != nil {
			t.Fatal(err)
		}
		if !full {
			set = slice(set)
		}
		r, err := Evaluate(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, r)
		results = append(results, r)
	}
	table := Table(results)
	for _, s := range sets {
		if !strings.Contains(table, "| "+s[0]+" |") {
			t.Errorf("the table has no row for %s:\n%s", s[0], table)
		}
	}
	section := Section(results, time.Now().UTC().Format("2006-01-02 15:04Z"))
	if !full {
		t.Log("\n" + section)
		return
	}
	fmt.Print(section) // unindented, for make eval's reader
	if out := os.Getenv(evalOutEnv); out != "" {
		if err := WriteSection(out, section); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the %q section of %s", SectionHeading, out)
	}
}

// slice keeps the first 60 keywords of an unlabelled set, and the
// keywords of the first four topics of a labelled one.
func slice(set Set) Set {
	if !set.Labelled {
		set.Keywords = set.Keywords[:min(60, len(set.Keywords))]
		return set
	}
	var topics []string
	set.Keywords = slices.DeleteFunc(slices.Clone(set.Keywords), func(k Keyword) bool {
		if !slices.Contains(topics, k.Label) && len(topics) < 4 {
			topics = append(topics, k.Label)
		}
		return !slices.Contains(topics, k.Label)
	})
	return set
}

// checkResult checks what holds of any run: every keyword is in exactly
// one cluster or an outlier, the scores are in range, and every cluster
// got its ideas and every idea its draft.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	n := len(r.Set.Keywords)
	seen := make([]int, n)
	for _, cl := range r.Clusters {
		if cl.Name == "" {
			t.Errorf("%s: a cluster has no name", r.Set.Name)
		}
		for _, i := range cl.Members {
			seen[i]++
		}
	}
	for _, i := range r.Outliers {
		seen[i]++
	}
	for i, k := range seen {
		if k != 1 {
			t.Errorf("%s: %q is placed %d times", r.Set.Name, r.Set.Keywords[i].Phrase, k)
		}
	}
	s := r.Scores
	if s.Keywords != n || s.Clusters != len(r.Clusters) || s.Clustered != n-len(r.Outliers) {
		t.Errorf("%s: scores %+v do not count %d keywords, %d clusters, %d outliers", r.Set.Name, s, n,
			len(r.Clusters), len(r.Outliers))
	}
	for _, x := range []float64{s.Purity, s.Coverage()} {
		if x < 0 || x > 1 {
			t.Errorf("%s: a score out of [0, 1] in %+v", r.Set.Name, s)
		}
	}
	w := r.Writer
	if w.Faults[FaultFailed] == 0 && (w.Ideas != IdeasPerCluster*len(r.Clusters) || w.Drafts != w.Ideas) {
		t.Errorf("%s: %d ideas and %d drafts for %d clusters", r.Set.Name, w.Ideas, w.Drafts, len(r.Clusters))
	}
}

func TestWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	head := "# Benchmarks\n\n| a | b |\n\n## Other benchmarks of the same run\n\nx\n"
	if err := os.WriteFile(path, []byte(head), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(section, want string) {
		t.Helper()
		if err := WriteSection(path, section); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("file:\n%s\nwant:\n%s", got, want)
		}
	}
	write(SectionHeading+"\n\nfirst\n", head+"\n"+SectionHeading+"\n\nfirst\n")
	write(SectionHeading+"\n\nsecond\n", head+"\n"+SectionHeading+"\n\nsecond\n")

	// A section followed by another keeps it.
	mid := "# B\n\n" + SectionHeading + "\n\nold\n\n## make eval (#21), before\n\nkept\n"
	if err := os.WriteFile(path, []byte(mid), 0o644); err != nil {
		t.Fatal(err)
	}
	write(SectionHeading+"\n\nnew\n", "# B\n\n"+SectionHeading+"\n\nnew\n\n## make eval (#21), before\n\nkept\n")
}

// TestMirrorsWorker fails when the worker's stages stop calling what Run
// and CheckWriter copy (they cannot call the stages themselves, which need
// the store): change the eval with them, so that make eval keeps measuring
// what a job does.
func TestMirrorsWorker(t *testing.T) {
	calls := map[string][]string{
		"../worker/cluster.go": {
			// On a site without clusters (the eval's case) no keyword joins an
			// existing one, so rest holds them all and this is the eval's call.
			"cluster.GroupComparing(ctx, pick(kv, rest), pick(phrases, rest), restComparisons(cluster.Comparisons(at, vectors[len(phrases):]), rest), opt)",
			"slices.Concat(phrases, sides)",
			"cluster.Strictness(site.Clustering)",
			fmt.Sprintf("keywordInfos(members, %d), KeywordCount: len(members)}", nameKeywords),
			"ai.TitleName(phrase, []string{phrase})",
			"out[i].Name = ai.UniqueName(out[i].Name, phrases, taken)",
			"taken, err := c.siteClusterNames(",
		},
		"../worker/embed.go":  {fmt.Sprintf("embedChunk = %d", embedChunk)},
		"../worker/ideas.go":  {fmt.Sprintf("keywords[:min(len(keywords), %d)]", ideaKeywords)},
		"../store/content.go": {"ORDER BY volume DESC NULLS LAST, id"},
	}
	for path, wants := range calls {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(string(src), want) {
				t.Errorf("%s no longer has %q: update internal/eval to do what the worker does", path, want)
			}
		}
	}
}
