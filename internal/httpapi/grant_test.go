package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestOperatorGrantIdempotencyKey: a retried credit grant with the same
// Idempotency-Key grants once; without a key every call grants.
func TestOperatorGrantIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "granted") // 100 credits
	op := h.OperatorClient(t)
	path := fmt.Sprintf("/v1/admin/tenants/%d/credits", f.TenantID)
	var bal struct {
		Balance int64 `json:"balance"`
	}
	for range 3 {
		callJSON(t, h, op.Key, "POST", path, map[string]any{"amount": 25}, "Idempotency-Key", "grant-abc").must(t, 200, &bal)
		if bal.Balance != 125 {
			t.Fatalf("balance after a keyed grant = %d, want 125 every time", bal.Balance)
		}
	}
	callJSON(t, h, op.Key, "POST", path, map[string]any{"amount": 30}, "Idempotency-Key", "grant-abc").problem(t, 409)
	callJSON(t, h, op.Key, "POST", path, map[string]any{"amount": 25}, "Idempotency-Key", strings.Repeat("k", 201)).problem400(t)
	callJSON(t, h, op.Key, "POST", path, map[string]any{"amount": 1}).must(t, 200, &bal)
	callJSON(t, h, op.Key, "POST", path, map[string]any{"amount": 1}).must(t, 200, &bal)
	if bal.Balance != 127 {
		t.Errorf("balance after two unkeyed grants of 1 = %d, want 127", bal.Balance)
	}
	if c := getCredits(t, h, f.Key); c.Balance != 127 {
		t.Errorf("the tenant sees a balance of %d, want 127", c.Balance)
	}
}
