package ai

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/markup"
)

// draftWithWords is sampleDraft with words[i] words of text under the i-th
// outline heading (the introduction keeps its sentence).
func draftWithWords(words ...int) Draft {
	in := sampleDraftInput()
	d := sampleDraft()
	var body strings.Builder
	body.WriteString("<p>Knowing how to choose trail running shoes saves money and blisters.</p>")
	for i, h := range in.Outline {
		fmt.Fprintf(&body, "<h%d>%s</h%d><p>%s</p>", h.Level, strings.ReplaceAll(h.Text, "&", "&amp;"), h.Level,
			strings.TrimSpace(strings.Repeat("word ", words[i])))
	}
	d.BodyHTML = body.String()
	return d
}

func lengthInput() DraftInput {
	in := sampleDraftInput() // a how_to
	in.Profile = Profile{WordTargets: map[string]int{"how_to": 1000}}
	return in
}

func TestDraftTooShortIsExpandedNotRegenerated(t *testing.T) {
	short := draftWithWords(200, 40, 20, 30, 150) // 476 words, below 700
	fixed := draftWithWords(300, 250, 150, 150, 150)
	m := answers(JSONResponse{Content: jsonOf(t, short)}, JSONResponse{Content: jsonOf(t, fixed)})
	d, _, err := newWriter(t, m).Draft(context.Background(), lengthInput())
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	if len(m.calls) != 2 {
		t.Fatalf("calls = %d, want 2 (the answer and its repair)", len(m.calls))
	}
	if d.BodyHTML != fixed.BodyHTML {
		t.Errorf("the repaired draft was not kept")
	}
	repair := m.calls[1].Prompt
	for _, want := range []string{"body_html: has 476 words, outside the 700 to 1300 words expected of a how_to (the target is about 1000)",
		"expand it by about 524 words",
		`mostly in the introduction, "Step-by-Step: Choosing Your Pair" and "Common Mistakes to Avoid" (the shortest)`,
		"<previous_answer>", "Return the whole document corrected"} {
		if !strings.Contains(repair, want) {
			t.Errorf("the repair request lacks %q:\n%s", want, repair[strings.Index(repair, "Your previous answer"):][:600])
		}
	}
	if len(d.Fixes) == 0 || !strings.Contains(d.Fixes[len(d.Fixes)-1].Problem, "expanded or trimmed it to 1036 words") {
		t.Errorf("fixes = %+v", d.Fixes)
	}
	if len(d.Warnings) != 0 {
		t.Errorf("warnings = %+v", d.Warnings)
	}
}

func TestDraftTooLongIsTrimmed(t *testing.T) {
	long := draftWithWords(900, 300, 100, 100, 600)
	m := answers(JSONResponse{Content: jsonOf(t, long)}, JSONResponse{Content: jsonOf(t, draftWithWords(300, 200, 100, 100, 300))})
	if _, _, err := newWriter(t, m).Draft(context.Background(), lengthInput()); err != nil {
		t.Fatalf("Draft: %v", err)
	}
	repair := m.calls[1].Prompt
	if !strings.Contains(repair, `trim it by about 1036 words, mostly in "Why Trail Shoes Differ from Road Shoes", "Common Mistakes to Avoid" and "Step-by-Step: Choosing Your Pair" (the longest)`) {
		t.Errorf("the repair request does not ask to trim the longest sections:\n%s", repair[strings.Index(repair, "Your previous answer"):][:500])
	}
}

// TestDraftLengthRepairFailing: a repair that stays out of the band, or
// that breaks the draft, leaves a draft with a warning rather than a
// failed stage or a third call.
func TestDraftLengthRepairFailing(t *testing.T) {
	short := draftWithWords(100, 40, 20, 30, 150)
	shortAgain := draftWithWords(120, 60, 20, 30, 150)
	broken := shortAgain
	broken.BodyHTML = "<p>No headings at all.</p>"
	for name, second := range map[string]Draft{"still short": shortAgain, "broken": broken} {
		t.Run(name, func(t *testing.T) {
			m := answers(JSONResponse{Content: jsonOf(t, short)}, JSONResponse{Content: jsonOf(t, second)})
			d, _, err := newWriter(t, m).Draft(context.Background(), lengthInput())
			if err != nil {
				t.Fatalf("Draft: %v", err)
			}
			if len(m.calls) != 2 {
				t.Errorf("calls = %d, want 2", len(m.calls))
			}
			want := shortAgain.BodyHTML
			if name == "broken" {
				want = short.BodyHTML
			}
			if d.BodyHTML != want {
				t.Errorf("kept body %q, want %q", d.BodyHTML[:80], want[:80])
			}
			if len(d.Warnings) == 0 || !strings.Contains(d.Warnings[len(d.Warnings)-1].Problem, "outside the 700 to 1300 words") {
				t.Errorf("warnings = %+v", d.Warnings)
			}
		})
	}
}

func TestDraftLengthWithinBandOrUntargeted(t *testing.T) {
	in := lengthInput()
	in.WordBand = 60 // 400 to 1600
	ok := draftWithWords(100, 100, 100, 100, 100)
	m := answers(JSONResponse{Content: jsonOf(t, ok)})
	if _, _, err := newWriter(t, m).Draft(context.Background(), in); err != nil || len(m.calls) != 1 {
		t.Errorf("within a wide band: err %v, %d calls", err, len(m.calls))
	}
	m = answers(JSONResponse{Content: jsonOf(t, ok)})
	if _, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput()); err != nil || len(m.calls) != 1 {
		t.Errorf("without a target: err %v, %d calls", err, len(m.calls))
	}
	if n := markup.WordCount(ok.BodyHTML); n < 400 {
		t.Fatalf("the sample has %d words", n)
	}
}

func TestParseWordBand(t *testing.T) {
	for in, want := range map[string]int{"": DefaultWordBand, "25": 25, " 40% ": 40, "100": 100} {
		if got, err := ParseWordBand(in); err != nil || got != want {
			t.Errorf("ParseWordBand(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"4", "101", "x", "-30", "12.5"} {
		if _, err := ParseWordBand(in); err == nil {
			t.Errorf("ParseWordBand(%q) accepted", in)
		}
	}
}
