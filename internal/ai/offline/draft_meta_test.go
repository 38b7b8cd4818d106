package offline

import (
	"strings"
	"testing"
)

func TestMakeSlug(t *testing.T) {
	if got := makeSlug("ランニングシューズ", "選び方"); !strings.HasPrefix(got, "article-") || len(got) != len("article-")+8 {
		t.Errorf("makeSlug of non-Latin text = %q", got)
	}
}
