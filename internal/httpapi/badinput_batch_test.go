package httpapi_test

// badInputsBatch extends the bad-input corpus (badInputs) with the bulk
// default of batch mode (#23, PUT /v1/batch-settings): each refused with
// the field named, nothing stored.
func badInputsBatch() []badCase {
	put := func(name, body, field string) badCase {
		return jsonCase("batch settings "+name, "PUT", "/v1/batch-settings", body, 400, field)
	}
	return []badCase{
		put("missing", `{}`, "batch_min_items"),
		put("zero", `{"batch_min_items":0}`, "batch_min_items"),
		put("negative", `{"batch_min_items":-5}`, "batch_min_items"),
		put("too big", `{"batch_min_items":100001}`, "batch_min_items"),
		put("huge", `{"batch_min_items":99999999999999999999}`, "batch_min_items"),
		put("fraction", `{"batch_min_items":2.5}`, "batch_min_items"),
		put("text", `{"batch_min_items":"ten"}`, "batch_min_items"),
		put("unknown field", `{"batch_min_items":10,"mode":"batch"}`, "mode"),
		put("a list", `[]`, "body"),
		put("not JSON", `{"batch_min_items":`, "body"),
		{name: "batch settings text/plain", method: "PUT", path: "/v1/batch-settings", contentType: "text/plain",
			body: []byte(`{"batch_min_items":10}`), status: 415, field: "Content-Type"},
		jsonCase("drafts mode unknown", "POST", "/v1/drafts/generate", `{"idea_ids":[1],"mode":"cheap"}`, 400, "mode"),
	}
}
