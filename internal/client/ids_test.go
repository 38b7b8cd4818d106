package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/client"
)

func TestIDsReadsEveryPage(t *testing.T) {
	var asked []string
	pages := map[string]string{
		"/v1/ideas?site_id=3&limit=500&after=0": `{"items":[{"id":1},{"id":2}],"next_after":2}`,
		"/v1/ideas?site_id=3&limit=500&after=2": `{"items":[{"id":5}]}`,
	}
	get := func(_ context.Context, path string, out any) error {
		asked = append(asked, path)
		page, ok := pages[path]
		if !ok {
			return fmt.Errorf("unexpected GET %s", path)
		}
		return json.Unmarshal([]byte(page), out)
	}
	ids, err := client.IDs(context.Background(), get, "/v1/ideas?site_id=3")
	if err != nil || !slices.Equal(ids, []int64{1, 2, 5}) || len(asked) != 2 {
		t.Fatalf("IDs = %v, %v after %v; want [1 2 5] in two pages", ids, err, asked)
	}
}
