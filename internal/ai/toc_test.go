package ai

import (
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/markup"
)

func TestAddTableOfContents(t *testing.T) {
	body := `<p>Intro.</p><aside><p><strong>Key takeaways</strong></p><ul><li>A</li></ul></aside>` +
		`<h2>Why &amp; How</h2><p>a</p><h3>Step One</h3><p>b</p><h2 id="kept">Kept Id</h2><h2>Why &amp; How</h2><h2>Ни слова</h2>`
	got := addTableOfContents(body, "")
	want := `<p>Intro.</p><aside><p><strong>Key takeaways</strong></p><ul><li>A</li></ul></aside>` +
		`<nav><p><strong>Contents</strong></p><ul><li><a href="#why-and-how">Why &amp; How</a></li><li><a href="#kept">Kept Id</a></li>` +
		`<li><a href="#why-and-how-2">Why &amp; How</a></li><li><a href="#section-5">Ни слова</a></li></ul></nav>` + "\n" +
		`<h2 id="why-and-how">Why &amp; How</h2><p>a</p><h3 id="step-one">Step One</h3><p>b</p><h2 id="kept">Kept Id</h2>` +
		`<h2 id="why-and-how-2">Why &amp; How</h2><h2 id="section-5">Ни слова</h2>`
	if got != want {
		t.Errorf("addTableOfContents\n got %s\nwant %s", got, want)
	}
	// The sanitizer keeps it all: the anchors work once published.
	if s := markup.SanitizeHTML(got); s != got {
		t.Errorf("the sanitizer changed the table of contents:\n%s", s)
	}
	if got := addTableOfContents(got, ""); strings.Count(got, "<nav>") != 1 {
		t.Errorf("a second pass added another table")
	}
	if got := addTableOfContents(`<p>No headings.</p>`, "de"); got != `<p>No headings.</p>` {
		t.Errorf("a body without h2 changed: %s", got)
	}
	if got := addTableOfContents(`<h2>A</h2>`, "de-AT"); !strings.Contains(got, "<strong>Inhalt</strong>") {
		t.Errorf("German label missing: %s", got)
	}
	if got := addTableOfContents(`<h2>A</h2>`, "ja"); strings.Contains(got, "<strong>") {
		t.Errorf("a language without a label got one: %s", got)
	}
}

func TestDraftWithTableOfContents(t *testing.T) {
	in := sampleDraftInput()
	in.Profile.TableOfContents = true
	d, err := ParseDraft(in, jsonOf(t, sampleDraft()))
	if err != nil {
		t.Fatalf("ParseDraft: %v", err)
	}
	if !strings.Contains(d.BodyHTML, `<a href="#why-trail-shoes-differ-from-road-shoes">`) ||
		!strings.Contains(d.BodyHTML, `<h2 id="why-trail-shoes-differ-from-road-shoes">`) {
		t.Errorf("no table of contents:\n%s", d.BodyHTML)
	}
}
