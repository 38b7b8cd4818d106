package worker

import (
	"maps"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress"
)

func TestSEOFields(t *testing.T) {
	t.Parallel()
	d := store.Draft{MetaTitle: "Title", MetaDescription: "Desc", FocusKeyword: "grinder"}
	if got := seoFields("", d); got != nil {
		t.Errorf("no plugin: %v, want no fields", got)
	}
	want := map[string]string{"rank_math_title": "Title", "rank_math_description": "Desc",
		"rank_math_focus_keyword": "grinder"}
	if got := seoFields("rankmath", d); !maps.Equal(got, want) {
		t.Errorf("rankmath: %v, want %v", got, want)
	}
}

func TestCheckSEO(t *testing.T) {
	t.Parallel()
	yoast := seoFields("yoast", store.Draft{MetaTitle: "T", MetaDescription: "D", FocusKeyword: "k"})
	tests := []struct {
		name          string
		plugin        string
		sent          map[string]string
		kept          map[string]any
		want          bool
		keep, dropped []string
	}{
		{"nothing sent", "", nil, nil, false, nil, nil},
		{"all kept", "yoast", yoast, map[string]any{"_yoast_wpseo_title": "T", "_yoast_wpseo_metadesc": "D",
			"_yoast_wpseo_focuskw": "k"}, true,
			[]string{"_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"}, []string{}},
		{"unregistered keys dropped", "yoast", yoast, map[string]any{"_yoast_wpseo_metadesc": "D",
			"_yoast_wpseo_focuskw": "changed"}, true,
			[]string{"_yoast_wpseo_metadesc"}, []string{"_yoast_wpseo_title", "_yoast_wpseo_focuskw"}},
	}
	for _, tt := range tests {
		r := checkSEO(tt.plugin, wordpress.PostInput{Meta: tt.sent}, wordpress.Post{Meta: tt.kept})
		if (r != nil) != tt.want {
			t.Fatalf("%s: report %+v, want one: %v", tt.name, r, tt.want)
		}
		if r != nil && (r.Plugin != tt.plugin || !slices.Equal(r.Kept, tt.keep) || !slices.Equal(r.Dropped, tt.dropped)) {
			t.Errorf("%s: report %+v, want kept %v and dropped %v", tt.name, r, tt.keep, tt.dropped)
		}
	}
}
