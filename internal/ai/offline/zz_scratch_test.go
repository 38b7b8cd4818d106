package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/ai"
)

func TestScratchPrint(t *testing.T) {
	w, _ := ai.NewWriter(NewTextModel())
	ctx := context.Background()
	kws := keywordSets()["trail shoes"]
	name, _, _ := w.NameCluster(ctx, ai.ClusterNameInput{SiteName: "Trail & Tarmac", Keywords: kws})
	fmt.Printf("%+v\n", name)
	ideas, _, err := w.Ideas(ctx, ai.IdeasInput{ClusterName: name.Name, Keywords: kws, Count: 6})
	if err != nil { t.Fatal(err) }
	b, _ := json.MarshalIndent(ideas, "", " ")
	fmt.Println(string(b))
	for _, i := range []int{0, 2} {
		idea := ideas[i]
		d, _, err := w.Draft(ctx, ai.DraftInput{SiteName: "Trail & Tarmac", Title: idea.Title, ContentType: idea.ContentType, TargetKeywords: idea.TargetKeywords, Outline: idea.Outline})
		if err != nil { t.Fatal(err) }
		fmt.Printf("%s\n%s\n%s\n%s (%d)\n%s (%d)\n%s\n%s\nWORDS %d\n\n", d.Title, d.Slug, d.Excerpt, d.MetaTitle, len([]rune(d.MetaTitle)), d.MetaDescription, len([]rune(d.MetaDescription)), d.FocusKeyword, d.BodyHTML, ai.WordCount(d.BodyHTML))
	}
}
