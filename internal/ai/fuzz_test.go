package ai_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/presswork/presswork/internal/ai"
)

// sanitizedTags and sanitizedAttrs are what SanitizeHTML may leave (rel
// is the nofollow bluemonday adds to fully qualified links).
var (
	sanitizedTags = map[string]bool{"h2": true, "h3": true, "h4": true, "p": true, "br": true, "ul": true, "ol": true,
		"li": true, "strong": true, "em": true, "b": true, "i": true, "blockquote": true, "a": true, "table": true,
		"caption": true, "thead": true, "tbody": true, "tfoot": true, "tr": true, "th": true, "td": true}
	sanitizedAttrs = map[string]bool{"href": true, "rel": true, "colspan": true, "rowspan": true, "scope": true}
)

// checkSanitized fails unless out, read as HTML, has only allowed elements
// and attributes, no event handler and no URL but http, https, mailto or
// a relative one.
func checkSanitized(t *testing.T, in, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			continue
		}
		tok := z.Token()
		if !sanitizedTags[tok.Data] {
			t.Fatalf("SanitizeHTML(%q) = %q keeps <%s>", in, out, tok.Data)
		}
		for _, a := range tok.Attr {
			if !sanitizedAttrs[a.Key] || strings.HasPrefix(a.Key, "on") {
				t.Fatalf("SanitizeHTML(%q) = %q keeps the attribute %s on <%s>", in, out, a.Key, tok.Data)
			}
			if a.Key == "href" {
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1 // browsers skip these inside a scheme
					}
					return r
				}, a.Val))
				if scheme, _, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(scheme, "/?#") &&
					scheme != "http" && scheme != "https" && scheme != "mailto" {
					t.Fatalf("SanitizeHTML(%q) = %q keeps a %s: URL", in, out, scheme)
				}
			}
		}
	}
}

func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range []string{
		"<h2>Title</h2><p>Some <strong>bold</strong> text &amp; more.</p>",
		`<script>alert(1)</script><p onclick="x()">hi</p>`,
		`<a href="javascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a><a href="java&#x09;script:x">z</a>`,
		`<a href="https://example.com/?q=1&x=<y>">link</a><a href="/rel">r</a><a href="mailto:a@b.c">m</a>`,
		`<img src=x onerror=alert(1)><svg onload=alert(1)><iframe src="data:text/html,x"></iframe>`,
		`<table><tr><th scope="col" onmouseover="x">h</th><td colspan="2" rowspan="x">d</td></tr></table>`,
		`<style>p{}</style><p style="color:red">s</p><!-- comment --><![CDATA[x]]>`,
		`<p>unclosed <b>bold <i>italic</p></b>`,
		"<<script>script>alert(1)<</script>/script>",
		`<a href="data:text/html;base64,PHNjcmlwdD4=">d</a><a href="vbscript:x">v</a>`,
		"\x00<p>\xff\xfe</p>",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := ai.SanitizeHTML(in)
		checkSanitized(t, in, out)
		if again := ai.SanitizeHTML(out); again != out {
			t.Fatalf("SanitizeHTML is not stable:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
	})
}

// FuzzParseModelOutputs feeds arbitrary model answers to the parsers of
// the cluster name, ideas and image prompt stages (drafts: FuzzValidateDraft
// in internal/ai/offline): they never panic, and what they accept passes
// the stage's validation.
func FuzzParseModelOutputs(f *testing.F) {
	for _, s := range []struct {
		stage uint8
		data  string
	}{
		{0, `{"name":"Trail Shoes","description":"Shoes for running off road."}`},
		{0, `{"name":"","description":"x","extra":1}`},
		{0, `{"name":"` + strings.Repeat("n", 300) + `","description":"d"}`},
		{1, `{"ideas":[{"title":"How to Choose Trail Shoes","content_type":"how_to","target_keywords":["trail shoes"],` +
			`"outline":[{"level":2,"text":"Grip"},{"level":3,"text":"Lugs"},{"level":2,"text":"Fit"}]}]}`},
		{1, `{"ideas":[{"title":"Existing Title","content_type":"listicle","target_keywords":[],"outline":[]}]}`},
		{1, `{"ideas":null}`},
		{2, `{"prompt":"A photograph of trail running shoes on a rocky path","alt_text":"Trail shoes on rocks",` +
			`"inline_images":[{"heading":"Grip","prompt":"Close-up of a shoe's lugs in the mud","alt_text":"Shoe lugs"}]}`},
		{2, `{"prompt":"short","alt_text":"","inline_images":[{"heading":"Nowhere","prompt":"p","alt_text":"a"}]}`},
		{2, "```json\n{}\n```"},
		{3, `null`}, {3, `[]`}, {3, "\xff"}, {3, `{"a":` + strings.Repeat("[", 1000)},
	} {
		f.Add(s.stage, []byte(s.data))
	}
	kws := []ai.KeywordInfo{{Phrase: "trail shoes"}, {Phrase: "trail running shoes"}}
	ideasIn := ai.IdeasInput{ClusterName: "Trail Shoes", Keywords: kws, Count: 1, ExistingTitles: []string{"Existing Title"}}
	imageIn := ai.ImagePromptInput{Title: "How to Choose Trail Shoes", FocusKeyword: "trail shoes",
		Headings: []string{"Grip", "Fit", "Care"}, InlineCount: 1}
	f.Fuzz(func(t *testing.T, stage uint8, data []byte) {
		switch stage % 3 {
		case 0:
			c, err := ai.ParseClusterName(data)
			if err != nil {
				return
			}
			if err := ai.ValidateClusterName(c); err != nil {
				t.Fatalf("ParseClusterName accepted %q, which ValidateClusterName rejects: %v", data, err)
			}
		case 1:
			ideas, err := ai.ParseIdeas(ideasIn, data)
			if err != nil {
				return
			}
			if err := ai.ValidateIdeas(ideasIn, ideas); err != nil {
				t.Fatalf("ParseIdeas accepted %q, which ValidateIdeas rejects: %v", data, err)
			}
		case 2:
			p, err := ai.ParseImagePrompt(imageIn, data)
			if err != nil {
				return
			}
			if err := ai.ValidateImagePrompt(imageIn, p); err != nil {
				t.Fatalf("ParseImagePrompt accepted %q, which ValidateImagePrompt rejects: %v", data, err)
			}
		}
	})
}
