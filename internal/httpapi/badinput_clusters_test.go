package httpapi_test

import "strings"

// badInputsClusters extends the bad-input corpus (badInputs) with the
// cluster edits and the re-cluster of #21: bodies refused before any
// cluster is looked up.
// The refusals that need real clusters (keywords of another site or
// cluster, splitting off every keyword, a taken name) are in
// clusteredit_test.go.
func badInputsClusters() []badCase {
	const c = "/v1/clusters/" + missingID
	return []badCase{
		jsonCase("merge cluster_ids empty", "POST", "/v1/clusters/merge", `{"cluster_ids":[],"into":1}`, 400, "cluster_ids"),
		jsonCase("merge cluster_ids missing", "POST", "/v1/clusters/merge", `{"into":1}`, 400, "cluster_ids"),
		jsonCase("merge into itself", "POST", "/v1/clusters/merge", `{"cluster_ids":[3,4],"into":4}`, 400, "cluster_ids"),
		jsonCase("merge into missing", "POST", "/v1/clusters/merge", `{"cluster_ids":[3]}`, 400, "into"),
		jsonCase("merge into text", "POST", "/v1/clusters/merge", `{"cluster_ids":[3],"into":"4"}`, 400, "into"),
		jsonCase("merge cluster_ids repeated", "POST", "/v1/clusters/merge", `{"cluster_ids":[3,3],"into":4}`, 400, "cluster_ids"),
		jsonCase("merge cluster_ids zero", "POST", "/v1/clusters/merge", `{"cluster_ids":[0],"into":4}`, 400, "cluster_ids"),
		jsonCase("merge name blank", "POST", "/v1/clusters/merge", `{"cluster_ids":[3],"into":4,"name":" "}`, 400, "name"),
		jsonCase("merge unknown field", "POST", "/v1/clusters/merge", `{"cluster_ids":[3],"into":4,"keep":true}`, 400, "keep"),
		jsonCase("merge missing clusters", "POST", "/v1/clusters/merge", `{"cluster_ids":[`+missingID+`],"into":1`+missingID+`}`, 404, ""),
		jsonCase("split keyword_ids empty", "POST", c+"/split", `{"keyword_ids":[],"name":"New"}`, 400, "keyword_ids"),
		jsonCase("split name missing", "POST", c+"/split", `{"keyword_ids":[1]}`, 400, "name"),
		jsonCase("split name too long", "POST", c+"/split", `{"keyword_ids":[1],"name":"`+strings.Repeat("n", 81)+`"}`, 400, "name"),
		jsonCase("split description empty", "POST", c+"/split", `{"keyword_ids":[1],"name":"New","description":""}`, 400, "description"),
		jsonCase("split keyword_ids a number", "POST", c+"/split", `{"keyword_ids":1,"name":"New"}`, 400, "keyword_ids"),
		jsonCase("move keyword_ids empty", "POST", c+"/keywords", `{"keyword_ids":[]}`, 400, "keyword_ids"),
		jsonCase("move keyword_ids negative", "POST", c+"/keywords", `{"keyword_ids":[-5]}`, 400, "keyword_ids"),
		jsonCase("move keyword_ids repeated", "POST", c+"/keywords", `{"keyword_ids":[5,5]}`, 400, "keyword_ids"),
		jsonCase("move over MAX_BULK_ITEMS", "POST", c+"/keywords", `{"keyword_ids":`+ids(10001)+`}`, 400, "keyword_ids"),
		jsonCase("remove keyword_ids null", "POST", c+"/keywords/remove", `{"keyword_ids":null}`, 400, "keyword_ids"),
		jsonCase("remove unknown field", "POST", c+"/keywords/remove", `{"keyword_ids":[1],"all":true}`, 400, "all"),
		{name: "move text/plain", method: "POST", path: c + "/keywords", contentType: "text/plain",
			body: []byte(`{"keyword_ids":[1]}`), status: 415, field: "Content-Type"},
		jsonCase("move missing cluster", "POST", c+"/keywords", `{"keyword_ids":[1]}`, 404, ""),
		jsonCase("patch locked text", "PATCH", c, `{"locked":"yes"}`, 400, "locked"),
		{name: "cluster keywords limit 0", method: "GET", path: c + "/keywords?limit=0", status: 400, field: "limit"},
		{name: "cluster keywords id text", method: "GET", path: "/v1/clusters/abc/keywords", status: 404},
		jsonCase("recluster unknown field", "POST", "/v1/sites/{site}/recluster", `{"keep_edited":false}`, 400, "keep_edited"),
		{name: "recluster text/plain", method: "POST", path: "/v1/sites/{site}/recluster", contentType: "text/plain",
			body: []byte(`x`), status: 415, field: "Content-Type"},
		{name: "recluster site id text", method: "POST", path: "/v1/sites/x/recluster", status: 404},
		{name: "recluster missing site", method: "POST", path: "/v1/sites/" + missingID + "/recluster", status: 404},
	}
}
