package httpapi_test

import "strings"

// badInputsModels extends the bad-input corpus (badInputs) with the model
// catalogue's routes (#23). Model 1 is the seeded offline writer (chat),
// model 2 the offline embeddings.
func badInputsModels() []badCase {
	op := func(name, method, path, body, field string) badCase {
		c := jsonCase(name, method, path, body, 400, field)
		c.operator = true
		return c
	}
	model := func(extra string) string {
		return `{"provider":"openai","model":"bad-input","kind":"chat","display_name":"Bad"` + extra + `}`
	}
	create := func(name, body, field string) badCase { return op(name, "POST", "/v1/admin/models", body, field) }
	route := func(name, body, field string) badCase { return op(name, "PUT", "/v1/admin/routes/draft", body, field) }
	choose := func(name, body, field string) badCase {
		return jsonCase(name, "PUT", "/v1/stage-models", body, 400, field)
	}
	return []badCase{
		create("model provider unknown", `{"provider":"acme","model":"x","kind":"chat","display_name":"X"}`, "provider"),
		create("model kind unknown", `{"provider":"openai","model":"x","kind":"audio","display_name":"X"}`, "kind"),
		create("model name with a space", `{"provider":"openai","model":"gpt 4","kind":"chat","display_name":"X"}`, "model"),
		create("model name too long", `{"provider":"openai","model":"`+strings.Repeat("m", 201)+`","kind":"chat","display_name":"X"}`, "model"),
		create("model name missing", `{"provider":"openai","kind":"chat","display_name":"X"}`, "model"),
		create("model display name blank", `{"provider":"openai","model":"x","kind":"chat","display_name":" "}`, "display_name"),
		create("model display name missing", `{"provider":"openai","model":"x","kind":"chat"}`, "display_name"),
		create("model price negative", model(`,"price_input_per_mtok":-1`), "price_input_per_mtok"),
		create("model price a string", model(`,"price_output_per_mtok":"cheap"`), "price_output_per_mtok"),
		create("model image price too high", model(`,"price_per_image":100000`), "price_per_image"),
		create("model batch price negative", model(`,"batch_price_input_per_mtok":-0.5`), "batch_price_input_per_mtok"),
		create("model batch price a string", model(`,"batch_price_output_per_mtok":"half"`), "batch_price_output_per_mtok"),
		create("model rpm zero", model(`,"rpm":0`), "rpm"),
		create("model tpm fraction", model(`,"tpm":1.5`), "tpm"),
		create("model multiplier zero", model(`,"credit_multiplier":0`), "credit_multiplier"),
		create("model multiplier too high", model(`,"credit_multiplier":101`), "credit_multiplier"),
		create("model plan unknown", model(`,"plans":["pro","gold"]`), "plans"),
		create("model plans not a list", model(`,"plans":"pro"`), "plans"),
		create("model enabled a string", model(`,"enabled":"yes"`), "enabled"),
		create("model unknown field", model(`,"colour":"red"`), "colour"),
		op("model kind changed", "PATCH", "/v1/admin/models/1", `{"kind":"image"}`, "kind"),
		op("model provider changed", "PATCH", "/v1/admin/models/1", `{"provider":"openai"}`, "provider"),
		op("model patch rpm negative", "PATCH", "/v1/admin/models/1", `{"rpm":-5}`, "rpm"),
		op("model patch display name NUL", "PATCH", "/v1/admin/models/1", `{"display_name":"a\u0000b"}`, "display_name"),
		{operator: true, name: "model id text", method: "GET", path: "/v1/admin/models/abc", status: 404},
		{operator: true, name: "model test of no model", method: "POST", path: "/v1/admin/models/999999999/test", status: 404},
		op("model test with a body", "POST", "/v1/admin/models/1/test", `{"prompt":"hi"}`, "prompt"),
		route("route model missing", `{"fallback_ids":[]}`, "model_id"),
		route("route model unknown", `{"model_id":999999}`, "model_id"),
		route("route model of another kind", `{"model_id":2}`, "model_id"),
		route("route model a string", `{"model_id":"gpt"}`, "model_id"),
		route("route fallbacks not a list", `{"model_id":1,"fallback_ids":3}`, "fallback_ids"),
		route("route fallback is the default", `{"model_id":1,"fallback_ids":[1]}`, "fallback_ids"),
		route("route fallback of another kind", `{"model_id":1,"fallback_ids":[2]}`, "fallback_ids"),
		route("route fallback twice", `{"model_id":1,"fallback_ids":[999998,999998]}`, "fallback_ids"),
		route("route too many fallbacks", `{"model_id":1,"fallback_ids":[3,4,5,6,7,8]}`, "fallback_ids"),
		route("route on throttle a string", `{"model_id":1,"fallback_on_throttle":"yes"}`, "fallback_on_throttle"),
		{operator: true, name: "route of no stage", method: "PUT", path: "/v1/admin/routes/poems", contentType: "application/json",
			body: []byte(`{"model_id":1}`), status: 404},
		choose("stage models embeddings", `{"embeddings":2}`, "embeddings"),
		choose("stage models unknown model", `{"draft":999999}`, "draft"),
		choose("stage models wrong kind", `{"images":1}`, "images"),
		choose("stage models unknown stage", `{"poems":1}`, "poems"),
		choose("stage models a string", `{"draft":"gpt"}`, "draft"),
	}
}
