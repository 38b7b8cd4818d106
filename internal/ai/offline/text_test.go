package offline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

func vol(v int32) *int32 { return &v }

func keywords(phrases ...string) []ai.KeywordInfo {
	out := make([]ai.KeywordInfo, len(phrases))
	for i, p := range phrases {
		out[i] = ai.KeywordInfo{Phrase: p}
		if i%2 == 0 {
			out[i].Volume = vol(int32(1000 * (i + 1)))
		}
	}
	return out
}

// keywordSets are the varied clusters the offline tests run on.
func keywordSets() map[string][]ai.KeywordInfo {
	long := strings.TrimSpace(strings.Repeat("extraordinarily long keyword phrase ", 6))[:200]
	longWord := strings.Repeat("x", 200)
	return map[string][]ai.KeywordInfo{
		"trail shoes": keywords("trail running shoes", "best trail running shoes for beginners",
			"trail running shoes vs road running shoes", "how to choose trail running shoes",
			"waterproof trail shoes", "trail running shoes review"),
		"single":        keywords("sourdough starter"),
		"single how to": keywords("how to make sourdough bread"),
		"versus":        keywords("nike vs adidas"),
		"german": keywords("Laufschuhe für Damen", "beste Laufschuhe Test", "Laufschuhe kaufen Größe",
			"Straßenlaufschuhe oder Trailschuhe"),
		"japanese":          keywords("ランニングシューズ おすすめ", "ランニングシューズ 選び方", "トレイルランニング 初心者"),
		"cyrillic":          keywords("кроссовки для бега", "как выбрать кроссовки для бега"),
		"emoji and symbols": keywords("☕ coffee & cake <recipes>", "\"quoted\" 'keyword' & more", "c++ vs rust"),
		"long":              keywords(long, long+" ignored", "short one"),
		"long word":         keywords(longWord, "tiny"),
		"messy": {
			{Phrase: "  spaced \t out\nkeyword  "},
			{Phrase: ""},
			{Phrase: "   "},
			{Phrase: "ctrl\x00\x01chars\x7f"},
			{Phrase: "bad utf8 \xff\xfe here"},
			{Phrase: "DUPLICATE keyword"},
			{Phrase: "duplicate KEYWORD"},
		},
		"years and modifiers": keywords("best laptops 2026", "top laptops for students", "laptop reviews", "what is a laptop"),
		"many": keywords("seo", "seo tools", "seo audit", "seo checklist", "local seo", "technical seo",
			"seo for beginners", "seo vs sem", "how to do seo", "seo tips", "seo guide", "best seo tools"),
	}
}

func newWriter(t testing.TB) *ai.Writer {
	t.Helper()
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestName(t *testing.T) {
	if got := NewTextModel().Name(); got != "offline-writer-v1" {
		t.Errorf("Name() = %q", got)
	}
}

func TestDeterministic(t *testing.T) {
	m := NewTextModel()
	ctx := context.Background()
	inputs := []any{
		ai.ClusterNameInput{SiteName: "S", Keywords: keywordSets()["trail shoes"]},
		ai.IdeasInput{ClusterName: "Trail Shoes", Keywords: keywordSets()["trail shoes"], Count: 5},
		ai.DraftInput{Title: "How to Choose Trail Running Shoes", ContentType: "how_to",
			TargetKeywords: []string{"trail running shoes"},
			Outline:        []ai.Heading{{Level: 2, Text: "One"}, {Level: 3, Text: "Two"}, {Level: 2, Text: "Three"}}},
	}
	for _, in := range inputs {
		a, err := m.GenerateJSON(ctx, ai.JSONRequest{Input: in, Prompt: "four words of prompt"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewTextModel().GenerateJSON(ctx, ai.JSONRequest{Input: in, Prompt: "four words of prompt"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Content, b.Content) {
			t.Errorf("%T: two runs differ:\n%s\n%s", in, a.Content, b.Content)
		}
		if a.Usage.Model != TextModelName || a.Usage.PromptTokens != 4 || a.Usage.CompletionTokens == 0 || a.Usage.CostUSD != 0 {
			t.Errorf("%T: usage = %+v", in, a.Usage)
		}
	}

	// Different inputs give different articles.
	d1 := inputs[2].(ai.DraftInput)
	d2 := d1
	d2.Title = "How to Choose Trail Running Shoes for Winter"
	a, _ := m.GenerateJSON(ctx, ai.JSONRequest{Input: d1})
	b, _ := m.GenerateJSON(ctx, ai.JSONRequest{Input: &d2})
	if bytes.Equal(a.Content, b.Content) {
		t.Error("different drafts are identical")
	}
}

func TestUnsupportedInput(t *testing.T) {
	m := NewTextModel()
	for _, in := range []any{nil, "text", 42, (*ai.DraftInput)(nil), ai.Draft{}} {
		_, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Stage: ai.StageDraft, Input: in})
		if !errors.Is(err, errs.ErrPermanent) {
			t.Errorf("input %T: err = %v, want permanent", in, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewTextModel().GenerateJSON(ctx, ai.JSONRequest{Input: ai.ClusterNameInput{}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// runPipeline names a cluster, plans count ideas and drafts every idea
// through ai.Writer, so that every answer passes the stage validators.
func runPipeline(t *testing.T, w *ai.Writer, site string, kws []ai.KeywordInfo, count int, existing []string) []ai.Idea {
	t.Helper()
	ctx := context.Background()
	name, usage, err := w.NameCluster(ctx, ai.ClusterNameInput{SiteName: site, Keywords: kws})
	if err != nil {
		t.Fatalf("NameCluster: %v", err)
	}
	if usage.Model != TextModelName {
		t.Errorf("usage model = %q", usage.Model)
	}
	in := ai.IdeasInput{
		SiteName:           site,
		ClusterName:        name.Name,
		ClusterDescription: name.Description,
		Keywords:           kws,
		Count:              count,
		ExistingTitles:     existing,
	}
	ideas, _, err := w.Ideas(ctx, in)
	if err != nil {
		t.Fatalf("Ideas(count %d): %v", count, err)
	}
	for _, idea := range ideas {
		if n := len(idea.Outline); n < 4 || n > 8 {
			t.Errorf("idea %q has %d headings, want 4-8", idea.Title, n)
		}
		din := ai.DraftInput{
			SiteName:       site,
			ClusterName:    name.Name,
			Title:          idea.Title,
			ContentType:    idea.ContentType,
			TargetKeywords: idea.TargetKeywords,
			Outline:        idea.Outline,
		}
		d, _, err := w.Draft(ctx, din)
		if err != nil {
			t.Fatalf("Draft(%q): %v", idea.Title, err)
		}
		checkDraft(t, din, d)
	}
	return ideas
}

// checkDraft checks what the validators do not: the headings appear
// literally, the length, the focus keyword.
func checkDraft(t *testing.T, in ai.DraftInput, d ai.Draft) {
	t.Helper()
	pos := 0
	for _, h := range in.Outline {
		tag := fmt.Sprintf("<h%d>%s</h%d>", h.Level, html.EscapeString(cleanText(h.Text)), h.Level)
		i := strings.Index(d.BodyHTML[pos:], tag)
		if i < 0 {
			t.Errorf("draft %q: heading %s missing or out of order", d.Title, tag)
			continue
		}
		pos += i + len(tag)
	}
	if n := ai.WordCount(d.BodyHTML); n < draftMinWords || n > draftMaxWords {
		t.Errorf("draft %q (%d headings): %d words, want %d-%d", d.Title, len(in.Outline), n, draftMinWords, draftMaxWords)
	}
	if want := cutWords(cleanText(in.TargetKeywords[0]), maxKeywordRunes); d.FocusKeyword != want {
		t.Errorf("focus keyword = %q, want %q", d.FocusKeyword, in.TargetKeywords[0])
	}
	if !strings.Contains(strings.ToLower(d.BodyHTML), strings.ToLower(html.EscapeString(d.FocusKeyword))) {
		t.Errorf("draft %q does not mention its focus keyword", d.Title)
	}
}

func TestPipelinePassesValidators(t *testing.T) {
	w := newWriter(t)
	for name, kws := range keywordSets() {
		t.Run(name, func(t *testing.T) {
			for count := 1; count <= 10; count++ {
				ideas := runPipeline(t, w, "Example Site", kws, count, nil)
				if count == 6 {
					// Ask again with those titles taken: all new titles.
					var existing []string
					for _, idea := range ideas {
						existing = append(existing, strings.ToUpper(idea.Title))
					}
					again := runPipeline(t, w, "Example Site", kws, count, existing)
					for _, idea := range again {
						for _, e := range existing {
							if strings.EqualFold(idea.Title, e) {
								t.Errorf("title %q repeats an existing title", idea.Title)
							}
						}
					}
				}
			}
		})
	}
}

func TestIdeasVaryContentTypesAndKeywords(t *testing.T) {
	m := NewTextModel()
	in := ai.IdeasInput{ClusterName: "SEO", Keywords: keywordSets()["many"], Count: 10}
	resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	ideas, err := ai.ParseIdeas(in, resp.Content)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	primaries := map[string]bool{}
	for _, idea := range ideas {
		types[idea.ContentType] = true
		primaries[idea.TargetKeywords[0]] = true
		if strings.Contains(idea.Title, "2026") || strings.Contains(idea.Title, "2025") {
			t.Errorf("title %q has a year", idea.Title)
		}
	}
	if len(types) < 5 {
		t.Errorf("only %d content types across 10 ideas: %v", len(types), types)
	}
	if len(primaries) != 10 {
		t.Errorf("only %d distinct primary keywords across 10 ideas", len(primaries))
	}
}

func TestClusterName(t *testing.T) {
	m := NewTextModel()
	in := ai.ClusterNameInput{Keywords: keywordSets()["trail shoes"]}
	resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ai.ParseClusterName(resp.Content)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Trail Running Shoes" {
		t.Errorf("name = %q, want Trail Running Shoes", c.Name)
	}
	if !strings.Contains(c.Description, "6 keywords") || !strings.Contains(c.Description, "“trail running shoes”") {
		t.Errorf("description = %q", c.Description)
	}
	// No keywords at all still gives a valid answer.
	resp, err = m.GenerateJSON(context.Background(), ai.JSONRequest{Input: ai.ClusterNameInput{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ai.ParseClusterName(resp.Content); err != nil {
		t.Error(err)
	}
}

func headings(n, textLen int) []ai.Heading {
	hs := make([]ai.Heading, n)
	for i := range hs {
		text := fmt.Sprintf("Section %d about choosing well", i+1)
		if textLen > 0 {
			text = cutWords(strings.Repeat(fmt.Sprintf("Section %d long heading text ", i+1), 10), textLen)
		}
		hs[i] = ai.Heading{Level: 2, Text: text}
		if i%3 == 2 {
			hs[i].Level = 3
		}
	}
	return hs
}

func TestDraftLengthAndHeadings(t *testing.T) {
	w := newWriter(t)
	long := strings.Repeat("é", 200)
	cases := []struct {
		name string
		in   ai.DraftInput
	}{
		{"3 headings", ai.DraftInput{Title: "A Short Outline Article", TargetKeywords: []string{"garden tools"}, Outline: headings(3, 0)}},
		{"15 headings", ai.DraftInput{Title: "A Long Outline Article", TargetKeywords: []string{"garden tools"}, Outline: headings(15, 0)}},
		{"15 long headings", ai.DraftInput{Title: "A Long Outline Article", TargetKeywords: []string{"garden tools", "rakes"}, Outline: headings(15, 120)}},
		{"long keyword", ai.DraftInput{Title: "Tiny", ContentType: "listicle", TargetKeywords: []string{long, long + "x"}, Outline: headings(5, 0)}},
		{"escaping", ai.DraftInput{Title: `Tips & <Tricks> for "Quotes"`, ContentType: "comparison",
			TargetKeywords: []string{"<b>bold</b> & co", "a&amp;b"},
			Outline:        []ai.Heading{{Level: 2, Text: "Tips & Tricks"}, {Level: 3, Text: "<script>alert(1)</script>"}, {Level: 2, Text: "A &amp; B?"}}}},
		{"review", ai.DraftInput{Title: "Whatever Title Here", ContentType: "review", TargetKeywords: []string{"x"}, Outline: headings(4, 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _, err := w.Draft(context.Background(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			checkDraft(t, c.in, d)
			if strings.Contains(d.BodyHTML, "<script>") || strings.Contains(d.BodyHTML, "<b>bold") {
				t.Errorf("keyword text was not escaped:\n%s", d.BodyHTML)
			}
		})
	}
}

func TestDraftListsAndConclusion(t *testing.T) {
	m := NewTextModel()
	for ctype, want := range map[string]string{"how_to": "<ol>", "listicle": "<ul>", "comparison": "<ul>"} {
		in := ai.IdeasInput{ClusterName: "Coffee", Keywords: keywords("coffee grinder", "burr grinder"), Count: 6}
		resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
		if err != nil {
			t.Fatal(err)
		}
		ideas, err := ai.ParseIdeas(in, resp.Content)
		if err != nil {
			t.Fatal(err)
		}
		for _, idea := range ideas {
			if idea.ContentType != ctype {
				continue
			}
			din := ai.DraftInput{Title: idea.Title, ContentType: ctype, TargetKeywords: idea.TargetKeywords, Outline: idea.Outline}
			resp, err := m.GenerateJSON(context.Background(), ai.JSONRequest{Input: din})
			if err != nil {
				t.Fatal(err)
			}
			d, err := ai.ParseDraft(din, resp.Content)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(d.BodyHTML, want) {
				t.Errorf("%s draft has no %s list", ctype, want)
			}
		}
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"How to Choose Trail Running Shoes", "how-to-choose-trail-running-shoes"},
		{"Café Crème: Ünïcödé Guide", "cafe-creme-unicode-guide"},
		{"Straße & Größe — Æsir Øl", "strasse-and-grosse-aesir-ol"},
		{"Beginner's Guide to C++", "beginners-guide-to-c"},
		{"  --Multiple   spaces--and---hyphens--  ", "multiple-spaces-and-hyphens"},
		{"ランニングシューズ", ""},
		{strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
	}
	for _, tt := range tests {
		if got := slugify(tt.in, 80); got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := makeSlug("ランニングシューズ", "選び方"); !strings.HasPrefix(got, "article-") || len(got) != len("article-")+8 {
		t.Errorf("makeSlug of non-Latin text = %q", got)
	}
}

func TestCutWords(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"The Complete Guide to Trail Running Shoes", 30, "The Complete Guide to Trail"},
		{"Tips & Tricks for you", 13, "Tips & Tricks"},
		{"Tips & Tricks for you", 8, "Tips"},
		{strings.Repeat("é", 70), 60, strings.Repeat("é", 60)},
	}
	for _, tt := range tests {
		if got := cutWords(tt.in, tt.max); got != tt.want {
			t.Errorf("cutWords(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// cutRunes keeps at most n runes of s.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

func FuzzOfflineDraft(f *testing.F) {
	f.Add("trail running shoes", "best trail shoes", "How to Choose Trail Shoes", uint8(3))
	f.Add("", "", "", uint8(0))
	f.Add("  ", "\x00\x01", "\xff\xfe", uint8(1))
	f.Add("ランニングシューズ", "кроссовки", "Größe & Straße <b>", uint8(7))
	f.Add(strings.Repeat("long keyword ", 20), "a vs b", strings.Repeat("T", 130), uint8(10))
	f.Add("&amp; &lt;tag&gt;", "how to", "<script>alert(1)</script>", uint8(255))
	f.Add("vs", "vs vs vs", "Step 1: x", uint8(5))
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		f.Fatal(err)
	}
	m := NewTextModel()
	f.Fuzz(func(t *testing.T, kw1, kw2, title string, n uint8) {
		ctx := context.Background()
		kws := []ai.KeywordInfo{{Phrase: kw1}, {Phrase: kw2}, {Phrase: kw1 + " " + kw2}}
		count := int(n%10) + 1

		// The offline model's raw answers pass the validators for any keywords.
		resp, err := m.GenerateJSON(ctx, ai.JSONRequest{Input: ai.ClusterNameInput{SiteName: title, Keywords: kws}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ai.ParseClusterName(resp.Content); err != nil {
			t.Fatalf("cluster name: %v\n%s", err, resp.Content)
		}
		iin := ai.IdeasInput{ClusterName: title, Keywords: kws, Count: count, ExistingTitles: []string{title, kw1}}
		resp, err = m.GenerateJSON(ctx, ai.JSONRequest{Input: iin})
		if err != nil {
			t.Fatal(err)
		}
		ideas, err := ai.ParseIdeas(iin, resp.Content)
		if err != nil {
			t.Fatalf("ideas: %v\n%s", err, resp.Content)
		}

		// Drafts: for the first idea, and for an outline made of the raw
		// strings wherever they make a valid heading.
		outline := []ai.Heading{{Level: 2, Text: "Getting Started"}}
		for i, s := range []string{kw1, kw2, title} {
			s = cutRunes(s, 120)
			if strings.TrimSpace(s) != "" && utf8.RuneCountInString(strings.TrimSpace(s)) <= 120 {
				outline = append(outline, ai.Heading{Level: 2 + i%2, Text: s})
			}
		}
		inputs := []ai.DraftInput{
			{Title: title, ContentType: "how_to", TargetKeywords: []string{kw1, kw2}, Outline: outline},
		}
		if len(ideas) > 0 {
			inputs = append(inputs, ai.DraftInput{Title: ideas[0].Title, ContentType: ideas[0].ContentType,
				TargetKeywords: ideas[0].TargetKeywords, Outline: ideas[0].Outline})
		}
		for _, din := range inputs {
			resp, err := m.GenerateJSON(ctx, ai.JSONRequest{Input: din})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ai.ParseDraft(din, resp.Content); err != nil {
				t.Fatalf("draft: %v\ninput %+v\n%s", err, din, resp.Content)
			}
			// Through the stage too, unless the stage rejects the input.
			if _, _, err := w.Draft(ctx, din); err != nil {
				var ve *errs.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Draft stage: %v", err)
				}
			}
		}
	})
}

func FuzzValidateDraft(f *testing.F) {
	in := ai.DraftInput{
		Title:          "How to Choose Trail Running Shoes",
		TargetKeywords: []string{"trail running shoes"},
		Outline: []ai.Heading{
			{Level: 2, Text: "Why Trail Shoes Differ"},
			{Level: 3, Text: "Grip & Lugs"},
			{Level: 2, Text: "Final Thoughts"},
		},
	}
	good, err := NewTextModel().GenerateJSON(context.Background(), ai.JSONRequest{Input: in})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.Content)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"title": 1}`))
	f.Add([]byte(`{"body_html": "<h2>Why Trail Shoes Differ</h2><h3>Grip &amp; Lugs</h3><h2>Final Thoughts"}`))
	f.Add([]byte("```json\n{\"title\": \"x\"}\n```"))
	f.Add([]byte(`{"title":"` + strings.Repeat("\\u00e9", 200) + `","body_html":"<h2><h3></h2></h3><script>"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ai.ParseDraft(in, data)
		if err != nil {
			return
		}
		// What ParseDraft accepts is valid.
		if err := ai.ValidateDraft(in, d); err != nil {
			t.Fatalf("ParseDraft accepted a draft ValidateDraft rejects: %v", err)
		}
	})
}

// TestImagePrompt checks that the offline writer's image prompts pass the
// stage's validation, also for odd input, and are deterministic; in-article
// images are as many as asked for (or as there are headings), each after a
// different heading.
func TestImagePrompt(t *testing.T) {
	w, err := ai.NewWriter(NewTextModel())
	if err != nil {
		t.Fatal(err)
	}
	headings := []string{"Why grip matters", "Fit", "Fit", "Protection\x00 and   cushioning", "Sizing", "Care", "Budget"}
	inputs := []struct {
		in   ai.ImagePromptInput
		want int // in-article images
	}{
		{ai.ImagePromptInput{SiteName: "Trail & Tarmac", Title: "How to Choose Trail Running Shoes", FocusKeyword: "trail running shoes",
			Excerpt: "Grip, fit and protection.", Headings: []string{"Why grip matters", "Fit"}}, 0},
		{ai.ImagePromptInput{Title: "X"}, 0},
		{ai.ImagePromptInput{Title: "X", InlineCount: 3}, 0},
		{ai.ImagePromptInput{Title: strings.Repeat("very long title ", 40), FocusKeyword: strings.Repeat("k", 300)}, 0},
		{ai.ImagePromptInput{Title: "\x00\ufffd ok", FocusKeyword: " \n "}, 0},
		{ai.ImagePromptInput{Title: "Trail shoes", FocusKeyword: "trail shoes", Headings: headings, InlineCount: 5}, 5},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: headings, InlineCount: 2}, 2},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: headings[:3], InlineCount: 5}, 2},
		{ai.ImagePromptInput{Title: "Trail shoes", Headings: []string{strings.Repeat("long heading ", 30), "\x00"}, InlineCount: 2}, 2},
	}
	for _, c := range inputs {
		p, _, err := w.ImagePrompt(context.Background(), c.in)
		if err != nil {
			t.Errorf("ImagePrompt(%+v): %v", c.in, err)
			continue
		}
		if len(p.Inline) != c.want {
			t.Errorf("ImagePrompt(%+v): %d in-article images, want %d", c.in, len(p.Inline), c.want)
		}
		again, _, err := w.ImagePrompt(context.Background(), c.in)
		if diff := cmp.Diff(p, again); err != nil || diff != "" {
			t.Errorf("ImagePrompt(%+v) is not deterministic (-first +second):\n%s (%v)", c.in, diff, err)
		}
	}
}
