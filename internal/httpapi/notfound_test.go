package httpapi_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/httpapi"
)

// TestNotFoundNamesWhat: a 404 says what was not found in the tenant, the
// same for an id that does not exist and one of another tenant.
func TestNotFoundNamesWhat(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "missing-a")
	b := newFixtureLite(t, h, "missing-b")
	other := apptest.SeedIdeas(t, h.App.Store, b.TenantID, 1, "theirs")
	for path, want := range map[string]string{
		"/v1/sites/987654":                                     "no site 987654 in this tenant",
		"/v1/sites/" + fmt.Sprint(other.Site.ID):               "no site " + fmt.Sprint(other.Site.ID) + " in this tenant",
		"/v1/clusters/" + fmt.Sprint(other.Cluster.ID):         "no cluster " + fmt.Sprint(other.Cluster.ID) + " in this tenant",
		"/v1/ideas/" + fmt.Sprint(other.Ideas[0].ID):           "no idea " + fmt.Sprint(other.Ideas[0].ID) + " in this tenant",
		"/v1/drafts/987654":                                    "no draft 987654 in this tenant",
		"/v1/jobs/no-such-job":                                 `no job with id "no-such-job"`,
		"/v1/batches/no-such-batch":                            `no batch with id "no-such-batch"`,
		"/v1/automation/rules/987654":                          "no rule with id 987654",
		"/v1/sites/" + fmt.Sprint(other.Site.ID) + "/clusters": "no site " + fmt.Sprint(other.Site.ID) + " in this tenant",
	} {
		ans := call(t, h, a.Key, "GET", path, "", nil)
		var p httpapi.Problem
		if err := json.Unmarshal(ans.Body, &p); err != nil || ans.Status != 404 || p.Detail != want {
			t.Errorf("GET %s: %d %s, want 404 saying %q", path, ans.Status, clipBody(ans.Body), want)
		}
	}
}
