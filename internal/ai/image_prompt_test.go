package ai

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

// TestImagePrompt checks the image_prompt stage: a good answer is trimmed
// and returned, an alt text that is too long is repaired once, and a second
// bad answer is permanent.
func TestImagePrompt(t *testing.T) {
	good := ImagePrompt{Prompt: "  Editorial photograph of trail running shoes on a rocky path at dawn  ",
		AltText: "Trail running shoes on a rocky path"}
	m := answers(JSONResponse{Content: jsonOf(t, good), Usage: Usage{Model: "fake", PromptTokens: 10}})
	got, usage, err := newWriter(t, m).ImagePrompt(context.Background(), sampleImagePromptInput())
	if err != nil {
		t.Fatal(err)
	}
	want := ImagePrompt{Prompt: "Editorial photograph of trail running shoes on a rocky path at dawn", AltText: good.AltText,
		Inline: []InlineImagePrompt{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image prompt (-want +got):\n%s", diff)
	}
	if usage.PromptTokens != 10 || m.calls[0].Stage != StageImagePrompt || m.calls[0].SchemaName != "image_prompt" {
		t.Errorf("usage %+v, request stage %q schema %q", usage, m.calls[0].Stage, m.calls[0].SchemaName)
	}

	long := ImagePrompt{Prompt: good.Prompt, AltText: strings.Repeat("a", 126)}
	m = answers(JSONResponse{Content: jsonOf(t, long)}, JSONResponse{Content: jsonOf(t, good)})
	if _, _, err := newWriter(t, m).ImagePrompt(context.Background(), sampleImagePromptInput()); err != nil {
		t.Fatalf("repaired answer: %v", err)
	}
	if len(m.calls) != 2 || !strings.Contains(m.calls[1].Prompt, "alt_text: must be at most 125 characters") {
		t.Errorf("repair prompt %q", m.calls[len(m.calls)-1].Prompt)
	}

	short := ImagePrompt{Prompt: "a shoe", AltText: "x"}
	m = answers(JSONResponse{Content: jsonOf(t, short)}, JSONResponse{Content: jsonOf(t, short)})
	_, _, err = newWriter(t, m).ImagePrompt(context.Background(), sampleImagePromptInput())
	if !errs.IsPermanent(err) {
		t.Errorf("two bad answers: error %v, want permanent", err)
	}

	m = answers()
	if _, _, err := newWriter(t, m).ImagePrompt(context.Background(), ImagePromptInput{Title: " "}); err == nil || len(m.calls) != 0 {
		t.Errorf("empty title: error %v after %d calls, want an error before any call", err, len(m.calls))
	}
	for _, n := range []int{-1, MaxInlineImages + 1} {
		in := sampleImagePromptInput()
		in.InlineCount = n
		m = answers()
		_, _, err := newWriter(t, m).ImagePrompt(context.Background(), in)
		if fields := problemFields(t, err); len(fields) != 1 || fields[0] != "inline_count" || len(m.calls) != 0 {
			t.Errorf("inline count %d: error %v after %d calls, want inline_count refused before any call", n, err, len(m.calls))
		}
	}
}

// TestImagePromptInline checks the in-article images of the image_prompt
// stage: exactly the count asked for, each after a different one of the
// given headings (named loosely by the model, returned exactly and in
// article order); a bad answer is repaired once; a draft with fewer
// headings than asked gets one image per heading.
func TestImagePromptInline(t *testing.T) {
	ctx := context.Background()
	in := sampleImagePromptInput()
	in.InlineCount = 2
	feat := ImagePrompt{Prompt: "Editorial photograph of trail running shoes on a rocky path at dawn",
		AltText: "Trail running shoes on a rocky path"}
	answer := func(inline ...InlineImagePrompt) []byte {
		p := feat
		p.Inline = inline
		return jsonOf(t, p)
	}
	mistakes := InlineImagePrompt{Heading: " common mistakes  to AVOID", Prompt: "A runner slipping on wet rock in road shoes, overcast",
		AltText: "Road shoes slipping on wet rock"}
	why := InlineImagePrompt{Heading: "Why Trail Shoes Differ from Road Shoes",
		Prompt: "A trail shoe and a road shoe side by side, soles up", AltText: "A trail shoe next to a road shoe"}

	m := answers(JSONResponse{Content: answer(mistakes, why)})
	got, _, err := newWriter(t, m).ImagePrompt(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := feat
	wantMistakes := mistakes
	wantMistakes.Heading = "Common Mistakes to Avoid"
	want.Inline = []InlineImagePrompt{why, wantMistakes}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image prompt (-want +got):\n%s", diff)
	}
	req := m.calls[0]
	if req.MaxTokens != imagePromptMaxTokens+2*inlinePromptTokens || req.Input.(ImagePromptInput).InlineCount != 2 ||
		!strings.Contains(req.Prompt, "and 2 in-article images, each after a different section heading") ||
		!strings.Contains(req.System, "inline_images: exactly 2 in-article images") {
		t.Errorf("request: %d max tokens, input %+v, user prompt %q", req.MaxTokens, req.Input, req.Prompt)
	}

	// Wrong answers are repaired once, then permanent.
	unknown := InlineImagePrompt{Heading: "Socks", Prompt: why.Prompt, AltText: why.AltText}
	bad := []struct {
		name    string
		content []byte
		problem string
	}{
		{"too few", answer(why), "inline_images: want exactly 2 in-article images, got 1"},
		{"unknown heading", answer(why, unknown), `inline_images[1].heading: must be one of the section headings given, copied exactly; got "Socks"`},
		{"repeated heading", answer(why, why), "inline_images[1].heading: repeats the heading of inline_images[0]"},
		{"bad alt text", answer(why, InlineImagePrompt{Heading: mistakes.Heading, Prompt: mistakes.Prompt}),
			"inline_images[1].alt_text: must not be empty"},
		{"missing list", jsonOf(t, feat), "inline_images: want exactly 2"},
	}
	for _, b := range bad {
		m := answers(JSONResponse{Content: b.content}, JSONResponse{Content: answer(why, mistakes)})
		if _, _, err := newWriter(t, m).ImagePrompt(ctx, in); err != nil {
			t.Errorf("%s: repaired answer: %v", b.name, err)
		}
		if len(m.calls) != 2 || !strings.Contains(m.calls[1].Prompt, b.problem) {
			t.Errorf("%s: repair prompt %q does not say %q", b.name, m.calls[len(m.calls)-1].Prompt, b.problem)
		}
		m = answers(JSONResponse{Content: b.content}, JSONResponse{Content: b.content})
		if _, _, err := newWriter(t, m).ImagePrompt(ctx, in); !errs.IsPermanent(err) {
			t.Errorf("%s twice: error %v, want permanent", b.name, err)
		}
	}

	// More images than the answer needs are dropped, as for ideas.
	m = answers(JSONResponse{Content: answer(why, mistakes, unknown)})
	if got, _, err := newWriter(t, m).ImagePrompt(ctx, in); err != nil || len(got.Inline) != 2 {
		t.Errorf("three images for two: %d kept, error %v", len(got.Inline), err)
	}

	// Fewer (distinct) headings than asked: one image per heading.
	few := in
	few.Headings = []string{"Why Trail Shoes Differ from Road Shoes", " Why  Trail Shoes Differ from Road Shoes", ""}
	few.InlineCount = 3
	m = answers(JSONResponse{Content: answer(why)})
	got, _, err = newWriter(t, m).ImagePrompt(ctx, few)
	if err != nil || len(got.Inline) != 1 || got.Inline[0].Heading != why.Heading {
		t.Errorf("one heading for three images: %+v, %v", got.Inline, err)
	}
	if n := m.calls[0].Input.(ImagePromptInput).InlineCount; n != 1 || !strings.Contains(m.calls[0].Prompt, "and 1 in-article image,") {
		t.Errorf("asked for %d images with prompt %q, want 1", n, m.calls[0].Prompt)
	}
	none := in
	none.Headings = nil
	m = answers(JSONResponse{Content: answer()})
	if got, _, err := newWriter(t, m).ImagePrompt(ctx, none); err != nil || len(got.Inline) != 0 ||
		strings.Contains(m.calls[0].Prompt, "in-article") {
		t.Errorf("no headings: %+v, %v, prompt %q", got, err, m.calls[0].Prompt)
	}
}

// TestImagePromptOverrideWithoutInline checks that an override written
// before in-article images existed still renders, and that the stage adds
// the request for them to its user prompt; an override that uses
// .InlineCount is left as it is.
func TestImagePromptOverrideWithoutInline(t *testing.T) {
	in := sampleImagePromptInput()
	in.InlineCount = 1
	good := ImagePrompt{Prompt: "Editorial photograph of trail running shoes on a rocky path at dawn",
		AltText: "Trail running shoes on a rocky path", Inline: []InlineImagePrompt{{Heading: "Step 1: Know Your Terrain",
			Prompt: "A muddy forest trail next to a rocky ridge path", AltText: "A muddy trail and a rocky path"}}}
	old := PromptPair{System: "You brief an image model.", User: "Featured image for {{oneline .Title}}."}
	if err := CheckPrompt(StageImagePrompt, old.System, old.User); err != nil {
		t.Fatalf("an old override fails CheckPrompt: %v", err)
	}
	m := answers(JSONResponse{Content: jsonOf(t, good)}, JSONResponse{Content: jsonOf(t, good)})
	w, err := newWriter(t, m).WithPrompts(map[Stage]PromptPair{StageImagePrompt: old})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.ImagePrompt(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	user := m.calls[0].Prompt
	if !strings.HasPrefix(user, "Featured image for "+in.Title+".\n\nAlso describe 1 in-article images") ||
		!strings.Contains(user, "\n- Step 2: Check Grip & Lugs\n") {
		t.Errorf("user prompt of an old override:\n%s", user)
	}

	aware := PromptPair{System: "You brief an image model.", User: "{{.InlineCount}} inline for {{oneline .Title}}."}
	w, err = newWriter(t, m).WithPrompts(map[Stage]PromptPair{StageImagePrompt: aware})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.ImagePrompt(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if got := m.calls[1].Prompt; got != "1 inline for "+in.Title+"." {
		t.Errorf("user prompt of an override that uses .InlineCount: %q", got)
	}
}
