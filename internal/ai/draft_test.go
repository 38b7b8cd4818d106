package ai

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDraftIsSanitized(t *testing.T) {
	d := sampleDraft()
	d.BodyHTML = `<script>alert(1)</script><p onclick="x()">Hi <a href="javascript:alert(1)">x</a> <a href="/ok">ok</a></p>` + d.BodyHTML
	m := answers(JSONResponse{Content: jsonOf(t, d)})
	got, _, err := newWriter(t, m).Draft(context.Background(), sampleDraftInput())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"script", "alert", "onclick", "javascript"} {
		if strings.Contains(got.BodyHTML, bad) {
			t.Errorf("body still contains %q:\n%s", bad, got.BodyHTML)
		}
	}
	if !strings.Contains(got.BodyHTML, `<a href="/ok">ok</a>`) {
		t.Errorf("body lost a safe link:\n%s", got.BodyHTML)
	}
}

func TestValidateDraft(t *testing.T) {
	in := sampleDraftInput()
	mod := func(f func(d *Draft)) Draft {
		d := sampleDraft()
		f(&d)
		return d
	}
	tests := []struct {
		name  string
		draft Draft
		want  []string
	}{
		{"ok", sampleDraft(), nil},
		{"empty", Draft{}, []string{"title", "slug", "excerpt", "meta_title", "meta_description", "focus_keyword", "body_html"}},
		{"short title", mod(func(d *Draft) { d.Title = "Trail" }), []string{"title"}},
		{"slug upper", mod(func(d *Draft) { d.Slug = "Trail-Shoes" }), []string{"slug"}},
		{"slug double hyphen", mod(func(d *Draft) { d.Slug = "trail--shoes" }), []string{"slug"}},
		{"slug trailing hyphen", mod(func(d *Draft) { d.Slug = "trail-shoes-" }), []string{"slug"}},
		{"slug non-ascii", mod(func(d *Draft) { d.Slug = "trail-schuhé" }), []string{"slug"}},
		{"slug 80", mod(func(d *Draft) { d.Slug = strings.Repeat("a", 80) }), nil},
		{"slug 81", mod(func(d *Draft) { d.Slug = strings.Repeat("a", 81) }), []string{"slug"}},
		{"long excerpt", mod(func(d *Draft) { d.Excerpt = strings.Repeat("a", 301) }), []string{"excerpt"}},
		{"meta title 60 runes", mod(func(d *Draft) { d.MetaTitle = strings.Repeat("ö", 60) }), nil},
		{"meta title 61 runes", mod(func(d *Draft) { d.MetaTitle = strings.Repeat("ö", 61) }), []string{"meta_title"}},
		{"meta description short", mod(func(d *Draft) { d.MetaDescription = strings.Repeat("a", 49) }), []string{"meta_description"}},
		{"meta description long", mod(func(d *Draft) { d.MetaDescription = strings.Repeat("a", 161) }), []string{"meta_description"}},
		{"no focus keyword", mod(func(d *Draft) { d.FocusKeyword = " " }), []string{"focus_keyword"}},
		{"missing heading", mod(func(d *Draft) {
			d.BodyHTML = strings.Replace(d.BodyHTML, "<h2>Common Mistakes to Avoid</h2>", "", 1)
		}), []string{"body_html"}},
		{"wrong level", mod(func(d *Draft) {
			d.BodyHTML = strings.Replace(d.BodyHTML, "<h3>Step 1: Know Your Terrain</h3>", "<h2>Step 1: Know Your Terrain</h2>", 1)
		}), []string{"body_html"}},
		{"out of order", mod(func(d *Draft) {
			d.BodyHTML = strings.Replace(d.BodyHTML, "<h2>Why Trail Shoes Differ from Road Shoes</h2>", "", 1) +
				"<h2>Why Trail Shoes Differ from Road Shoes</h2>"
		}), []string{"body_html"}},
		{"different text", mod(func(d *Draft) {
			d.BodyHTML = strings.Replace(d.BodyHTML, "Know Your Terrain", "Know the Terrain", 1)
		}), []string{"body_html"}},
		{"inline markup, entities and whitespace", mod(func(d *Draft) {
			d.BodyHTML = strings.Replace(d.BodyHTML, "<h3>Step 2: Check Grip &amp; Lugs</h3>",
				"<h3>\n  Step 2:  <em>Check</em> Grip &#38; Lugs </h3>", 1)
		}), nil},
		{"extra headings are fine", mod(func(d *Draft) {
			d.BodyHTML = "<h2>Extra</h2>" + d.BodyHTML + "<h2>Final Thoughts</h2><h4>More</h4>"
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemFields(t, ValidateDraft(in, tt.draft))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateDraftEscapedOutlineText(t *testing.T) {
	// An outline written with entities matches the unescaped heading, and a
	// literal "&amp;" in the outline matches a heading that shows "&amp;".
	in := DraftInput{Outline: []Heading{{Level: 2, Text: "Tips &amp; Tricks"}, {Level: 2, Text: "A <b> tag"}}}
	d := sampleDraft()
	d.BodyHTML = "<h2>Tips &amp; Tricks</h2><p>x</p><h2>A &lt;b&gt; tag</h2>"
	if err := ValidateDraft(in, d); err != nil {
		t.Error(err)
	}
	d.BodyHTML = "<h2>Tips &amp;amp; Tricks</h2><p>x</p><h2>A &lt;b&gt; tag</h2>"
	if err := ValidateDraft(in, d); err != nil {
		t.Error(err)
	}
}
