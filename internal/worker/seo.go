package worker

import (
	"slices"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress"
)

// seoKeys are the post meta keys of the SEO plugins: title, description,
// focus keyword.
var seoKeys = map[string][3]string{
	"yoast":    {"_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"},
	"rankmath": {"rank_math_title", "rank_math_description", "rank_math_focus_keyword"},
}

func seoFields(plugin string, d store.Draft) map[string]string {
	keys, ok := seoKeys[plugin]
	if !ok {
		return nil
	}
	return map[string]string{keys[0]: d.MetaTitle, keys[1]: d.MetaDescription, keys[2]: d.FocusKeyword}
}

// seoReport lists the SEO fields WordPress kept and those it dropped
// (unregistered meta keys are dropped silently).
type seoReport struct {
	Plugin  string   `json:"plugin"`
	Kept    []string `json:"kept"`
	Dropped []string `json:"dropped"`
}

func checkSEO(plugin string, sent wordpress.PostInput, got wordpress.Post) *seoReport {
	if len(sent.Meta) == 0 {
		return nil
	}
	dropped := got.DroppedMeta(sent)
	r := &seoReport{Plugin: plugin, Kept: []string{}, Dropped: []string{}}
	for _, key := range seoKeys[plugin] { // in the plugin's order
		if slices.Contains(dropped, key) {
			r.Dropped = append(r.Dropped, key)
		} else {
			r.Kept = append(r.Kept, key)
		}
	}
	return r
}
