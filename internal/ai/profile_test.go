package ai

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

// sampleProfile is a profile with every field set.
func sampleProfile() Profile {
	return Profile{
		Language:        "de-AT",
		Voice:           "Warm and direct, like a coach who has run every trail; short sentences.",
		Audience:        "Road runners trying their first trail race",
		PointOfView:     "second_person",
		Avoid:           []string{"guaranteed", "best ever", "medical claims"},
		WordTargets:     map[string]int{"how_to": 1200, "guide": 2000},
		FAQ:             true,
		TableOfContents: true,
		KeyTakeaways:    true,
	}
}

// TestGoldenWithProfile renders every stage's default prompts with a full
// profile: the language, voice, audience, point of view, words to avoid,
// length and the sections asked for reach each prompt as data.
func TestGoldenWithProfile(t *testing.T) {
	p := sampleProfile()
	cn := sampleClusterNameInput()
	cn.Profile = p
	ideas := sampleIdeasInput()
	ideas.Profile = p
	draft := sampleDraftInput()
	draft.Profile = p
	draft.FAQQuestions = []string{"are trail running shoes worth it", "can you wear trail shoes on the road"}
	img := sampleImagePromptInput()
	img.Profile = p
	cases := []struct {
		stage Stage
		input any
		want  []string // must be in the rendered prompts
	}{
		{StageClusterName, cn, []string{"Austrian German (de-AT)"}},
		{StageIdeas, ideas, []string{"Austrian German (de-AT)", "Voice and tone: Warm and direct", "Audience: Road runners",
			"addressing the reader", "guaranteed; best ever; medical claims", "guide 2000; how_to 1200;", "FAQ, key takeaways, table of contents,"}},
		{StageDraft, draft, []string{"Austrian German (de-AT)", "about 1200 words", "Length: about 1200 words.", "<aside>",
			"FAQ section", "can you wear trail shoes on the road", "table of contents", "medical claims"}},
		{StageImagePrompt, img, []string{"alt text in Austrian German (de-AT)", "guaranteed; best ever; medical claims"}},
	}
	for _, c := range cases {
		t.Run(string(c.stage), func(t *testing.T) {
			system, user, err := RenderPrompt(c.stage, c.input)
			if err != nil {
				t.Fatal(err)
			}
			got := "=== system ===\n" + system + "\n=== user ===\n" + user + "\n"
			checkGolden(t, filepath.Join("testdata", string(c.stage)+"_profile.golden"), got)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("the prompts do not contain %q", w)
				}
			}
			// Without a profile the prompts say none of it.
			plainSys, plainUser, err := RenderPrompt(c.stage, withoutProfile(c.input))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(plainSys+plainUser, "de-AT") || strings.Contains(plainSys+plainUser, "<profile>") {
				t.Errorf("the prompts without a profile mention it")
			}
		})
	}
}

func withoutProfile(in any) any {
	switch v := in.(type) {
	case ClusterNameInput:
		v.Profile = Profile{}
		return v
	case IdeasInput:
		v.Profile = Profile{}
		return v
	case DraftInput:
		v.Profile = Profile{}
		return v
	case ImagePromptInput:
		v.Profile = Profile{}
		return v
	}
	return in
}

// TestOverrideUsesProfile: a tenant's override reads the profile as a
// template value.
func TestOverrideUsesProfile(t *testing.T) {
	user := `Write "{{.Title}}" in {{.Profile.Language}} for {{.Profile.Audience}}, {{.WordTarget}} words{{if .Profile.FAQ}}, with a FAQ{{end}}.`
	if err := CheckPrompt(StageDraft, "You write articles.", user); err != nil {
		t.Fatalf("CheckPrompt: %v", err)
	}
	w, err := NewWriter(answers())
	if err != nil {
		t.Fatal(err)
	}
	w, err = w.WithPrompts(map[Stage]PromptPair{StageDraft: {System: "You write articles.", User: user}})
	if err != nil {
		t.Fatal(err)
	}
	in := sampleDraftInput()
	in.Profile = sampleProfile()
	_, got, err := renderPrompt(w.prompts, StageDraft, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `Write "How to Choose Trail Running Shoes for Your First Season" in de-AT for Road runners trying their first trail race, 1200 words, with a FAQ.`
	if got != want {
		t.Errorf("override rendered %q, want %q", got, want)
	}
}

func TestProfileSettingsNormalize(t *testing.T) {
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	ok := ProfileSettings{Language: s(" de-at "), Voice: s(" calm "), PointOfView: s("first_person_plural"),
		Avoid: &[]string{" cheap "}, WordTargets: map[string]int{"guide": 1500}, FAQ: b(true)}
	got, err := ok.Normalize()
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if *got.Language != "de-AT" || *got.Voice != "calm" || (*got.Avoid)[0] != "cheap" {
		t.Errorf("Normalize = %+v", got)
	}
	bad := []struct {
		in    ProfileSettings
		field string
	}{
		{ProfileSettings{Language: s("not a language")}, "language"},
		{ProfileSettings{Language: s("und")}, "language"},
		{ProfileSettings{Language: s(strings.Repeat("a", 40))}, "language"},
		{ProfileSettings{Voice: s(strings.Repeat("x", MaxVoiceLen+1))}, "voice"},
		{ProfileSettings{Audience: s("a\x00b")}, "audience"},
		{ProfileSettings{PointOfView: s("omniscient")}, "point_of_view"},
		{ProfileSettings{Avoid: &[]string{"a", ""}}, "avoid[1]"},
		{ProfileSettings{Avoid: &[]string{"Cheap", "cheap"}}, "avoid[1]"},
		{ProfileSettings{Avoid: &[]string{"a\nb"}}, "avoid[0]"},
		{ProfileSettings{WordTargets: map[string]int{"essay": 1000}}, "word_targets.essay"},
		{ProfileSettings{WordTargets: map[string]int{"guide": 50}}, "word_targets.guide"},
		{ProfileSettings{WordTargets: map[string]int{"post": MaxWordTarget + 1}}, "word_targets.post"},
	}
	for _, c := range bad {
		_, err := c.in.Normalize()
		var ve *errs.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 || ve.Problems[0].Field != c.field {
			t.Errorf("Normalize(%+v) = %v, want a problem with %s", c.in, err, c.field)
		}
	}
}

func TestEffectiveProfile(t *testing.T) {
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	tenant := ProfileSettings{Language: s("fr"), Voice: s("formal"), WordTargets: map[string]int{"guide": 1500, "post": 800},
		FAQ: b(true), Avoid: &[]string{"cheap"}}
	site := ProfileSettings{Language: s(""), WordTargets: map[string]int{"post": 600}, FAQ: b(false), KeyTakeaways: b(true)}
	got := EffectiveProfile(site, tenant)
	want := Profile{Language: "", Voice: "formal", Avoid: []string{"cheap"},
		WordTargets: map[string]int{"guide": 1500, "post": 600}, KeyTakeaways: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EffectiveProfile (-want +got):\n%s", diff)
	}
	if got := EffectiveProfile(ProfileSettings{}, ProfileSettings{}); got.Avoid == nil || got.WordTargets == nil {
		t.Errorf("the default profile has nil lists: %+v", got)
	}
}

func TestIsQuestion(t *testing.T) {
	for phrase, want := range map[string]bool{
		"how long do trail shoes last": true, "are trail shoes worth it": true, "trail shoes?": true,
		"Wie lange halten Laufschuhe": true, "trail running shoes": false, "how": false, "best shoes for how runners": false,
	} {
		if got := IsQuestion(phrase); got != want {
			t.Errorf("IsQuestion(%q) = %v, want %v", phrase, got, want)
		}
	}
}
