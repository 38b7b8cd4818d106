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

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
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
		tag := fmt.Sprintf("<h%d>%s</h%d>", h.Level, html.EscapeString(markup.CleanText(h.Text)), h.Level)
		i := strings.Index(d.BodyHTML[pos:], tag)
		if i < 0 {
			t.Errorf("draft %q: heading %s missing or out of order", d.Title, tag)
			continue
		}
		pos += i + len(tag)
	}
	if n := markup.WordCount(d.BodyHTML); n < draftMinWords || n > draftMaxWords {
		t.Errorf("draft %q (%d headings): %d words, want %d-%d", d.Title, len(in.Outline), n, draftMinWords, draftMaxWords)
	}
	if want := cutWords(markup.CleanText(in.TargetKeywords[0]), maxKeywordRunes); d.FocusKeyword != want {
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
