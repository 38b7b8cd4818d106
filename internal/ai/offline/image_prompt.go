package offline

import (
	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/markup"
)

// Bounds of the offline image prompt, within the stage's limits.
const (
	imageTopicRunes = 200
	altTextRunes    = 125
)

// writeImagePrompt describes a featured image for the article's topic (the
// focus keyword, else the title) and writes its alt text; when in-article
// images are asked for, it places them after headings spread over the
// article, each describing its section.
func writeImagePrompt(in ai.ImagePromptInput) ai.ImagePrompt {
	topic := markup.CleanText(in.FocusKeyword)
	if topic == "" {
		topic = markup.CleanText(in.Title)
	}
	topic = cutWords(topic, imageTopicRunes)
	if topic == "" {
		topic = "an everyday scene"
	}
	styles := []string{
		"soft natural morning light, shallow depth of field",
		"warm late-afternoon light, calm and inviting mood",
		"bright overcast daylight, clean and uncluttered composition",
	}
	rng := newRand(in)
	prompt := "Editorial photograph illustrating " + topic + ": a realistic, well-composed scene, " +
		styles[rng.IntN(len(styles))] + ", wide landscape format with space around the subject, " +
		"no text, no logos, no people's faces."
	out := ai.ImagePrompt{Prompt: prompt, AltText: altText(topic), Inline: []ai.InlineImagePrompt{}}

	headings := ai.InlineHeadings(in)
	n := min(max(in.InlineCount, 0), len(headings))
	for i := range n {
		// Spread the images over the article: the i-th of n sections.
		h := headings[i*len(headings)/n]
		section := cutWords(markup.CleanText(h), imageTopicRunes)
		if section == "" {
			section = "one step of the article"
		}
		out.Inline = append(out.Inline, ai.InlineImagePrompt{
			Heading: h,
			Prompt: "Editorial photograph for the section \"" + section + "\" of an article about " + topic +
				": a realistic detail shot, " + styles[(rng.IntN(len(styles))+i)%len(styles)] +
				", landscape format, no text, no logos, no people's faces.",
			AltText: altText(section + ", " + topic),
		})
	}
	return out
}

// altText describes a photograph of subject in at most 125 characters.
func altText(subject string) string {
	const suffix = " illustrated in a photograph"
	alt := cutWords(upperFirst(subject), altTextRunes-len(suffix))
	alt += suffix
	if runeLen(alt) < 5 {
		alt = "A featured photograph"
	}
	return alt
}
