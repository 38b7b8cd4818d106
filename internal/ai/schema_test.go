package ai

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSchemasAreStrict checks what strict structured outputs require: every
// object lists all its properties as required and forbids others, with no
// $refs left.
func TestSchemasAreStrict(t *testing.T) {
	for _, stage := range []Stage{StageClusterName, StageIdeas, StageDraft} {
		raw, err := Schema(stage)
		if err != nil {
			t.Fatal(err)
		}
		var root map[string]any
		if err := json.Unmarshal(raw, &root); err != nil {
			t.Fatal(err)
		}
		var walk func(path string, n map[string]any)
		walk = func(path string, n map[string]any) {
			if _, ok := n["$ref"]; ok {
				t.Errorf("%s %s: $ref left", stage, path)
			}
			if _, ok := n["$defs"]; ok {
				t.Errorf("%s %s: $defs left", stage, path)
			}
			if items, ok := n["items"].(map[string]any); ok {
				walk(path+"[]", items)
			}
			if n["type"] != "object" {
				return
			}
			if n["additionalProperties"] != false {
				t.Errorf("%s %s: additionalProperties = %v", stage, path, n["additionalProperties"])
			}
			props, _ := n["properties"].(map[string]any)
			var names, required []string
			for name, p := range props {
				names = append(names, name)
				walk(path+"."+name, p.(map[string]any))
			}
			for _, r := range n["required"].([]any) {
				required = append(required, r.(string))
			}
			sort.Strings(names)
			sort.Strings(required)
			if diff := cmp.Diff(names, required); diff != "" || len(names) == 0 {
				t.Errorf("%s %s: required (-properties +required):\n%s", stage, path, diff)
			}
		}
		walk("$", root)
	}
}

func TestGolden(t *testing.T) {
	inline := sampleImagePromptInput()
	inline.InlineCount = 2
	cases := []struct {
		stage Stage
		input any
		name  string // of the prompt's golden file; the stage's if empty
	}{
		{StageClusterName, sampleClusterNameInput(), ""},
		{StageIdeas, sampleIdeasInput(), ""},
		{StageDraft, sampleDraftInput(), ""},
		{StageImagePrompt, sampleImagePromptInput(), ""},
		{StageImagePrompt, inline, "image_prompt_inline"},
	}
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = string(c.stage)
		}
		t.Run(name, func(t *testing.T) {
			system, user, err := RenderPrompt(c.stage, c.input)
			if err != nil {
				t.Fatal(err)
			}
			got := "=== system ===\n" + system + "\n=== user ===\n" + user + "\n"
			checkGolden(t, filepath.Join("testdata", name+".golden"), got)

			schema, err := Schema(c.stage)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, schema, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			checkGolden(t, filepath.Join("testdata", string(c.stage)+".schema.golden"), pretty.String())
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/ai -run Golden -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
