package eval

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Targets of issue #21.
const (
	TargetPurity   = 0.95
	TargetARI      = 0.85
	TargetCoverage = 0.9
)

// SectionHeading is the heading of make eval's section of
// docs/benchmarks.md, which each run replaces.
const SectionHeading = "## make eval (#21)"

// Result is what one set scored.
type Result struct {
	Clustering
	Scores Scores // purity and ARI are meaningful only for a labelled set
	Held   []HeldCluster
	Writer WriterReport
}

// HeldCluster is a cluster held together only by a modifier.
type HeldCluster struct {
	Name     string
	Modifier string
	Keywords []string
}

// Evaluate clusters set, scores the clusters and checks the writer's
// output for them.
func Evaluate(ctx context.Context, set Set) (Result, error) {
	c, err := Run(ctx, set)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", set.Name, err)
	}
	r := Result{Clustering: c}
	labels := make([]string, len(set.Keywords))
	for i, k := range set.Keywords {
		labels[i] = k.Label
	}
	r.Scores = Score(labels, c.Assignment())
	for _, cl := range c.Clusters {
		phrases := c.Phrases(cl)
		if held, term := ModifierHeld(phrases); held {
			r.Held = append(r.Held, HeldCluster{Name: cl.Name, Modifier: term, Keywords: phrases})
		}
	}
	if r.Writer, err = CheckWriter(ctx, c); err != nil {
		return Result{}, fmt.Errorf("%s: %w", set.Name, err)
	}
	return r, nil
}

// Table renders the results as make eval's two tables, with the targets
// beside them.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| set | keywords | purity | ARI (clustered) | ARI (outliers as singletons) | coverage | clusters | modifier-held |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		s := r.Scores
		purity, ari, ariAll := "n/a (unlabelled)", "n/a", "n/a"
		if r.Set.Labelled {
			purity, ari, ariAll = f3(s.Purity), f3(s.ARI), f3(s.ARISingletons)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s (%d of %d) | %d | %d |\n", r.Set.Name, s.Keywords, purity, ari,
			ariAll, f3(s.Coverage()), s.Clustered, s.Keywords, s.Clusters, len(r.Held))
	}
	fmt.Fprintf(&b, "| **target (#21)** | | >= %.2f | >= %.2f | | >= %.1f | | 0 on the sample |\n",
		TargetPurity, TargetARI, TargetCoverage)
	b.WriteString("\n| set | clusters | ideas | drafts |")
	for _, f := range FaultNames {
		b.WriteString(" " + f + " |")
	}
	b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", len(FaultNames)) + "\n")
	for _, r := range results {
		w := r.Writer
		fmt.Fprintf(&b, "| %s | %d | %d | %d |", r.Set.Name, w.Clusters, w.Ideas, w.Drafts)
		for _, f := range FaultNames {
			fmt.Fprintf(&b, " %d |", w.Faults[f])
		}
		b.WriteString("\n")
	}
	b.WriteString("| **target (#21)** | | | |" + strings.Repeat(" 0 |", len(FaultNames)) + "\n")
	return b.String()
}

// Details lists each set's modifier-held clusters with their keywords and
// a few examples of each writer fault.
func Details(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "\n#### %s\n\n", r.Set.Name)
		if len(r.Held) == 0 {
			b.WriteString("No cluster held together only by a modifier.\n")
		}
		for _, h := range r.Held {
			fmt.Fprintf(&b, "- modifier-held by %q: **%s** (%d): %s\n", h.Modifier, h.Name, len(h.Keywords),
				strings.Join(h.Keywords, "; "))
		}
		for _, f := range FaultNames {
			ex := r.Writer.Examples[f]
			if len(ex) == 0 {
				continue
			}
			fmt.Fprintf(&b, "- %s (%d), e.g.: %s\n", f, r.Writer.Faults[f], strings.Join(ex[:min(3, len(ex))], "; "))
		}
	}
	return b.String()
}

// Section is make eval's section of docs/benchmarks.md.
func Section(results []Result, when string) string {
	var b strings.Builder
	b.WriteString(SectionHeading + "\n\n")
	fmt.Fprintf(&b, "Latest `make eval` run: %s. The clustering of each set is the worker's keywords:cluster path "+
		"(offline embedder, `cluster.GroupComparing` over the vectors and the phrases, so with its lexical pass, with the options of the default `balanced` site strictness, offline namer); the writer checks ask %d ideas of "+
		"every cluster and a draft of every idea, as the ideas and draft stages do (internal/eval; the sets and how "+
		"they were labelled: testdata/eval/README.md). Purity and ARI are over clustered keywords; the second ARI "+
		"counts each unclustered keyword as a cluster of its own. A cluster is modifier-held when a query modifier "+
		"occurs in at least half its keywords and no head term does (internal/eval/modifier.go).\n\n",
		when, IdeasPerCluster)
	b.WriteString(Table(results))
	b.WriteString("\n### Modifier-held clusters and writer faults (examples)\n")
	b.WriteString(Details(results))
	return b.String()
}

// WriteSection replaces the SectionHeading section of the Markdown file
// at path (up to the next level-2 heading) with section, or appends it
// when there is none; the rest of the file stays as it is.
func WriteSection(path, section string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	lines := strings.SplitAfter(string(raw), "\n")
	start, end := -1, len(lines)
	for i, l := range lines {
		switch {
		case strings.TrimRight(l, "\r\n") == SectionHeading:
			start = i
		case start >= 0 && i > start && strings.HasPrefix(l, "## "):
			end = i
		}
		if start >= 0 && end < len(lines) {
			break
		}
	}
	section = strings.TrimRight(section, "\n") + "\n"
	var out string
	if start < 0 {
		out = strings.TrimRight(string(raw), "\n")
		if out != "" {
			out += "\n\n"
		}
		out += section
	} else {
		tail := strings.Join(lines[end:], "")
		if tail != "" {
			section += "\n"
		}
		out = strings.Join(lines[:start], "") + section + tail
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func f3(x float64) string { return fmt.Sprintf("%.3f", x) }
