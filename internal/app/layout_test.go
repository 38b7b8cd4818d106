package app_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path every package of the project starts with.
const module = "github.com/presswork/presswork/"

// goList runs go list with a template over patterns and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(strings.ReplaceAll(string(out), module, ""))
}

// TestAPIBinaryLinksNoWorkerCode holds docs/architecture.md's first rule:
// the API process links none of the code that talks to WordPress or
// Easypanel, clusters keywords or runs the stages.
func TestAPIBinaryLinksNoWorkerCode(t *testing.T) {
	forbidden := []string{"internal/wordpress", "internal/easypanel", "internal/cluster", "internal/worker",
		"internal/app/workerapp", "internal/ai/providers", "internal/ai/openai", "internal/ai/replicate"}
	deps := goList(t, "-deps", "../../cmd/api")
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("cmd/api links %s", d)
			}
		}
	}
}

// TestImportRules holds the other import rules of docs/architecture.md:
// who may import httpapi, and what the task contract, the store and the
// worker may import.
func TestImportRules(t *testing.T) {
	imports := map[string][]string{}
	for _, line := range goList(t, "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "../../...") {
		pkg, list, _ := strings.Cut(line, ":")
		imports[pkg] = strings.Split(list, ",")
	}
	for pkg, list := range imports {
		if slices.Contains(list, "internal/httpapi") && pkg != "internal/app/apiapp" && pkg != "internal/app/apptest" {
			t.Errorf("%s imports internal/httpapi: only the API's wiring may", pkg)
		}
	}
	mayNot := map[string][]string{
		"internal/tasks":  {"internal/store", "internal/jobs", "internal/worker", "internal/wordpress", "internal/easypanel", "internal/cluster"},
		"internal/store":  {"internal/tasks", "internal/jobs", "internal/worker", "internal/httpapi", "internal/ai"},
		"internal/worker": {"internal/httpapi", "internal/web", "internal/app"},
		"internal/jobs":   {"internal/worker", "internal/httpapi"},
	}
	for pkg, banned := range mayNot {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("package %s not found", pkg)
		}
		for _, b := range banned {
			if slices.Contains(imports[pkg], b) {
				t.Errorf("%s imports %s", pkg, b)
			}
		}
	}
}
