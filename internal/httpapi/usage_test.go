package httpapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/store"
)

func TestUsageReport(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixture(t, h, "usage", 100)
	other := newFixtureLite(t, h, "usageother")

	var r httpapi.UsageReport
	call(t, h, f.Key, "GET", "/v1/usage", "", nil).must(t, 200, &r)
	today := time.Now().UTC().Format(time.DateOnly)
	if r.To != today || r.From != time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly) {
		t.Errorf("default range %s..%s, want the 30 days up to %s", r.From, r.To, today)
	}
	// The fixture finished one clustering, one ideas and one draft job.
	stages := map[string]store.UsageRow{}
	for _, row := range r.ByStage {
		stages[row.Stage] = row
	}
	for _, stage := range []string{"keywords:cluster", "ideas:generate", "draft:write"} {
		if stages[stage].Jobs != 1 || stages[stage].Credits <= 0 {
			t.Errorf("stage %s: %+v, want 1 job with credits charged", stage, stages[stage])
		}
	}
	var wantCredits int64
	jobs, err := h.App.Store.ListJobs(t.Context(), f.tenantID(), store.JobFilter{State: "succeeded"}, "", 100)
	apptest.Must(t, err, "list jobs")
	for _, j := range jobs {
		wantCredits += j.CreditsCharged
	}
	if r.Total.Jobs != 3 || r.Total.Credits != wantCredits {
		t.Errorf("total %+v, want 3 jobs and %d credits", r.Total, wantCredits)
	}
	if len(r.Days) != 3 || r.Days[0].Day != today || r.Days[0].Model != "test" {
		t.Errorf("days %+v, want three rows of today with model test", r.Days)
	}

	// Another tenant sees only its own (nothing); an operator sees anyone's.
	var empty httpapi.UsageReport
	call(t, h, other.Key, "GET", "/v1/usage", "", nil).must(t, 200, &empty)
	if empty.Total.Jobs != 0 || len(empty.Days) != 0 {
		t.Errorf("another tenant's usage %+v, want none", empty)
	}
	var op httpapi.UsageReport
	call(t, h, h.OperatorClient(t).Key, "GET", fmt.Sprintf("/v1/admin/tenants/%d/usage", f.tenantID()), "", nil).must(t, 200, &op)
	if op.Total != r.Total {
		t.Errorf("operator's report %+v, want the tenant's %+v", op.Total, r.Total)
	}
	call(t, h, h.OperatorClient(t).Key, "GET", "/v1/admin/tenants/999999/usage", "", nil).problem(t, 404)

	// A range in the past has nothing.
	var past httpapi.UsageReport
	call(t, h, f.Key, "GET", "/v1/usage?from=2020-01-01&to=2020-01-31", "", nil).must(t, 200, &past)
	if past.Total.Jobs != 0 {
		t.Errorf("usage in January 2020: %+v", past.Total)
	}
}

func TestUsageReportBadRange(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "usagebad")
	for query, field := range map[string]string{
		"from=yesterday":                "from",
		"to=2026-13-01":                 "to",
		"from=2026-02-01&to=2026-01-01": "from",
		"from=2020-01-01&to=2026-01-01": "from",
		"from=%FF%00":                   "from",
	} {
		p := call(t, h, f.Key, "GET", "/v1/usage?"+query, "", nil).problem(t, 400)
		if !slices.Contains(fields(p), field) {
			t.Errorf("?%s: problem fields %v, want %q", query, fields(p), field)
		}
	}
}
