package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestCreditsLowAlert: with an alert set, the reservation that takes the
// balance below it records one credits.low event; charges below it record
// none; a grant above it arms it again; bad input is a 400 naming the field.
func TestCreditsLowAlert(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, c := h.Tenant(t, "low-credits", 0)
	seeded := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 7, "low")
	var costs struct {
		Alert int64 `json:"low_balance_alert"`
		Costs struct {
			Draft int64 `json:"draft"`
		} `json:"costs"`
	}
	call(t, h, tk.OwnerKey, "GET", "/v1/credits", "", nil).must(t, 200, &costs)
	if costs.Alert != 0 {
		t.Fatalf("a new tenant's alert is %d, want 0 (off)", costs.Alert)
	}
	draft := costs.Costs.Draft
	op := h.OperatorClient(t)
	grant := func(amount int64) {
		callJSON(t, h, op.Key, "POST", fmt.Sprintf("/v1/admin/tenants/%d/credits", tk.Tenant.ID),
			map[string]any{"amount": amount}).must(t, 200, nil)
	}
	grant(6 * draft)

	for _, body := range []string{`{}`, `{"low_balance":-1}`, `{"low_balance":"ten"}`, `{"low_balance":1000000001}`} {
		a := call(t, h, tk.OwnerKey, "PUT", "/v1/credits/alert", "application/json", []byte(body))
		a.problem(t, http.StatusBadRequest)
		if !strings.Contains(string(a.Body), "low_balance") {
			t.Errorf("PUT /v1/credits/alert %s: %s, want the field low_balance named", body, a.Body)
		}
	}
	threshold := 4 * draft
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/credits/alert", map[string]any{"low_balance": threshold}).must(t, 200, &costs)
	if costs.Alert != threshold {
		t.Fatalf("alert after PUT: %d, want %d", costs.Alert, threshold)
	}

	ideas := seeded.Ideas
	apptest.DraftJobs(t, c, ideas[0])           // 6 -> 5 drafts' worth: above
	apptest.DraftJobs(t, c, ideas[1], ideas[2]) // 5 -> 3: crosses
	apptest.DraftJobs(t, c, ideas[3])           // 3 -> 2: already below
	lows := creditsLowEvents(t, h, tk.OwnerKey)
	if len(lows) != 1 || lows[0].Balance != 3*draft || lows[0].Threshold != threshold || lows[0].Change != -2*draft {
		t.Fatalf("credits.low events after crossing once: %+v, want one at balance %d, threshold %d, change %d",
			lows, 3*draft, threshold, -2*draft)
	}

	grant(3 * draft)                            // 2 -> 5: above again
	apptest.DraftJobs(t, c, ideas[4])           // 5 -> 4: at the threshold is not below it
	apptest.DraftJobs(t, c, ideas[5], ideas[6]) // 4 -> 2: crosses again
	if lows = creditsLowEvents(t, h, tk.OwnerKey); len(lows) != 2 || lows[1].Balance != 2*draft {
		t.Fatalf("credits.low events after a grant and a second crossing: %+v, want a second at balance %d", lows, 2*draft)
	}
}

type creditsLow struct {
	Balance   int64 `json:"balance"`
	Threshold int64 `json:"threshold"`
	Change    int64 `json:"change"`
}

// creditsLowEvents reads the tenant's credits.low events, oldest first.
func creditsLowEvents(t *testing.T, h *apptest.Harness, key string) []creditsLow {
	t.Helper()
	var page struct {
		Items []store.Event `json:"items"`
	}
	call(t, h, key, "GET", "/v1/events?limit=500", "", nil).must(t, 200, &page)
	var lows []creditsLow
	for _, e := range page.Items {
		if e.Type != store.EventCreditsLow {
			continue
		}
		var l creditsLow
		if err := json.Unmarshal(e.Data, &l); err != nil {
			t.Fatalf("credits.low data %s: %v", e.Data, err)
		}
		lows = append(lows, l)
	}
	return lows
}
