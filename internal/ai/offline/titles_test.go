package offline

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
)

// shapeKeywords are keywords of every shape the title templates meet.
var shapeKeywords = []struct {
	keyword string
	shape   int
}{
	{"trail running shoes", shapeNoun},
	{"best tomato varieties for beginners", shapeNoun},
	{"hoka speedgoat 5 review", shapeNoun},
	{"keto flu symptoms how long", shapeNoun}, // the trailing question cannot lead
	{"how to fix espresso channeling", shapeHowTo},
	{"espresso channeling how to fix", shapeHowTo},
	{"fungus gnats in houseplants how to get rid of", shapeHowTo},
	{"how do i descale a breville", shapeHowTo},
	{"are air fryers healthy", shapeQuestion},
	{"is the japan rail pass worth it", shapeQuestion},
	{"how much house can i afford", shapeQuestion},
	{"how often to water pothos", shapeQuestion},
	{"what is a roth ira", shapeQuestion},
	{"why is my sourdough dense", shapeQuestion},
	{"do i need a permit for a shed", shapeQuestion},
	{"cortado vs flat white", shapeVersus},
	{"dewalt vs makita cordless drill", shapeVersus},
}

func TestShapeOf(t *testing.T) {
	for _, c := range shapeKeywords {
		if got := shapeOf(c.keyword); got != c.shape {
			t.Errorf("shapeOf(%q) = %d, want %d", c.keyword, got, c.shape)
		}
	}
}

func TestRephrase(t *testing.T) {
	cases := map[string]string{
		"espresso channeling how to fix":                "how to fix espresso channeling",
		"fungus gnats in houseplants how to get rid of": "how to get rid of fungus gnats in houseplants",
		"keto flu symptoms how long":                    "keto flu symptoms",
		"how to fix espresso channeling":                "how to fix espresso channeling",
		"trail running shoes":                           "trail running shoes",
		"things to do when it rains":                    "things to do when it rains",
		"learn how to knit":                             "learn how to knit",
		"guitar tips and how to practice":               "guitar tips and how to practice",
		"shoes for people who overpronate":              "shoes for people who overpronate",
	}
	for in, want := range cases {
		if got := rephrase(in); got != want {
			t.Errorf("rephrase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuestionTitle(t *testing.T) {
	cases := map[string]string{
		"are air fryers healthy":          "Are Air Fryers Healthy?",
		"how much house can i afford":     "How Much House Can I Afford?",
		"how often to water pothos":       "How Often to Water Pothos",
		"is the japan rail pass worth it": "Is the Japan Rail Pass Worth It?",
		"is a 3d printer worth it":        "Is a 3D Printer Worth It?",
	}
	for in, want := range cases {
		if got := questionTitle(in); got != want {
			t.Errorf("questionTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTitlePlansKeywordShapes checks every title template of every content
// type with keywords of every shape: a question heads its titles whole, a
// comparison outside the comparison type too, and no title repeats a word
// of its keyword or ends on a dangling word.
func TestTitlePlansKeywordShapes(t *testing.T) {
	for _, ctype := range ai.ContentTypes {
		for _, c := range shapeKeywords {
			plans := titlePlans(ctype, c.keyword, "hiking boots", 5)
			if len(plans) == 0 {
				t.Errorf("%s %q: no titles", ctype, c.keyword)
			}
			for _, p := range plans {
				title := p.title
				if n := runeLen(title); n < 10 || n > 120 {
					t.Errorf("%s %q: %q is %d runes long", ctype, c.keyword, title, n)
				}
				if c.shape == shapeQuestion && !strings.HasPrefix(title, questionTitle(c.keyword)) {
					t.Errorf("%s %q: %q does not start with the question", ctype, c.keyword, title)
				}
				if c.shape == shapeVersus && !strings.Contains(title, " vs ") && !strings.Contains(title, " or ") {
					t.Errorf("%s %q: %q does not compare", ctype, c.keyword, title)
				}
				if repeatsWord(title) && !repeatsWord(c.keyword) {
					t.Errorf("%s %q: %q repeats a word", ctype, c.keyword, title)
				}
				if trimDangling(title) != strings.TrimRight(title, "?!.") && !strings.HasSuffix(title, "?") {
					t.Errorf("%s %q: %q ends on a dangling word", ctype, c.keyword, title)
				}
			}
		}
	}
}

func TestMetaTitle(t *testing.T) {
	cases := map[string]string{
		"How to Make Sourdough Starter from Scratch, Even If You Are a Beginner": "How to Make Sourdough Starter from Scratch",
		"Camping for Beginners Checklist Review: Pros, Cons and Verdict":         "Camping for Beginners Checklist Review",
		"How Much House Can I Afford? 5 Common Mistakes to Avoid":                "How Much House Can I Afford? 5 Common Mistakes to Avoid",
		"How Long Does Compost Take to Break Down? Comparing the Main Options":   "How Long Does Compost Take to Break Down?",
		"Everything You Need to Know About How Often to Water Tomato Plants":     "Everything You Need to Know About How Often to Water Tomato",
		"What Most People Get Wrong About Dermatologist for Acne Near Me Today":  "What Most People Get Wrong About Dermatologist for Acne",
	}
	for in, want := range cases {
		got := metaTitle(in)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("metaTitle(%q) (-want +got):\n%s", in, diff)
		}
		if runeLen(got) > maxMetaTitleRunes {
			t.Errorf("metaTitle(%q) = %q, over %d runes", in, got, maxMetaTitleRunes)
		}
	}
}
