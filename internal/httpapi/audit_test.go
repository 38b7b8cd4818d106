package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

type auditPage struct {
	Items     []store.AuditEntry `json:"items"`
	NextAfter *int64             `json:"next_after"`
}

// auditLog reads a whole audit log through path (paged by 3), checking
// that it comes newest first.
func auditLog(t *testing.T, h *apptest.Harness, key, path string) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	after := ""
	for range 100 {
		var p auditPage
		call(t, h, key, "GET", path+sep+"limit=3"+after, "", nil).must(t, 200, &p)
		all = append(all, p.Items...)
		if p.NextAfter == nil {
			break
		}
		after = fmt.Sprintf("&after=%d", *p.NextAfter)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("%s: entry %d (id %d) after id %d: not newest first", path, i, all[i].ID, all[i-1].ID)
		}
	}
	return all
}

func actions(entries []store.AuditEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Actor+" "+e.Action)
	}
	return out
}

// TestAuditLog: every sensitive action leaves an entry the tenant's owner
// reads at GET /v1/audit (the operator's actions on the tenant included),
// no other role may read it, another tenant never sees it, and operators
// read everyone's at GET /v1/admin/audit.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "audit-alpha")
	b := newFixtureLite(t, h, "audit-beta")
	op := h.OperatorClient(t)

	// Keys created and revoked.
	keys := map[string]string{}
	for _, role := range []string{"admin", "editor", "viewer", "bot"} {
		var k struct {
			ID  int64  `json:"id"`
			Key string `json:"key"`
		}
		callJSON(t, h, a.Key, "POST", "/v1/api-keys", map[string]string{"name": role + " key", "role": role}).must(t, 201, &k)
		keys[role] = k.Key
		if role == "bot" {
			callJSON(t, h, a.Key, "DELETE", fmt.Sprintf("/v1/api-keys/%d", k.ID), nil).must(t, 200, nil)
			delete(keys, "bot")
			callJSON(t, h, a.Key, "POST", "/v1/api-keys", map[string]string{"name": "bot key 2", "role": "bot"}).must(t, 201, &k)
			keys["bot"] = k.Key
		}
	}
	// Sites and credentials changed.
	siteID := createSite(t, h, a.Key, "audit blog", "audit site password")
	callJSON(t, h, keys["admin"], "PATCH", fmt.Sprintf("/v1/sites/%d", siteID),
		map[string]string{"application_password": "another site password"}).must(t, 200, nil)
	spare := createSite(t, h, a.Key, "spare blog", "spare password")
	callJSON(t, h, a.Key, "DELETE", fmt.Sprintf("/v1/sites/%d", spare), nil).must(t, 204, nil)
	callJSON(t, h, a.Key, "PUT", "/v1/ai-settings/openai", map[string]string{"api_key": "sk-audit-secret-key-1234"}).must(t, 200, nil)
	callJSON(t, h, a.Key, "DELETE", "/v1/ai-settings/openai", nil).must(t, 200, nil)
	setPanel(t, h, a.Key)
	callJSON(t, h, a.Key, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 100}).must(t, 200, nil)
	// Rules changed.
	ruleID := createRule(t, h, a.Key, siteID, "audit rule", "@every 6h", "ideas")
	callJSON(t, h, keys["editor"], "PATCH", fmt.Sprintf("/v1/automation/rules/%d", ruleID), map[string]any{"enabled": false}).must(t, 200, nil)
	callJSON(t, h, a.Key, "DELETE", fmt.Sprintf("/v1/automation/rules/%d", ruleID), nil).must(t, 204, nil)
	// A deploy.
	deploySample(t, h, a.Key, siteID)
	// The operator: credits granted, the tenant suspended and restored.
	callJSON(t, h, op.Key, "POST", fmt.Sprintf("/v1/admin/tenants/%d/credits", a.TenantID), map[string]any{"amount": 25}).must(t, 200, nil)
	callJSON(t, h, op.Key, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d", a.TenantID), map[string]string{"status": "suspended"}).must(t, 200, nil)
	// A suspended tenant's owner still reads its log.
	call(t, h, a.Key, "GET", "/v1/audit", "", nil).must(t, 200, nil)
	callJSON(t, h, op.Key, "PATCH", fmt.Sprintf("/v1/admin/tenants/%d", a.TenantID), map[string]string{"status": "active"}).must(t, 200, nil)
	// B does something of its own.
	createSite(t, h, b.Key, "beta blog", "beta password")

	got := auditLog(t, h, a.Key, "/v1/audit")
	for _, want := range []string{
		"owner api_key.create", "owner api_key.revoke", "owner site.create", "admin site.update", "owner site.delete",
		"owner ai_settings.openai.set", "owner ai_settings.openai.clear", "owner easypanel.set", "owner batch_settings.set",
		"owner automation_rule.create", "editor automation_rule.update", "owner automation_rule.delete",
		"owner deployment.deploy", "operator credits.grant", "operator tenant.suspended", "operator tenant.active",
	} {
		if !slices.Contains(actions(got), want) {
			t.Errorf("the audit log lacks %q; it has %v", want, actions(got))
		}
	}
	for _, e := range got {
		if e.TenantID == nil || *e.TenantID != a.TenantID {
			t.Errorf("A's log shows an entry of tenant %v: %+v", e.TenantID, e)
		}
		for _, secret := range []string{"audit site password", "another site password", "sk-audit-secret-key-1234", panelPassword, "beta"} {
			if strings.Contains(e.Target, secret) || strings.Contains(e.Action, secret) {
				t.Errorf("entry %+v shows %q", e, secret)
			}
		}
	}
	if got[0].Action != "tenant.active" {
		t.Errorf("newest entry %+v, want the last action (tenant.active)", got[0])
	}

	// B sees only its own entries.
	for _, e := range auditLog(t, h, b.Key, "/v1/audit") {
		if e.TenantID == nil || *e.TenantID != b.TenantID {
			t.Errorf("B's log shows %+v", e)
		}
	}

	// Only owners read the tenant's log; tenants never read the operators'.
	for role, key := range keys {
		call(t, h, key, "GET", "/v1/audit", "", nil).problem(t, 403)
		call(t, h, key, "GET", "/v1/admin/audit", "", nil).problem(t, 403)
		_ = role
	}
	call(t, h, a.Key, "GET", "/v1/admin/audit", "", nil).problem(t, 403)
	call(t, h, op.Key, "GET", "/v1/audit", "", nil).problem(t, 403)

	// Operators read everything, or one tenant's.
	all := auditLog(t, h, op.Key, "/v1/admin/audit")
	tenants := map[int64]bool{}
	for _, e := range all {
		if e.TenantID != nil {
			tenants[*e.TenantID] = true
		}
	}
	if !tenants[a.TenantID] || !tenants[b.TenantID] {
		t.Errorf("the operators' log shows tenants %v, want %d and %d", tenants, a.TenantID, b.TenantID)
	}
	onlyA := auditLog(t, h, op.Key, fmt.Sprintf("/v1/admin/audit?tenant_id=%d", a.TenantID))
	if len(onlyA) != len(got) {
		t.Errorf("operators' view of A: %d entries, the owner's %d", len(onlyA), len(got))
	}
	for _, e := range onlyA {
		if e.TenantID == nil || *e.TenantID != a.TenantID {
			t.Errorf("tenant_id=%d shows %+v", a.TenantID, e)
		}
	}
	call(t, h, op.Key, "GET", "/v1/admin/audit?tenant_id=x", "", nil).problem(t, 400)
}
