package links

import "testing"

func TestLinksTo(t *testing.T) {
	target := "https://Example.com/coffee/grinders/?utm_source=x"
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`<p>See <a href="http://example.com/coffee/grinders">grinders</a>.</p>`, true},
		{`<p>See <a href="/coffee/grinders/">grinders</a>.</p>`, true},
		{`<p>See <a href="https://example.com/coffee/grinders-2/">other</a>.</p>`, false},
		{`<p>https://example.com/coffee/grinders/ as text</p>`, false},
		{`<p><img src="https://example.com/coffee/grinders/"></p>`, false},
		{``, false},
	} {
		if got := LinksTo(tc.body, target); got != tc.want {
			t.Errorf("LinksTo(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestAddRelated(t *testing.T) {
	const marker = "<!-- presswork-draft-7 -->"
	for _, tc := range []struct {
		body, want string
	}{
		{"<p>Body.</p>\n" + marker, "<p>Body.</p>\n<p>Related: <a href=\"https://e.com/?p=9&amp;x=1\">Tips &amp; &lt;tricks&gt;</a></p>\n" + marker},
		{"<p>Body.</p>", "<p>Body.</p>\n<p>Related: <a href=\"https://e.com/?p=9&amp;x=1\">Tips &amp; &lt;tricks&gt;</a></p>"},
	} {
		got := AddRelated(tc.body, "https://e.com/?p=9&x=1", "Tips & <tricks>", marker)
		if got != tc.want {
			t.Errorf("AddRelated(%q) =\n%s\nwant\n%s", tc.body, got, tc.want)
		}
		if !LinksTo(got, "https://e.com/?p=9&x=1") {
			t.Errorf("AddRelated(%q) gave no link LinksTo finds: %s", tc.body, got)
		}
	}
}
