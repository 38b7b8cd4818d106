package links

import "testing"

func TestCount(t *testing.T) {
	body := `<p><a href="/a/">a</a> <a href="https://blog.example/b">b</a> <a href="http://blog.example/c">c</a>
<a href="https://other.example/">x</a> <a href="#top">top</a> <a href="mailto:x@blog.example">m</a></p>`
	if got := Count(body, "https://blog.example"); got != 3 {
		t.Errorf("Count = %d, want 3 (relative, https and http on the site's host)", got)
	}
	if got := Count(body, "::"); got != 0 {
		t.Errorf("Count with an unreadable site URL = %d, want 0", got)
	}
}
