package eval

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTerms(t *testing.T) {
	cases := []struct {
		keyword     string
		heads, mods []string
	}{
		{"best cordless drill 2024", []string{"cordless", "drill"}, []string{"best", "<year>"}},
		{"how to stop a dog from pulling on the leash", []string{"stop", "dog", "pulling", "leash"}, []string{"how to"}},
		{"cheap air fryer under 50", []string{"air", "fryer"}, []string{"cheap", "<price>"}},
		{"DeWalt vs Makita cordless drills near me", []string{"dewalt", "makita", "cordless", "drill"}, []string{"vs", "near me"}},
		{"de'longhi dedica review", []string{"de'longhi", "dedica"}, []string{"review"}},
		{"16 week marathon training plan for beginners", []string{"week", "marathon", "training", "plan"}, []string{"for beginners"}},
		{"is the japan rail pass worth it", []string{"japan", "rail", "pass"}, []string{"is", "worth it"}},
	}
	for _, c := range cases {
		heads, mods := Terms(c.keyword)
		if diff := cmp.Diff(c.heads, heads); diff != "" {
			t.Errorf("Terms(%q) heads (-want +got):\n%s", c.keyword, diff)
		}
		if diff := cmp.Diff(c.mods, mods); diff != "" {
			t.Errorf("Terms(%q) modifiers (-want +got):\n%s", c.keyword, diff)
		}
	}
}

func TestModifierHeld(t *testing.T) {
	cases := []struct {
		name     string
		keywords []string
		held     bool
		term     string
	}{
		{"how to across topics", []string{"how to sharpen a chisel", "how to potty train a puppy",
			"how to propagate pothos in water", "snake plant root rot how to fix"}, true, "how to"},
		{"comparisons across topics", []string{"pasmo vs suica", "cortado vs flat white", "dewalt vs makita cordless"},
			true, "vs"},
		{"one topic with modifiers", []string{"best trail running shoes", "trail running shoes for beginners",
			"how to lace trail running shoes", "trail running shoes vs hiking boots"}, false, ""},
		// A head term in half the keywords is enough to hold a cluster.
		{"head term in half", []string{"pothos care review", "pothos cuttings review", "chisel review", "tent review"},
			false, ""},
		// Impure, but no modifier holds it either: purity and ARI see it, not this check.
		{"nothing shared", []string{"pothos care", "chisel sharpening", "japan rail pass"}, false, ""},
		{"one keyword", []string{"how to sharpen a chisel"}, false, ""},
	}
	for _, c := range cases {
		held, term := ModifierHeld(c.keywords)
		if held != c.held || term != c.term {
			t.Errorf("%s: ModifierHeld = %v, %q; want %v, %q", c.name, held, term, c.held, c.term)
		}
	}
}
