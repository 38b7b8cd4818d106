package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// storePanel records a panel of the tenant's own straight in the store
// (PUT /v1/easypanel would try to sign in to it).
func storePanel(t testing.TB, h *apptest.Harness, tenantID int64) {
	t.Helper()
	enc, err := h.App.Box.Seal([]byte(panelPassword), secret.PanelPasswordAD(tenantID))
	apptest.Must(t, err, "seal the panel password")
	_, err = h.App.Store.PutPanelCredentials(t.Context(), store.PanelCredentials{TenantID: tenantID,
		URL: "https://panel.example.com", Email: "ops@example.com", PasswordEnc: enc, Project: "sites"})
	apptest.Must(t, err, "store the tenant's panel")
}

// TestTenantCannotTakeAnotherTenantsDomain: on the operator's shared panel
// a domain belongs to one live deployment. Another tenant can neither
// deploy it (in any letter case) nor change its deployment to it; the
// refusal is a 409 naming domain that tells nothing of the holder, and the
// holder's deployment is unchanged. A tenant's own panel is its own
// business, and a destroyed deployment frees its domain.
func TestTenantCannotTakeAnotherTenantsDomain(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, operatorPanel()...)
	a := newFixtureLite(t, h, "domain-holder")
	b := newFixtureLite(t, h, "domain-taker")
	aSite := createSite(t, h, a.Key, "Holder blog", "pw")
	bSite := createSite(t, h, b.Key, "Taker blog", "pw")
	aPath, bPath := fmt.Sprintf("/v1/sites/%d/deployment", aSite), fmt.Sprintf("/v1/sites/%d/deployment", bSite)
	var held deployAnswer
	callJSON(t, h, a.Key, "POST", aPath, deployBody(imageSource("wordpress:6"), "blog.example.com")).must(t, 202, &held)
	if held.Deployment.Panel != "operator" {
		t.Fatalf("deployment on panel %q, want the operator's", held.Deployment.Panel)
	}
	before := getDeployment(t, h, a.Key, aSite)

	checkTaken := func(what string, ans answer) {
		t.Helper()
		refusedNaming(t, what, ans, 409, "domain")
		for _, leak := range []string{"domain-holder", "Holder", fmt.Sprintf("site %d", aSite),
			fmt.Sprintf("deployment %d", held.Deployment.ID), "tenant"} {
			if ans.Status == 409 && strings.Contains(strings.ReplaceAll(string(ans.Body), ans.problem(t, 409).RequestID, ""), leak) {
				t.Errorf("%s: the refusal shows %q of the holder: %s", what, leak, ans.Body)
			}
		}
	}
	for _, domain := range []string{"blog.example.com", "BLOG.Example.com", " blog.example.com "} {
		checkTaken("deploy "+domain, callJSON(t, h, b.Key, "POST", bPath, deployBody(imageSource("wordpress:6"), domain)))
	}
	call(t, h, b.Key, "GET", bPath, "", nil).problem(t, 404)

	// B deploys elsewhere, then tries to move onto A's domain.
	callJSON(t, h, b.Key, "POST", bPath, deployBody(imageSource("wordpress:6"), "taker.example.com")).must(t, 202, nil)
	settleDeployJobs(t, h, b.TenantID)
	checkTaken("domain change", callJSON(t, h, b.Key, "PATCH", bPath, map[string]string{"domain": "Blog.Example.com"}))
	if d := getDeployment(t, h, b.Key, bSite); d.Domain != "taker.example.com" {
		t.Errorf("B's domain %q after the refused change, want taker.example.com", d.Domain)
	}
	// A second site of the holder's own cannot share it either.
	aSecond := createSite(t, h, a.Key, "Holder second blog", "pw")
	checkTaken("the holder's second site", callJSON(t, h, a.Key, "POST", fmt.Sprintf("/v1/sites/%d/deployment", aSecond),
		deployBody(imageSource("wordpress:6"), "blog.example.com")))

	after := getDeployment(t, h, a.Key, aSite)
	if after.Domain != before.Domain || after.Status != before.Status || after.UpdatedAt != before.UpdatedAt {
		t.Errorf("the holder's deployment changed: %+v, was %+v", after.Deployment, before.Deployment)
	}

	// On its own panel a tenant may name any domain.
	c := newFixtureLite(t, h, "own-panel")
	storePanel(t, h, c.TenantID)
	cSite := createSite(t, h, c.Key, "Own panel blog", "pw")
	var own deployAnswer
	callJSON(t, h, c.Key, "POST", fmt.Sprintf("/v1/sites/%d/deployment", cSite),
		deployBody(imageSource("wordpress:6"), "blog.example.com")).must(t, 202, &own)
	if own.Deployment.Panel != "tenant" {
		t.Errorf("deployment on panel %q, want the tenant's", own.Deployment.Panel)
	}

	// Destroyed, the holder's deployment frees the domain; deploying it
	// again then finds it taken.
	settleDeployJobs(t, h, a.TenantID)
	apptest.Must(t, h.App.Store.SetDeploymentState(t.Context(), a.TenantID, held.Deployment.ID, "none", "destroyed", ""),
		"record the deployment destroyed")
	callJSON(t, h, b.Key, "PATCH", bPath, map[string]string{"domain": "blog.example.com"}).must(t, 202, nil)
	checkTaken("deploying the destroyed holder again",
		callJSON(t, h, a.Key, "POST", aPath, deployBody(imageSource("wordpress:6"), "blog.example.com")))
	if d := getDeployment(t, h, a.Key, aSite); d.Status != "destroyed" {
		t.Errorf("the refused re-deploy left the deployment %s, want destroyed", d.Status)
	}
}
