package httpapi_test

import "strings"

// badInputsAuth extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area: the operator's plan change (PATCH
// /v1/admin/tenants/:id), which must name the field and change nothing.
func badInputsAuth() []badCase {
	patch := func(name, body, field string) badCase {
		c := jsonCase(name, "PATCH", "/v1/admin/tenants/{tenant}", body, 400, field)
		c.operator = true
		return c
	}
	return []badCase{
		patch("plan unknown", `{"plan":"gold"}`, "plan"),
		patch("plan empty", `{"plan":""}`, "plan"),
		patch("plan upper-case", `{"plan":"PRO"}`, "plan"),
		patch("plan padded", `{"plan":" pro"}`, "plan"),
		patch("plan trailing space", `{"plan":"pro "}`, "plan"),
		patch("plan NUL", `{"plan":"pro\u0000"}`, "plan"),
		patch("plan a number", `{"plan":3}`, "plan"),
		patch("plan a list", `{"plan":["pro"]}`, "plan"),
		patch("plan an object", `{"plan":{"name":"pro"}}`, "plan"),
		patch("plan long", `{"plan":"`+strings.Repeat("p", 5000)+`"}`, "plan"),
		patch("plan with a good status", `{"status":"suspended","plan":"enterprise"}`, "plan"),
		patch("status bad with a good plan", `{"status":"deleted","plan":"agency"}`, "status"),
		patch("plan and status both absent", `{}`, "plan"),
		patch("plan null", `{"plan":null}`, "plan"),
		patch("plan unknown field", `{"plan":"pro","credits":5}`, "credits"),
		{operator: true, name: "plan on a text id", method: "PATCH", path: "/v1/admin/tenants/abc",
			contentType: "application/json", body: []byte(`{"plan":"pro"}`), status: 404},
	}
}
