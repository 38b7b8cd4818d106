package eval

import (
	"strings"
	"testing"
)

func TestBrokenTitle(t *testing.T) {
	broken := []string{
		"The Real Benefits of Is the Japan Rail Pass Worth It", // the issue's
		"Bloomscape Review Review",
		"Best Espresso Machines: The Best Picks",
		"How Much Does a Trip to Japan Cost Review", // the issue's
		"Air Fryer with Window vs Are Air Fryers Healthy: Which Is Right for You?",
		"6 Practical How Often to Water Pothos Tips That Actually Work",
		"Everything You Need to Know About Fungus Gnats in Houseplants How to Get Rid of",
		"The Complete Guide to Sourdough Starter for",
	}
	for _, title := range broken {
		if BrokenTitle(title) == "" {
			t.Errorf("BrokenTitle(%q) found nothing wrong", title)
		}
	}
	fine := []string{
		"3 Common Dog Training Mistakes and How to Avoid Them",
		"Free Things to Do in Tokyo: A Practical Guide",
		"Cortado vs Flat White: Which Is Right for You?",
		"Everything You Need to Know About How Often to Water Pothos",
		"How to Potty Train a Puppy: A Step-by-Step Guide",
		"Sourdough Starter Ratio 1:1:1 Explained",
		"Hoka Speedgoat 5 Review: Pros, Cons and Verdict",
		"What Most People Get Wrong About Asana Alternatives",
	}
	for _, title := range fine {
		if why := BrokenTitle(title); why != "" {
			t.Errorf("BrokenTitle(%q) = %q, want nothing wrong", title, why)
		}
	}
}

func TestCutField(t *testing.T) {
	const title = "How to Make Sourdough Starter from Scratch, Even If You Are a Beginner"
	cases := []struct {
		field, whole string
		limit        int
		bad          bool
	}{
		{"How to Make Sourdough Starter from Scratch, Even If You Are", title, 60, true}, // the issue's
		{"How to Make Sourdough Starter from Scratch", title, 60, false},
		{"How to Make Sourdough Starter from Scra", title, 60, true},
		{title, title, 60, true}, // over 60
		{"Cortado vs Flat White: Which Is Right for You?", "Cortado vs Flat White: Which Is Right for You?", 60, false},
		{"Learn about sourdough starters: what matters and what to avoid.", "", 160, false},
		{"Learn about sourdough starters: what matters and what to…", "", 160, true},
		{"Learn about sourdough starters and how to feed them with", "", 160, true},
		{"How Many Hives Should a Beginner Start with?", "How Many Hives Should a Beginner Start with? 6 Common Mistakes to Avoid", 60, false},
		{"Cortado vs.", "Cortado vs. Flat White for Beginners and Everyone Else Who Drinks Coffee Daily", 60, true},
	}
	for _, c := range cases {
		if why := CutField(c.field, c.whole, c.limit); (why != "") != c.bad {
			t.Errorf("CutField(%q) = %q, want a fault: %v", c.field, why, c.bad)
		}
	}
}

func TestCheckNames(t *testing.T) {
	set := Set{Name: "t", Keywords: make([]Keyword, 6)}
	c := Clustering{Set: set, Clusters: []Cluster{
		{Name: "Trail Running Shoes", Description: "Shoes (3 keywords in total).", Members: []int{0, 1, 2}},
		{Name: "trail running shoes", Description: "More shoes; 10 keywords in this cluster.", Members: []int{3, 4}},
		{Name: "Ev Charging at Home", Description: "Chargers.", Members: []int{5}},
		{Name: "WordPress Hosting", Description: "Hosts (1 keyword).", Members: []int{5}},
	}}
	r := WriterReport{Faults: map[string]int{}, Examples: map[string][]string{}}
	checkNames(&r, c)
	want := map[string]int{FaultDuplicateName: 1, FaultFalseCount: 1, FaultCasing: 1}
	for _, f := range FaultNames {
		if r.Faults[f] != want[f] {
			t.Errorf("%s: %d, want %d (examples %q)", f, r.Faults[f], want[f], r.Examples[f])
		}
	}
	if ex := strings.Join(r.Examples[FaultCasing], ""); !strings.Contains(ex, `"EV"`) {
		t.Errorf("casing example %q does not name EV", ex)
	}
}
