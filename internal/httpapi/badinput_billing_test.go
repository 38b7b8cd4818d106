package httpapi_test

import "strings"

// badInputsBilling extends the bad-input corpus with billing's routes
// (#26). They run with billing off: the body is checked before Stripe is
// needed, so a bad one is a 400 naming its field either way.
func badInputsBilling() []badCase {
	op := func(name, method, path, body, field string) badCase {
		c := jsonCase(name, method, path, body, 400, field)
		c.operator = true
		return c
	}
	plan := func(name, body, field string) badCase { return op(name, "PUT", "/v1/admin/plans/pro", body, field) }
	pack := func(name, body, field string) badCase { return op(name, "POST", "/v1/admin/credit-packs", body, field) }
	checkout := func(name, body, field string) badCase {
		return jsonCase(name, "POST", "/v1/billing/checkout", body, 400, field)
	}
	return []badCase{
		checkout("checkout of nothing", `{}`, "plan"),
		checkout("checkout of a plan and a pack", `{"plan":"pro","pack_id":1}`, "pack_id"),
		checkout("checkout of an unknown plan", `{"plan":"gold"}`, "plan"),
		checkout("checkout plan a number", `{"plan":3}`, "plan"),
		checkout("checkout pack zero", `{"pack_id":0}`, "pack_id"),
		checkout("checkout pack a string", `{"pack_id":"big"}`, "pack_id"),
		checkout("checkout unknown field", `{"plan":"pro","coupon":"FREE"}`, "coupon"),
		jsonCase("portal with a body", "POST", "/v1/billing/portal", `{"return":"x"}`, 400, "return"),
		{name: "invoices limit zero", method: "GET", path: "/v1/billing/invoices?limit=0", status: 400, field: "limit"},
		{name: "invoices limit a word", method: "GET", path: "/v1/billing/invoices?limit=all", status: 400, field: "limit"},
		plan("plan price not a price", `{"stripe_price_id":"prod_123","monthly_credits":10}`, "stripe_price_id"),
		plan("plan price with a space", `{"stripe_price_id":"price_ 1","monthly_credits":10}`, "stripe_price_id"),
		plan("plan credits negative", `{"monthly_credits":-1}`, "monthly_credits"),
		plan("plan credits too many", `{"monthly_credits":1000000001}`, "monthly_credits"),
		plan("plan credits a string", `{"monthly_credits":"lots"}`, "monthly_credits"),
		plan("plan room zero", `{"monthly_credits":1,"bulk_inflight":0}`, "bulk_inflight"),
		plan("plan room too large", `{"monthly_credits":1,"bulk_inflight":10001}`, "bulk_inflight"),
		plan("plan description too long", `{"description":"`+strings.Repeat("d", 501)+`"}`, "description"),
		plan("plan unknown field", `{"price":"price_1"}`, "price"),
		{operator: true, name: "plan of no name", method: "PUT", path: "/v1/admin/plans/gold", contentType: "application/json",
			body: []byte(`{"monthly_credits":1}`), status: 404},
		pack("pack name missing", `{"stripe_price_id":"price_p1","credits":10}`, "name"),
		pack("pack name blank", `{"name":" ","stripe_price_id":"price_p1","credits":10}`, "name"),
		pack("pack price missing", `{"name":"P","credits":10}`, "stripe_price_id"),
		pack("pack price bad", `{"name":"P","stripe_price_id":"sku_1","credits":10}`, "stripe_price_id"),
		pack("pack credits missing", `{"name":"P","stripe_price_id":"price_p1"}`, "credits"),
		pack("pack credits zero", `{"name":"P","stripe_price_id":"price_p1","credits":0}`, "credits"),
		pack("pack active a string", `{"name":"P","stripe_price_id":"price_p1","credits":1,"active":"yes"}`, "active"),
		{operator: true, name: "pack id text", method: "PATCH", path: "/v1/admin/credit-packs/abc", contentType: "application/json",
			body: []byte(`{"credits":5}`), status: 404},
		{operator: true, name: "overview days zero", method: "GET", path: "/v1/admin/billing/overview?days=0", status: 400, field: "days"},
		{operator: true, name: "overview days too many", method: "GET", path: "/v1/admin/billing/overview?days=367", status: 400, field: "days"},
	}
}
