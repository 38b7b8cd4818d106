package offline

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/ai"
)

// listItemPools are the item headings of a listicle, one pool per title
// variant.
var listItemPools = [][]string{
	{ // tips
		"Start with a Clear Goal", "Learn the Basics Before You Spend", "Compare a Few Options Side by Side",
		"Read Real User Experiences", "Keep It Simple at First", "Track What Works",
		"Review and Adjust Regularly", "Ask for Advice Early",
	},
	{ // things to know
		"Your Needs Come First", "Price Is Not Everything", "Quality Shows in the Details",
		"Reviews Only Tell Part of the Story", "Upkeep Matters More Than You Think",
		"The Cheapest Option Can Cost More", "Timing Can Make a Difference",
	},
	{ // mistakes
		"Skipping the Research", "Focusing Only on Price", "Ignoring the Fine Print",
		"Copying What Everyone Else Does", "Trying to Do Everything at Once", "Giving Up Too Early",
		"Not Asking for Help",
	},
	{ // ways
		"Set Up the Basics Properly", "Build a Simple Routine", "Use What You Already Have",
		"Learn from Other People", "Measure Your Results", "Keep Everything Up to Date",
		"Experiment a Little",
	},
}

// outlineFor writes a 4-8 heading outline that fits the content type.
func outlineFor(ctype string, variant int, primary, other string, items int, rng *rand.Rand) []ai.Heading {
	primary = rephrase(primary)
	if shape := shapeOf(primary); shape == shapeQuestion || (shape == shapeVersus && ctype != "comparison") {
		return wholeKeywordOutline(ctype, variant, items, rng)
	}
	x := topic(primary)
	y := secondTopic(x, other)
	var hs []ai.Heading
	h2 := func(t string) { hs = append(hs, ai.Heading{Level: 2, Text: cutWords(t, 120)}) }
	h3 := func(t string) { hs = append(hs, ai.Heading{Level: 3, Text: cutWords(t, 120)}) }
	switch ctype {
	case "guide":
		h2(pickOne(rng, "An Overview of "+x, x+" at a Glance", "Understanding "+x))
		h2(pickOne(rng, "Why It Pays to Understand "+x, "The Benefits of "+x))
		h2("Getting Started with " + x)
		h3("What You Need First")
		h3("Your First Steps")
		if y != "" {
			h2("The Role of " + y)
		} else {
			h2("Frequently Asked Questions")
		}
		h2(pickOne(rng, "Common Mistakes to Avoid", "Mistakes Beginners Make"))
		h2(pickOne(rng, "Final Thoughts", "Key Takeaways"))
	case "listicle":
		pool := append([]string(nil), listItemPools[variant%len(listItemPools)]...)
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		h2(pickOne(rng, "What to Look For in "+x, "What to Know Before You Begin", "Why These Points Matter"))
		for i := 0; i < items && i < len(pool); i++ {
			h2(strconv.Itoa(i+1) + ". " + pool[i])
		}
		h2(pickOne(rng, "Final Thoughts", "The Bottom Line"))
	case "how_to":
		h2("What You Need Before You Start")
		if strings.HasPrefix(strings.ToLower(primary), "how to ") {
			h2("Step-by-Step: How to " + x)
		} else {
			h2("Step-by-Step Instructions")
		}
		steps := []string{"Plan Your Approach", "Prepare Everything You Need", "Work Through It Carefully", "Check the Result"}
		nSteps := 3 + rng.IntN(2)
		for i := 0; i < nSteps; i++ {
			h3("Step " + strconv.Itoa(i+1) + ": " + steps[i])
		}
		h2(pickOne(rng, "Troubleshooting Common Problems", "Common Mistakes and How to Fix Them"))
		h2("Final Thoughts")
	case "comparison":
		a, b := x, y
		if va, vb, ok := splitVersus(primary); ok {
			a, b = titleCase(cutWords(va, 50)), titleCase(cutWords(vb, 50))
		}
		if b != "" {
			h2(a + " vs " + b + " at a Glance")
			h2(a + ": The Basics")
			h2(b + ": The Basics")
			h2("Key Differences")
		} else {
			h2("What to Compare When Choosing " + x)
			h2("The Main Options at a Glance")
			h2("Key Differences")
		}
		h3("Price and Value")
		h3("Ease of Use")
		h3(pickOne(rng, "Quality and Performance", "Durability and Support"))
		h2(pickOne(rng, "Which One Should You Choose?", "Final Verdict"))
	case "review":
		h2(x + " at a Glance")
		h2("What We Liked")
		h3("Everyday Use")
		h3("Value for Money")
		h2("What Could Be Better")
		h2("Who Should Consider " + x + "?")
		if y != "" {
			h2("Alternatives Worth Considering: " + y)
		} else {
			h2("Alternatives Worth Considering")
		}
		h2("The Verdict on " + x)
	default:
		h2(pickOne(rng, "Why It Pays to Understand "+x, "Why People Care About "+x))
		h2("The Basics of " + x)
		if y != "" {
			h2("The Role of " + y)
		}
		h2(pickOne(rng, "Common Myths About "+x, "What Most People Get Wrong"))
		h2("Practical Tips to Get Started")
		h3("Small First Steps")
		h3("Consistency over Intensity")
		h2("Final Thoughts")
	}
	if len(hs) > 8 {
		hs = hs[:8]
	}
	return hs
}

// wholeKeywordOutline is the outline of an idea whose keyword, a question
// or a comparison, heads its title whole: its headings answer it without
// repeating it where a noun belongs ("An Overview of Are Air Fryers
// Healthy").
func wholeKeywordOutline(ctype string, variant, items int, rng *rand.Rand) []ai.Heading {
	var hs []ai.Heading
	h2 := func(t string) { hs = append(hs, ai.Heading{Level: 2, Text: t}) }
	h3 := func(t string) { hs = append(hs, ai.Heading{Level: 3, Text: t}) }
	h2(pickOne(rng, "The Short Answer", "The Answer in Brief"))
	switch ctype {
	case "listicle":
		pool := append([]string(nil), listItemPools[variant%len(listItemPools)]...)
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		for i := 0; i < items && i < len(pool); i++ {
			h2(strconv.Itoa(i+1) + ". " + pool[i])
		}
		h2(pickOne(rng, "Final Thoughts", "The Bottom Line"))
		return hs
	case "how_to":
		h2("What You Need Before You Start")
		h2("Step-by-Step Instructions")
		steps := []string{"Plan Your Approach", "Prepare Everything You Need", "Work Through It Carefully", "Check the Result"}
		for i := 0; i < 3+rng.IntN(2); i++ {
			h3("Step " + strconv.Itoa(i+1) + ": " + steps[i])
		}
		h2("Final Thoughts")
		return hs
	case "comparison":
		h2("The Main Options at a Glance")
		h2("Key Differences")
		h3("Price and Value")
		h3("Ease of Use")
		h2(pickOne(rng, "Which One Should You Choose?", "Final Verdict"))
		return hs
	case "review":
		h2("What We Liked")
		h2("What Could Be Better")
		h2("Who It Suits")
		h2("The Verdict")
		return hs
	}
	h2("Why the Question Matters")
	h2("What Makes the Difference")
	h3("Your Situation and Goals")
	h3("Cost, Time and Effort")
	h2(pickOne(rng, "Common Misconceptions", "What Most People Get Wrong"))
	h2(pickOne(rng, "Final Thoughts", "Key Takeaways"))
	return hs
}
