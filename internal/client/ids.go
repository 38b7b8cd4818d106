package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// GetFunc makes a GET of path and decodes the answer into out: a Client's
// Do, or a caller's wrapper of it (with retries, say).
type GetFunc func(ctx context.Context, path string, out any) error

// IDs reads every page of a listing (`items` with `id`, paged by
// `next_after`) and returns the items' ids.
func IDs(ctx context.Context, get GetFunc, path string) ([]int64, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var ids []int64
	after := int64(0)
	for {
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			NextAfter *int64 `json:"next_after"`
		}
		if err := get(ctx, fmt.Sprintf("%s%slimit=500&after=%d", path, sep, after), &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextAfter == nil {
			return ids, nil
		}
		after = *page.NextAfter
	}
}

// Get is c's GetFunc.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}
