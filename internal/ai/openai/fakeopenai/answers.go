package fakeopenai

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// The lines of the default prompt templates the fake model reads, as a
// model would, to write valid answers for every stage.
var (
	ideaCountRe    = regexp.MustCompile(`Propose exactly (\d+) content`)
	keywordLineRe  = regexp.MustCompile(`(?m)^- ([^(\n]+?)(?: \(|$)`)
	headingLineRe  = regexp.MustCompile(`(?m)^\s*(H2|H3): (.+)$`)
	titleLineRe    = regexp.MustCompile(`(?m)^Planned title: (.+)$`)
	articleTitleRe = regexp.MustCompile(`(?m)^Article title: (.+)$`)
	focusLineRe    = regexp.MustCompile(`(?m)^Focus keyword: (.+)$`)
)

// filler is a paragraph of a long draft, before its focus keyword.
const filler = "Start with what matters most, compare the options side by side, test the choice on a small scale first, " +
	"and write down what worked so the next attempt goes faster; readers who follow these steps avoid the usual " +
	"mistakes and get better results with"

// Writer answers chat requests the way a model would: a valid answer for
// the stage named by the request's JSON schema (cluster_name, idea_list,
// draft, image_prompt; "{}" for any other), from what the default prompt
// templates' lines say. Its counter makes idea titles and draft slugs
// unique, so that a duplicate post in WordPress can only come from
// publishing a draft twice. Use its Answer as the server's content.
type Writer struct {
	// SlugPrefix starts every draft's slug ("article-" if empty).
	SlugPrefix string
	// DraftWords, if not zero, makes drafts about that many words long, as
	// a model writes what the prompt asks for (1,000 to 1,800); zero writes
	// a sentence per heading.
	DraftWords int
	counter    atomic.Int64
}

// Answer writes the answer to r.
func (wr *Writer) Answer(r *Request) string {
	var format struct {
		JSONSchema struct {
			Name string `json:"name"`
		} `json:"json_schema"`
	}
	_ = json.Unmarshal(r.ResponseFormat, &format)
	prompt := r.Messages[len(r.Messages)-1].Content
	var answer any
	switch format.JSONSchema.Name {
	case "cluster_name":
		first := firstMatch(keywordLineRe, prompt, "keywords")
		answer = map[string]string{"name": "All about " + first, "description": "Articles for people searching for " + first + "."}
	case "idea_list":
		n := 1
		if m := ideaCountRe.FindStringSubmatch(prompt); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		// Each idea its own primary keyword, as the prompt asks: the
		// cluster's keywords in turn, those the site has taken last.
		kws := freeKeywords(prompt)
		ideas := make([]map[string]any, n)
		for i := range ideas {
			kw := kws[i%len(kws)]
			k := wr.counter.Add(1)
			ideas[i] = map[string]any{
				"title": fmt.Sprintf(ideaTitles[i%len(ideaTitles)], kw, k), "content_type": "guide",
				"target_keywords": []string{kw},
				"outline": []map[string]any{{"level": 2, "text": "What " + kw + " means"},
					{"level": 3, "text": "The basics"}, {"level": 2, "text": "How to choose"}, {"level": 2, "text": "Common mistakes"}},
			}
		}
		answer = map[string]any{"ideas": ideas}
	case "draft":
		title := firstMatch(titleLineRe, prompt, "An article")
		focus := firstMatch(focusLineRe, prompt, "keyword")
		var body strings.Builder
		headings := headingLineRe.FindAllStringSubmatch(prompt, -1)
		for _, m := range headings {
			tag := strings.ToLower(m[1])
			fmt.Fprintf(&body, "<%s>%s</%s><p>Plain, useful advice about %s for readers who want to get it right the first time.</p>",
				tag, strings.TrimSpace(m[2]), tag, focus)
			for words := 0; words < wr.DraftWords/max(len(headings), 1); words += len(strings.Fields(filler)) + 1 {
				fmt.Fprintf(&body, "<p>%s %s.</p>", filler, focus)
			}
		}
		answer = map[string]string{"title": title, "slug": cmp.Or(wr.SlugPrefix, "article-") + strconv.FormatInt(wr.counter.Add(1), 10),
			"excerpt": "A practical article about " + focus + ".", "meta_title": "About " + focus,
			"meta_description": "Everything a reader needs to know about " + focus + ", explained plainly with examples.",
			"focus_keyword":    focus, "body_html": body.String()}
	case "image_prompt":
		title := firstMatch(articleTitleRe, prompt, "an article")
		answer = map[string]any{"prompt": "A bright editorial photograph illustrating " + title,
			"alt_text": "Illustration for the article", "inline_images": []any{}}
	default:
		return "{}"
	}
	out, _ := json.Marshal(answer)
	return string(out)
}

// ideaTitles are the fake's title templates (keyword, a counter), each
// idea of an answer another angle, as a model would write them.
var ideaTitles = []string{
	"The complete guide to %s, part %d",
	"%s: the mistakes we made (%d)",
	"Questions to ask before %s, round %d",
	"Our field notes on %s, vol. %d",
}

// freeKeywords returns the keywords listed in the prompt's <keywords>
// block, those not in its <taken_keywords> block first; "this topic" when
// it lists none.
func freeKeywords(prompt string) []string {
	block := func(tag string) string {
		_, rest, ok := strings.Cut(prompt, "<"+tag+">")
		if !ok {
			return ""
		}
		inner, _, _ := strings.Cut(rest, "</"+tag+">")
		return inner
	}
	taken := map[string]bool{}
	for _, m := range keywordLineRe.FindAllStringSubmatch(block("taken_keywords"), -1) {
		taken[strings.ToLower(strings.TrimSpace(m[1]))] = true
	}
	var free, used []string
	for _, m := range keywordLineRe.FindAllStringSubmatch(block("keywords"), -1) {
		kw := strings.TrimSpace(m[1])
		if taken[strings.ToLower(kw)] {
			used = append(used, kw)
		} else {
			free = append(free, kw)
		}
	}
	if out := append(free, used...); len(out) > 0 {
		return out
	}
	return []string{"this topic"}
}

func firstMatch(re *regexp.Regexp, s, def string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1])
	}
	return def
}
