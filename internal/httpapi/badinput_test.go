package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// badCase is one bad request and the problem it must get.
type badCase struct {
	name        string
	operator    bool // sent with the operator key instead of the owner's
	method      string
	path        string // {site} and {tenant} are replaced
	contentType string
	body        []byte
	header      []string
	chunked     bool // sent without Content-Length
	status      int
	field       string // the field the problem names; "" for a 404
}

// chunked is a reader that hides its length, so the body is sent chunked.
type chunked struct{ io.Reader }

func jsonCase(name, method, path, body string, status int, field string) badCase {
	return badCase{name: name, method: method, path: path, contentType: "application/json", body: []byte(body),
		status: status, field: field}
}

// envVars is an env object of n variables.
func envVars(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"VAR_%d":"x"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func ids(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i + 1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// badInputs is the corpus: each answers 4xx with a problem document naming
// the field at fault, and writes nothing.
func badInputs() []badCase {
	const site = `"url":"https://ok.example","username":"wp","application_password":"abcd efgh"`
	siteWith := func(extra string) string { return `{"name":"Blog",` + site + extra + `}` }
	siteURL := func(u string) string {
		return `{"name":"Blog","url":` + u + `,"username":"wp","application_password":"x"}`
	}
	kw := "/v1/sites/{site}/keywords"
	csv := func(name, body string, field string) badCase {
		return badCase{name: name, method: "POST", path: kw, contentType: "text/csv", body: []byte(body), status: 400, field: field}
	}
	kwJSON := func(name, body, field string) badCase { return jsonCase(name, "POST", kw, body, 400, field) }
	rule := func(extra string) string {
		return `{"site_id":{site},"name":"Bad rule","schedule":"@every 6h","stages":["ideas"]` + extra + `}`
	}
	ruleJSON := func(name, body, field string) badCase {
		return jsonCase(name, "POST", "/v1/automation/rules", body, 400, field)
	}
	dep := func(extra string) string { return `{"source":{"type":"image","image":"wordpress:6"}` + extra + `}` }
	depWith := func(source, extra string) string {
		return `{"source":` + source + `,"domain":"blog.example.com"` + extra + `}`
	}
	depJSON := func(name, body, field string) badCase {
		return jsonCase(name, "POST", "/v1/sites/{site}/deployment", body, 400, field)
	}
	panelJSON := func(name, body, field string) badCase {
		return jsonCase(name, "PUT", "/v1/easypanel", body, 400, field)
	}
	cases := []badCase{
		// Bodies that are not the JSON object asked for.
		jsonCase("malformed JSON", "POST", "/v1/sites", `{"name":`, 400, "body"),
		jsonCase("trailing comma", "POST", "/v1/sites", `{"name":"a",}`, 400, "body"),
		jsonCase("unknown field", "POST", "/v1/sites", siteWith(`,"colour":"red"`), 400, "colour"),
		jsonCase("wrong type", "POST", "/v1/sites", `{"name":5,`+site+`}`, 400, "name"),
		jsonCase("array body", "POST", "/v1/sites", `[]`, 400, "body"),
		jsonCase("string body", "POST", "/v1/sites", `"site"`, 400, "body"),
		jsonCase("null body", "POST", "/v1/sites", `null`, 400, "name"),
		jsonCase("trailing data", "POST", "/v1/sites", siteWith("")+`{}`, 400, "body"),
		jsonCase("empty body", "POST", "/v1/sites", ``, 400, "body"),
		jsonCase("invalid UTF-8", "POST", "/v1/sites", "{\"name\":\"Bl\xffog\","+site+"}", 400, "body"),
		jsonCase("oversize JSON", "POST", "/v1/sites", siteWith(`,"pad":"`+strings.Repeat("x", 1<<20)+`"`), 413, "body"),
		{name: "oversize JSON chunked", method: "POST", path: "/v1/sites", contentType: "application/json", chunked: true,
			body: []byte(siteWith(`,"pad":"` + strings.Repeat("x", 1<<20) + `"`)), status: 413, field: "body"},
		{name: "text/plain", method: "POST", path: "/v1/sites", contentType: "text/plain", body: []byte(siteWith("")), status: 415, field: "Content-Type"},
		{name: "no Content-Type", method: "POST", path: "/v1/sites", body: []byte(siteWith("")), status: 415, field: "Content-Type"},
		{name: "form", method: "POST", path: "/v1/sites", contentType: "application/x-www-form-urlencoded", body: []byte("name=x"), status: 415, field: "Content-Type"},
		{name: "unparsable Content-Type", method: "POST", path: "/v1/sites", contentType: "application/json; =", body: []byte(siteWith("")), status: 415, field: "Content-Type"},

		// Site fields.
		jsonCase("url ftp", "POST", "/v1/sites", siteURL(`"ftp://blog.example"`), 400, "url"),
		jsonCase("url not a url", "POST", "/v1/sites", siteURL(`"not a url"`), 400, "url"),
		jsonCase("url relative", "POST", "/v1/sites", siteURL(`"/wp-admin"`), 400, "url"),
		jsonCase("url no scheme", "POST", "/v1/sites", siteURL(`"//blog.example"`), 400, "url"),
		jsonCase("url credentials", "POST", "/v1/sites", siteURL(`"https://admin:pw@blog.example"`), 400, "url"),
		jsonCase("url query", "POST", "/v1/sites", siteURL(`"https://blog.example/?p=1"`), 400, "url"),
		jsonCase("url fragment", "POST", "/v1/sites", siteURL(`"https://blog.example/#top"`), 400, "url"),
		jsonCase("url empty", "POST", "/v1/sites", siteURL(`""`), 400, "url"),
		jsonCase("url javascript", "POST", "/v1/sites", siteURL(`"javascript:alert(1)"`), 400, "url"),
		jsonCase("url too long", "POST", "/v1/sites", siteURL(`"https://blog.example/`+strings.Repeat("a", 2000)+`"`), 400, "url"),
		jsonCase("url missing", "POST", "/v1/sites", `{"name":"Blog","username":"wp","application_password":"x"}`, 400, "url"),
		jsonCase("name blank", "POST", "/v1/sites", `{"name":"   ",`+site+`}`, 400, "name"),
		jsonCase("name too long", "POST", "/v1/sites", `{"name":"`+strings.Repeat("n", 101)+`",`+site+`}`, 400, "name"),
		jsonCase("name control", "POST", "/v1/sites", `{"name":"a\u0000b",`+site+`}`, 400, "name"),
		jsonCase("username too long", "POST", "/v1/sites", `{"name":"B","url":"https://ok.example","username":"`+strings.Repeat("u", 61)+`","application_password":"x"}`, 400, "username"),
		jsonCase("password missing", "POST", "/v1/sites", `{"name":"B","url":"https://ok.example","username":"wp"}`, 400, "application_password"),
		jsonCase("password empty", "POST", "/v1/sites", `{"name":"B","url":"https://ok.example","username":"wp","application_password":""}`, 400, "application_password"),
		jsonCase("patch bad url", "PATCH", "/v1/sites/{site}", `{"url":"gopher://blog.example"}`, 400, "url"),
		jsonCase("patch unknown field", "PATCH", "/v1/sites/{site}", `{"tenant_id":2}`, 400, "tenant_id"),
		jsonCase("patch empty name", "PATCH", "/v1/sites/{site}", `{"name":""}`, 400, "name"),
		{name: "patch text/plain", method: "PATCH", path: "/v1/sites/{site}", contentType: "text/plain", body: []byte(`{"name":"x"}`), status: 415, field: "Content-Type"},

		// API keys.
		jsonCase("key role operator", "POST", "/v1/api-keys", `{"name":"k","role":"operator"}`, 400, "role"),
		jsonCase("key role unknown", "POST", "/v1/api-keys", `{"name":"k","role":"root"}`, 400, "role"),
		jsonCase("key name empty", "POST", "/v1/api-keys", `{"name":"","role":"viewer"}`, 400, "name"),
		jsonCase("key unknown field", "POST", "/v1/api-keys", `{"name":"k","role":"viewer","tenant_id":1}`, 400, "tenant_id"),

		// Keyword imports: the file as a whole.
		{name: "import xml", method: "POST", path: kw, contentType: "application/xml", body: []byte("<k/>"), status: 415, field: "Content-Type"},
		{name: "import no Content-Type", method: "POST", path: kw, body: []byte("phrase\nx\n"), status: 415, field: "Content-Type"},
		csv("csv invalid UTF-8", "phrase\nrunning sh\xffoes\n", "file"),
		csv("csv Latin-1", "phrase\ncaf\xe9 near me\n", "file"),
		csv("csv UTF-16", "\xff\xfep\x00h\x00r\x00a\x00s\x00e\x00\n\x00", "file"),
		csv("csv no phrase column", "volume,intent\n10,commercial\n", "file"),
		csv("csv unknown column", "phrase,colour\nx,red\n", "file"),
		csv("csv empty", "", "file"),
		csv("csv header only", "phrase\n", "file"),
		csv("csv bad quote", "phrase\n\"running shoes\n", "file"),
		kwJSON("json malformed", `[{"phrase":`, "file"),
		kwJSON("json object of rows", `{"phrase":"x"}`, "file"),
		kwJSON("json empty array", `[]`, "file"),
		kwJSON("json rows not objects", `["a","b"]`, "file"),
		{name: "import oversize", method: "POST", path: kw, contentType: "text/csv",
			body: append([]byte("phrase\n"), bytes.Repeat([]byte("k"), 64<<20-6)...), status: 413, field: "body"},

		// Keyword imports whose every row is invalid.
		kwJSON("empty keyword", `{"keywords":[{"phrase":""}]}`, "phrase"),
		csv("blank keyword", "phrase,volume\n   ,10\n", "phrase"),
		kwJSON("1000-character keyword", `[{"phrase":"`+strings.Repeat("k", 1000)+`"}]`, "phrase"),
		csv("1000-character keyword csv", "phrase\n"+strings.Repeat("k", 1000)+"\n", "phrase"),
		kwJSON("control character", `[{"phrase":"a\u0007b"}]`, "phrase"),
		kwJSON("negative volume", `[{"phrase":"a","volume":-5}]`, "volume"),
		csv("negative volume csv", "phrase,volume\na,-1\n", "volume"),
		kwJSON("volume as string", `[{"phrase":"a","volume":"10"}]`, "volume"),
		kwJSON("volume too big", `[{"phrase":"a","volume":10000000000}]`, "volume"),
		kwJSON("volume fraction", `[{"phrase":"a","volume":1.5}]`, "volume"),
		kwJSON("difficulty 101", `[{"phrase":"a","difficulty":101}]`, "difficulty"),
		csv("difficulty -1 csv", "phrase,kd\na,-1\n", "difficulty"),
		kwJSON("intent invalid", `[{"phrase":"a","intent":"purchase"}]`, "intent"),
		csv("intent invalid csv", "phrase,intent\na,buy\n", "intent"),
		kwJSON("phrase as number", `[{"phrase":5}]`, "phrase"),
		kwJSON("unknown key", `[{"phrase":"a","colour":"red"}]`, "colour"),

		// Work requests.
		{name: "clustering unknown field", method: "POST", path: "/v1/sites/{site}/clustering", contentType: "application/json", body: []byte(`{"all":true}`), status: 400, field: "all"},
		{name: "clustering text/plain", method: "POST", path: "/v1/sites/{site}/clustering", contentType: "text/plain", body: []byte(`x`), status: 415, field: "Content-Type"},
		jsonCase("count 0", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":0}`, 400, "count"),
		jsonCase("count 11", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":11}`, 400, "count"),
		jsonCase("count negative", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":-3}`, 400, "count"),
		jsonCase("count string", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":"3"}`, 400, "count"),
		jsonCase("count fraction", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":2.5}`, 400, "count"),
		jsonCase("count huge", "POST", "/v1/ideas/generate", `{"cluster_ids":[1],"count":1e30}`, 400, "count"),
		jsonCase("cluster_ids empty", "POST", "/v1/ideas/generate", `{"cluster_ids":[]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids missing", "POST", "/v1/ideas/generate", `{"count":2}`, 400, "cluster_ids"),
		jsonCase("cluster_ids null", "POST", "/v1/ideas/generate", `{"cluster_ids":null}`, 400, "cluster_ids"),
		jsonCase("cluster_ids strings", "POST", "/v1/ideas/generate", `{"cluster_ids":["1"]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids not a list", "POST", "/v1/ideas/generate", `{"cluster_ids":"1,2"}`, 400, "cluster_ids"),
		jsonCase("cluster_ids fraction", "POST", "/v1/ideas/generate", `{"cluster_ids":[1.5]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids negative", "POST", "/v1/ideas/generate", `{"cluster_ids":[-1]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids zero", "POST", "/v1/ideas/generate", `{"cluster_ids":[0]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids repeated", "POST", "/v1/ideas/generate", `{"cluster_ids":[7,7]}`, 400, "cluster_ids"),
		jsonCase("cluster_ids over MAX_BULK_ITEMS", "POST", "/v1/ideas/generate", `{"cluster_ids":`+ids(10001)+`}`, 400, "cluster_ids"),
		jsonCase("idea_ids empty", "POST", "/v1/drafts/generate", `{"idea_ids":[]}`, 400, "idea_ids"),
		jsonCase("idea_ids over MAX_BULK_ITEMS", "POST", "/v1/drafts/generate", `{"idea_ids":`+ids(10001)+`}`, 400, "idea_ids"),
		jsonCase("idea_ids strings", "POST", "/v1/drafts/generate", `{"idea_ids":["a"]}`, 400, "idea_ids"),
		jsonCase("idea_ids overflow", "POST", "/v1/drafts/generate", `{"idea_ids":[99999999999999999999]}`, 400, "idea_ids"),
		jsonCase("drafts unknown field", "POST", "/v1/drafts/generate", `{"idea_ids":[1],"model":"gpt"}`, 400, "model"),
		{name: "bad Idempotency-Key", method: "POST", path: "/v1/drafts/generate", contentType: "application/json",
			body: []byte(`{"idea_ids":[1]}`), header: []string{"Idempotency-Key", "é"}, status: 400, field: "Idempotency-Key"},

		// Publishing settings of a site.
		jsonCase("seo_plugin unknown", "POST", "/v1/sites", siteWith(`,"seo_plugin":"wix"`), 400, "seo_plugin"),
		jsonCase("inline_images 9", "POST", "/v1/sites", siteWith(`,"inline_images":9`), 400, "inline_images"),
		jsonCase("inline_images negative", "PATCH", "/v1/sites/{site}", `{"inline_images":-1}`, 400, "inline_images"),
		jsonCase("require_review text", "PATCH", "/v1/sites/{site}", `{"require_review":"yes"}`, 400, "require_review"),
		jsonCase("clustering unknown", "PATCH", "/v1/sites/{site}", `{"clustering":"loose"}`, 400, "clustering"),
		jsonCase("backlinks 11", "POST", "/v1/sites", siteWith(`,"backlinks":11`), 400, "backlinks"),
		jsonCase("backlinks negative", "PATCH", "/v1/sites/{site}", `{"backlinks":-1}`, 400, "backlinks"),
		jsonCase("backlinks text", "PATCH", "/v1/sites/{site}", `{"backlinks":"two"}`, 400, "backlinks"),
		jsonCase("backlinks fraction", "PATCH", "/v1/sites/{site}", `{"backlinks":1.5}`, 400, "backlinks"),
		jsonCase("clustering empty", "PATCH", "/v1/sites/{site}", `{"clustering":""}`, 400, "clustering"),
		jsonCase("default_categories 11", "PATCH", "/v1/sites/{site}", `{"default_categories":["a","b","c","d","e","f","g","h","i","j","k"]}`, 400, "default_categories"),
		jsonCase("default_categories empty name", "PATCH", "/v1/sites/{site}", `{"default_categories":[" "]}`, 400, "default_categories"),
		jsonCase("check unknown field", "POST", "/v1/sites/{site}/check", `{"force":true}`, 400, "force"),
		jsonCase("links refresh unknown field", "POST", "/v1/sites/{site}/links/refresh", `{"full":true}`, 400, "full"),
		jsonCase("links refresh not an object", "POST", "/v1/sites/{site}/links/refresh", `[]`, 400, "body"),
		{name: "links limit 0", method: "GET", path: "/v1/sites/{site}/links?limit=0", status: 400, field: "limit"},
		{name: "links limit text", method: "GET", path: "/v1/sites/{site}/links?limit=ten", status: 400, field: "limit"},
		{name: "links after negative", method: "GET", path: "/v1/sites/{site}/links?after=-1", status: 400, field: "after"},

		// Publishing, review and edits of drafts.
		jsonCase("publish status unknown", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"status":"live"}`, 400, "status"),
		jsonCase("publish future without time", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"status":"future"}`, 400, "publish_at"),
		jsonCase("publish future in the past", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"status":"future","publish_at":"2001-01-01T00:00:00Z"}`, 400, "publish_at"),
		jsonCase("publish future too far", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"status":"future","publish_at":"2999-01-01T00:00:00Z"}`, 400, "publish_at"),
		jsonCase("publish_at without future", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"publish_at":"2999-01-01T00:00:00Z"}`, 400, "publish_at"),
		jsonCase("publish_at not a time", "POST", "/v1/drafts/publish", `{"draft_ids":[1],"status":"future","publish_at":"tomorrow"}`, 400, "publish_at"),
		jsonCase("publish draft_ids empty", "POST", "/v1/drafts/publish", `{"draft_ids":[]}`, 400, "draft_ids"),
		jsonCase("approve draft_ids repeated", "POST", "/v1/drafts/approve", `{"draft_ids":[3,3]}`, 400, "draft_ids"),
		jsonCase("approve unknown field", "POST", "/v1/drafts/approve", `{"draft_ids":[1],"status":"publish"}`, 400, "status"),
		jsonCase("edit slug", "PATCH", "/v1/drafts/1", `{"slug":"Not A Slug"}`, 400, "slug"),
		jsonCase("edit empty title", "PATCH", "/v1/drafts/1", `{"title":"  "}`, 400, "title"),
		jsonCase("edit body without text", "PATCH", "/v1/drafts/1", `{"body_html":"<p><script>x</script></p>"}`, 400, "body_html"),
		jsonCase("edit tags 11", "PATCH", "/v1/drafts/1", `{"tags":["a","b","c","d","e","f","g","h","i","j","k"]}`, 400, "tags"),
		jsonCase("edit unknown field", "PATCH", "/v1/drafts/1", `{"status":"published"}`, 400, "status"),

		// Query parameters.
		{name: "limit 0", method: "GET", path: "/v1/sites?limit=0", status: 400, field: "limit"},
		{name: "limit 501", method: "GET", path: "/v1/ideas?limit=501", status: 400, field: "limit"},
		{name: "limit text", method: "GET", path: "/v1/drafts?limit=ten", status: 400, field: "limit"},
		{name: "idea conflicts limit 0", method: "GET", path: "/v1/sites/{site}/idea-conflicts?limit=0", status: 400, field: "limit"},
		{name: "idea conflicts after text", method: "GET", path: "/v1/sites/{site}/idea-conflicts?after=x", status: 400, field: "after"},
		{name: "idea conflicts site text", method: "GET", path: "/v1/sites/abc/idea-conflicts", status: 404},
		{name: "after negative", method: "GET", path: "/v1/sites?after=-1", status: 400, field: "after"},
		{name: "ledger after text", method: "GET", path: "/v1/credits/ledger?after=x", status: 400, field: "after"},
		{name: "site_id text", method: "GET", path: "/v1/ideas?site_id=abc", status: 400, field: "site_id"},
		{name: "drafts site_id negative", method: "GET", path: "/v1/drafts?site_id=-2", status: 400, field: "site_id"},
		{name: "without_draft", method: "GET", path: "/v1/ideas?without_draft=perhaps", status: 400, field: "without_draft"},
		{name: "unclustered", method: "GET", path: "/v1/sites/{site}/keywords?unclustered=yes%20please", status: 400, field: "unclustered"},
		{name: "keywords cluster_id", method: "GET", path: "/v1/sites/{site}/keywords?cluster_id=x", status: 400, field: "cluster_id"},
		{name: "jobs state", method: "GET", path: "/v1/jobs?state=done", status: 400, field: "state"},
		{name: "jobs limit", method: "GET", path: "/v1/jobs?limit=0", status: 400, field: "limit"},
		{name: "jobs type invalid UTF-8", method: "GET", path: "/v1/jobs?type=%FF", status: 400, field: "type"},
		{name: "jobs type NUL", method: "GET", path: "/v1/jobs?type=a%00b", status: 400, field: "type"},
		{name: "jobs batch_id invalid UTF-8", method: "GET", path: "/v1/jobs?batch_id=%FF", status: 400, field: "batch_id"},
		{name: "jobs after NUL", method: "GET", path: "/v1/jobs?after=%00", status: 400, field: "after"},

		// Ids that are not ids name nothing: 404.
		{name: "site id text", method: "GET", path: "/v1/sites/abc", status: 404},
		{name: "site id negative", method: "GET", path: "/v1/sites/-1", status: 404},
		{name: "site id zero", method: "GET", path: "/v1/sites/0", status: 404},
		{name: "site id exponent", method: "GET", path: "/v1/sites/1e3", status: 404},
		{name: "site id overflow", method: "GET", path: "/v1/sites/99999999999999999999", status: 404},
		{name: "patch site id text", method: "PATCH", path: "/v1/sites/abc", contentType: "application/json", body: []byte(`{"name":"x"}`), status: 404},
		{name: "delete site id text", method: "DELETE", path: "/v1/sites/1.0", status: 404},
		{name: "keywords site id text", method: "POST", path: "/v1/sites/x/keywords", contentType: "text/csv", body: []byte("phrase\nx\n"), status: 404},
		{name: "clustering site id text", method: "POST", path: "/v1/sites/x/clustering", status: 404},
		{name: "cluster id text", method: "GET", path: "/v1/clusters/abc", status: 404},
		{name: "idea id text", method: "GET", path: "/v1/ideas/%20", status: 404},
		{name: "draft id text", method: "GET", path: "/v1/drafts/0x10", status: 404},
		{name: "api key id text", method: "DELETE", path: "/v1/api-keys/abc", status: 404},
		{name: "job id text", method: "GET", path: "/v1/jobs/not-a-job", status: 404},
		{name: "job id invalid UTF-8", method: "GET", path: "/v1/jobs/%FF", status: 404},
		{name: "job id NUL", method: "GET", path: "/v1/jobs/%00", status: 404},
		{name: "cancel job id invalid UTF-8", method: "POST", path: "/v1/jobs/%FF%FE/cancel", status: 404},
		{name: "cancel job id NUL", method: "POST", path: "/v1/jobs/a%00/cancel", status: 404},
		{name: "batch id invalid UTF-8", method: "GET", path: "/v1/batches/%C3%28", status: 404},
		{name: "batch id NUL", method: "GET", path: "/v1/batches/%00", status: 404},
		{name: "batch id long", method: "GET", path: "/v1/batches/" + strings.Repeat("b", 5000), status: 404},

		// Automation rules.
		ruleJSON("rule bad cron spec", `{"site_id":{site},"name":"R","schedule":"every now and then","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule cron six stars", `{"site_id":{site},"name":"R","schedule":"* * * * * * *","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule too frequent", `{"site_id":{site},"name":"R","schedule":"* * * * *","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule every second", `{"site_id":{site},"name":"R","schedule":"@every 1s","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule CRON_TZ in spec", `{"site_id":{site},"name":"R","schedule":"CRON_TZ=UTC 0 * * * *","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule schedule empty", `{"site_id":{site},"name":"R","schedule":" ","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule schedule missing", `{"site_id":{site},"name":"R","stages":["ideas"]}`, "schedule"),
		ruleJSON("rule unknown timezone", rule(`,"timezone":"Mars/Olympus_Mons"`), "timezone"),
		ruleJSON("rule timezone Local", rule(`,"timezone":"Local"`), "timezone"),
		ruleJSON("rule stages empty", `{"site_id":{site},"name":"R","schedule":"@every 6h","stages":[]}`, "stages"),
		ruleJSON("rule stages missing", `{"site_id":{site},"name":"R","schedule":"@every 6h"}`, "stages"),
		ruleJSON("rule stage unknown", `{"site_id":{site},"name":"R","schedule":"@every 6h","stages":["write"]}`, "stages"),
		ruleJSON("rule stage repeated", `{"site_id":{site},"name":"R","schedule":"@every 6h","stages":["ideas","drafts","ideas"]}`, "stages"),
		ruleJSON("rule pipeline with more", `{"site_id":{site},"name":"R","schedule":"@every 6h","stages":["pipeline","ideas"]}`, "stages"),
		ruleJSON("rule stages a string", `{"site_id":{site},"name":"R","schedule":"@every 6h","stages":"ideas"}`, "stages"),
		ruleJSON("rule max_items 0", rule(`,"max_items":0`), "max_items"),
		ruleJSON("rule max_items huge", rule(`,"max_items":100000000`), "max_items"),
		ruleJSON("rule max_items overflow", rule(`,"max_items":99999999999999999999`), "max_items"),
		ruleJSON("rule max_credits negative", rule(`,"max_credits":-1`), "max_credits"),
		ruleJSON("rule max_credits too many", rule(`,"max_credits":1000000000001`), "max_credits"),
		ruleJSON("rule max_credits text", rule(`,"max_credits":"lots"`), "max_credits"),
		ruleJSON("rule ideas_per_cluster 0", rule(`,"ideas_per_cluster":0`), "ideas_per_cluster"),
		ruleJSON("rule ideas_per_cluster 11", rule(`,"ideas_per_cluster":11`), "ideas_per_cluster"),
		ruleJSON("rule condition field", rule(`,"conditions":[{"field":"moon_phase","op":"gt","value":1}]`), "conditions"),
		ruleJSON("rule condition op", rule(`,"conditions":[{"field":"unclustered_keywords","op":"like","value":1}]`), "conditions"),
		ruleJSON("rule condition negative", rule(`,"conditions":[{"field":"unclustered_keywords","op":"gt","value":-1}]`), "conditions"),
		ruleJSON("rule condition unknown key", rule(`,"conditions":[{"field":"unclustered_keywords","op":"gt","value":1,"x":1}]`), "x"),
		ruleJSON("rule next_fire_at given", rule(`,"next_fire_at":"2030-01-01T00:00:00Z"`), "next_fire_at"),
		ruleJSON("rule unknown field", rule(`,"cron":"daily"`), "cron"),
		ruleJSON("rule name a number", `{"site_id":{site},"name":5,"schedule":"@every 6h","stages":["ideas"]}`, "name"),
		ruleJSON("rule name blank", `{"site_id":{site},"name":"  ","schedule":"@every 6h","stages":["ideas"]}`, "name"),
		ruleJSON("rule name too long", `{"site_id":{site},"name":"`+strings.Repeat("n", 101)+`","schedule":"@every 6h","stages":["ideas"]}`, "name"),
		ruleJSON("rule name control", `{"site_id":{site},"name":"a\u0007b","schedule":"@every 6h","stages":["ideas"]}`, "name"),
		ruleJSON("rule enabled text", rule(`,"enabled":"yes"`), "enabled"),
		ruleJSON("rule site_id missing", `{"name":"R","schedule":"@every 6h","stages":["ideas"]}`, "site_id"),
		ruleJSON("rule site_id zero", `{"site_id":0,"name":"R","schedule":"@every 6h","stages":["ideas"]}`, "site_id"),
		ruleJSON("rule site_id text", `{"site_id":"1","name":"R","schedule":"@every 6h","stages":["ideas"]}`, "site_id"),
		jsonCase("rule site of another tenant", "POST", "/v1/automation/rules",
			`{"site_id":{othersite},"name":"R","schedule":"@every 6h","stages":["ideas"]}`, 404, ""),
		jsonCase("rule unknown site", "POST", "/v1/automation/rules",
			`{"site_id":`+missingID+`,"name":"R","schedule":"@every 6h","stages":["ideas"]}`, 404, ""),
		jsonCase("rule duplicate name", "POST", "/v1/automation/rules",
			`{"site_id":{site},"name":"Existing rule","schedule":"@every 6h","stages":["ideas"]}`, 409, ""),
		jsonCase("patch rule site_id", "PATCH", "/v1/automation/rules/{rule}", `{"site_id":{site}}`, 400, "site_id"),
		jsonCase("patch rule bad schedule", "PATCH", "/v1/automation/rules/{rule}", `{"schedule":"*/1 * * * *"}`, 400, "schedule"),
		jsonCase("patch rule bad timezone", "PATCH", "/v1/automation/rules/{rule}", `{"timezone":"Europe/Atlantis"}`, 400, "timezone"),
		jsonCase("patch rule stages empty", "PATCH", "/v1/automation/rules/{rule}", `{"stages":[]}`, 400, "stages"),
		jsonCase("patch rule max_items 0", "PATCH", "/v1/automation/rules/{rule}", `{"max_items":0,"enabled":false}`, 400, "max_items"),
		jsonCase("patch rule next_fire_at", "PATCH", "/v1/automation/rules/{rule}", `{"next_fire_at":null}`, 400, "next_fire_at"),
		jsonCase("patch rule name empty", "PATCH", "/v1/automation/rules/{rule}", `{"name":""}`, 400, "name"),
		{name: "patch rule text/plain", method: "PATCH", path: "/v1/automation/rules/{rule}", contentType: "text/plain",
			body: []byte(`{"name":"x"}`), status: 415, field: "Content-Type"},
		jsonCase("run unknown field", "POST", "/v1/automation/rules/{rule}/run", `{"force":true}`, 400, "force"),
		jsonCase("defaults bad timezone", "POST", "/v1/sites/{site}/automation/defaults", `{"timezone":"Nowhere/Land"}`, 400, "timezone"),
		jsonCase("defaults enabled text", "POST", "/v1/sites/{site}/automation/defaults", `{"enabled":"no"}`, 400, "enabled"),
		jsonCase("defaults unknown field", "POST", "/v1/sites/{site}/automation/defaults", `{"stages":["ideas"]}`, 400, "stages"),
		{name: "defaults another tenant's site", method: "POST", path: "/v1/sites/{othersite}/automation/defaults", status: 404},
		jsonCase("site enabled text", "PATCH", "/v1/sites/{site}", `{"enabled":"off"}`, 400, "enabled"),
		{name: "rules site_id text", method: "GET", path: "/v1/automation/rules?site_id=x", status: 400, field: "site_id"},
		{name: "rules limit 0", method: "GET", path: "/v1/automation/rules?limit=0", status: 400, field: "limit"},
		{name: "runs before text", method: "GET", path: "/v1/automation/rules/{rule}/runs?before=yesterday", status: 400, field: "before"},
		{name: "runs limit 501", method: "GET", path: "/v1/automation/rules/{rule}/runs?limit=501", status: 400, field: "limit"},
		{name: "rule id text", method: "GET", path: "/v1/automation/rules/abc", status: 404},
		{name: "run rule id text", method: "POST", path: "/v1/automation/rules/x/run", status: 404},
		{name: "run id NUL", method: "GET", path: "/v1/automation/runs/%00", status: 404},
		{name: "run id unknown", method: "GET", path: "/v1/automation/runs/run-1-m0", status: 404},

		// Deployments and the tenant's panel.
		depJSON("source missing", `{"domain":"blog.example.com"}`, "source"),
		depJSON("source type missing", depWith(`{"image":"wordpress:6"}`, ""), "source.type"),
		depJSON("source type unknown", depWith(`{"type":"svn","repo":"https://svn.example.com/blog"}`, ""), "source.type"),
		depJSON("repo http", depWith(`{"type":"git","repo":"http://github.com/example/blog.git"}`, ""), "source.repo"),
		depJSON("repo credentials", depWith(`{"type":"git","repo":"https://user:token@github.com/example/blog.git"}`, ""), "source.repo"),
		depJSON("repo no scheme", depWith(`{"type":"git","repo":"github.com/example/blog.git"}`, ""), "source.repo"),
		depJSON("repo missing", depWith(`{"type":"git"}`, ""), "source.repo"),
		depJSON("repo ssh", depWith(`{"type":"git","repo":"git@github.com:example/blog.git"}`, ""), "source.repo"),
		depJSON("ref with space", depWith(`{"type":"git","repo":"https://github.com/example/blog.git","ref":"my branch"}`, ""), "source.ref"),
		depJSON("dockerfile with dollar", depWith(`{"type":"git","repo":"https://github.com/example/blog.git","dockerfile":"$(id)"}`, ""), "source.path"),
		depJSON("git with image", depWith(`{"type":"git","repo":"https://github.com/example/blog.git","image":"wordpress:6"}`, ""), "source.image"),
		depJSON("image with space", depWith(`{"type":"image","image":"wordpress 6"}`, ""), "source.image"),
		depJSON("image upper-case", depWith(`{"type":"image","image":"WordPress:6"}`, ""), "source.image"),
		depJSON("image empty", depWith(`{"type":"image"}`, ""), "source.image"),
		depJSON("image starting with a dash", depWith(`{"type":"image","image":"-wordpress"}`, ""), "source.image"),
		depJSON("image with repo", depWith(`{"type":"image","image":"wordpress:6","repo":"https://github.com/x/y.git"}`, ""), "source"),
		depJSON("source unknown field", depWith(`{"type":"image","image":"wordpress:6","tag":"latest"}`, ""), "tag"),
		depJSON("source a string", `{"source":"wordpress:6","domain":"blog.example.com"}`, "source"),
		depJSON("domain missing", `{"source":{"type":"image","image":"wordpress:6"}}`, "domain"),
		depJSON("domain with scheme", dep(`,"domain":"https://blog.example.com"`), "domain"),
		depJSON("domain with spaces", dep(`,"domain":"my blog.example.com"`), "domain"),
		depJSON("domain without a dot", dep(`,"domain":"localhost"`), "domain"),
		depJSON("domain with a path", dep(`,"domain":"blog.example.com/wp"`), "domain"),
		depJSON("domain with a port", dep(`,"domain":"blog.example.com:8080"`), "domain"),
		depJSON("domain an IP", dep(`,"domain":"10.0.0.1"`), "domain"),
		depJSON("domain a number", dep(`,"domain":5`), "domain"),
		depJSON("https text", dep(`,"domain":"blog.example.com","https":"yes"`), "https"),
		depJSON("env DATABASE_URL", dep(`,"domain":"blog.example.com","env":{"DATABASE_URL":"postgres://x"}`), "env.DATABASE_URL"),
		depJSON("env WORDPRESS_DB_PASSWORD", dep(`,"domain":"blog.example.com","env":{"WORDPRESS_DB_PASSWORD":"x"}`), "env.WORDPRESS_DB_PASSWORD"),
		depJSON("env value newline", dep(`,"domain":"blog.example.com","env":{"GREETING":"hello\nSECRET=x"}`), "env.GREETING"),
		depJSON("env value NUL", dep(`,"domain":"blog.example.com","env":{"GREETING":"a\u0000b"}`), "env.GREETING"),
		depJSON("env value too long", dep(`,"domain":"blog.example.com","env":{"BIG":"`+strings.Repeat("v", 4097)+`"}`), "env.BIG"),
		depJSON("env name starting with a digit", dep(`,"domain":"blog.example.com","env":{"1ST":"x"}`), "env"),
		depJSON("env name with a dash", dep(`,"domain":"blog.example.com","env":{"MY-VAR":"x"}`), "env"),
		depJSON("env name empty", dep(`,"domain":"blog.example.com","env":{"":"x"}`), "env"),
		depJSON("env 51 variables", dep(`,"domain":"blog.example.com","env":`+envVars(51)), "env"),
		depJSON("env an array", dep(`,"domain":"blog.example.com","env":["A=1"]`), "env"),
		depJSON("env value a number", dep(`,"domain":"blog.example.com","env":{"A":1}`), "env"),
		depJSON("deploy unknown field", dep(`,"domain":"blog.example.com","colour":"red"`), "colour"),
		depJSON("panel other", dep(`,"domain":"blog.example.com","panel":"other"`), "panel"),
		depJSON("panel a number", dep(`,"domain":"blog.example.com","panel":1`), "panel"),
		{name: "deploy text/plain", method: "POST", path: "/v1/sites/{site}/deployment", contentType: "text/plain",
			body: []byte(dep(`,"domain":"blog.example.com"`)), status: 415, field: "Content-Type"},
		jsonCase("deploy empty body", "POST", "/v1/sites/{site}/deployment", ``, 400, "body"),
		jsonCase("domain change without domain", "PATCH", "/v1/sites/{site}/deployment", `{}`, 400, "domain"),
		jsonCase("domain change null", "PATCH", "/v1/sites/{site}/deployment", `{"domain":null}`, 400, "domain"),
		jsonCase("domain change bad", "PATCH", "/v1/sites/{site}/deployment", `{"domain":"http://x.example.com"}`, 400, "domain"),
		jsonCase("domain change unknown field", "PATCH", "/v1/sites/{site}/deployment", `{"domain":"x.example.com","https":false}`, 400, "https"),
		jsonCase("redeploy unknown field", "POST", "/v1/sites/{site}/deployment/redeploy", `{"force":true}`, 400, "force"),
		jsonCase("destroy unknown field", "POST", "/v1/sites/{site}/deployment/destroy", `{"keep_data":true}`, 400, "keep_data"),
		panelJSON("panel password missing", `{"url":"https://panel.example.com","email":"ops@example.com"}`, "password"),
		panelJSON("panel password empty", `{"url":"https://panel.example.com","email":"ops@example.com","password":""}`, "password"),
		panelJSON("panel password a number", `{"url":"https://panel.example.com","email":"ops@example.com","password":1234}`, "password"),
		panelJSON("panel url missing", `{"email":"ops@example.com","password":"pw"}`, "url"),
		panelJSON("panel url ftp", `{"url":"ftp://panel.example.com","email":"ops@example.com","password":"pw"}`, "url"),
		panelJSON("panel url credentials", `{"url":"https://admin:pw@panel.example.com","email":"ops@example.com","password":"pw"}`, "url"),
		panelJSON("panel url not a url", `{"url":"panel","email":"ops@example.com","password":"pw"}`, "url"),
		panelJSON("panel email missing", `{"url":"https://panel.example.com","password":"pw"}`, "email"),
		panelJSON("panel email without at", `{"url":"https://panel.example.com","email":"ops","password":"pw"}`, "email"),
		panelJSON("panel project upper-case", `{"url":"https://panel.example.com","email":"ops@example.com","password":"pw","project":"My Sites"}`, "project"),
		panelJSON("panel project too long", `{"url":"https://panel.example.com","email":"ops@example.com","password":"pw","project":"`+strings.Repeat("p", 41)+`"}`, "project"),
		panelJSON("panel project empty", `{"url":"https://panel.example.com","email":"ops@example.com","password":"pw","project":""}`, "project"),
		panelJSON("panel unknown field", `{"url":"https://panel.example.com","email":"ops@example.com","password":"pw","token":"x"}`, "token"),

		// Operator routes.
		{operator: true, name: "tenant bad slug", method: "POST", path: "/v1/admin/tenants", contentType: "application/json",
			body: []byte(`{"name":"X","slug":"Bad Slug","plan":"pro","credits":0}`), status: 400, field: "slug"},
		{operator: true, name: "tenant bad plan", method: "POST", path: "/v1/admin/tenants", contentType: "application/json",
			body: []byte(`{"name":"X","slug":"good","plan":"gold","credits":0}`), status: 400, field: "plan"},
		{operator: true, name: "tenant negative credits", method: "POST", path: "/v1/admin/tenants", contentType: "application/json",
			body: []byte(`{"name":"X","slug":"good","plan":"pro","credits":-1}`), status: 400, field: "credits"},
		{operator: true, name: "tenant credits too many", method: "POST", path: "/v1/admin/tenants", contentType: "application/json",
			body: []byte(`{"name":"X","slug":"good","plan":"pro","credits":1000000000000}`), status: 400, field: "credits"},
		{operator: true, name: "tenant name empty", method: "POST", path: "/v1/admin/tenants", contentType: "application/json",
			body: []byte(`{"name":"","slug":"good","plan":"pro"}`), status: 400, field: "name"},
		{operator: true, name: "grant zero", method: "POST", path: "/v1/admin/tenants/{tenant}/credits", contentType: "application/json",
			body: []byte(`{"amount":0}`), status: 400, field: "amount"},
		{operator: true, name: "grant negative", method: "POST", path: "/v1/admin/tenants/{tenant}/credits", contentType: "application/json",
			body: []byte(`{"amount":-50}`), status: 400, field: "amount"},
		{operator: true, name: "grant overflow", method: "POST", path: "/v1/admin/tenants/{tenant}/credits", contentType: "application/json",
			body: []byte(`{"amount":9223372036854775808}`), status: 400, field: "amount"},
		{operator: true, name: "grant note too long", method: "POST", path: "/v1/admin/tenants/{tenant}/credits", contentType: "application/json",
			body: []byte(`{"amount":1,"note":"` + strings.Repeat("n", 501) + `"}`), status: 400, field: "note"},
		{operator: true, name: "grant note NUL", method: "POST", path: "/v1/admin/tenants/{tenant}/credits", contentType: "application/json",
			body: []byte(`{"amount":1,"note":"a\u0000b"}`), status: 400, field: "note"},
		{operator: true, name: "tenant status", method: "PATCH", path: "/v1/admin/tenants/{tenant}", contentType: "application/json",
			body: []byte(`{"status":"deleted"}`), status: 400, field: "status"},
		{operator: true, name: "tenant id text", method: "GET", path: "/v1/admin/tenants/abc", status: 404},
	}
	cases = append(cases, badInputsDeploy()...)
	cases = append(cases, badInputsPanel()...)
	cases = append(cases, badInputsAuth()...)
	cases = append(cases, badInputsAutomation()...)
	cases = append(cases, badInputsClusters()...)
	cases = append(cases, badInputsProfile()...)
	cases = append(cases, badInputsModels()...)
	cases = append(cases, badInputsBatch()...)
	cases = append(cases, badInputsBilling()...)
	return cases
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := context.Background()
	f := newFixtureLite(t, h, "bad")
	siteID := createSite(t, h, f.Key, "Bad input blog", "pw")
	ruleID := createRule(t, h, f.Key, siteID, "Existing rule", "@every 6h", "ideas")
	other := newFixtureLite(t, h, "bad-other")
	otherSite := createSite(t, h, other.Key, "Other bad blog", "pw")
	op := h.OperatorClient(t)
	tenantsBefore, err := h.App.Store.ListTenants(ctx)
	apptest.Must(t, err, "list tenants")
	watched := []string{fmt.Sprintf("/v1/sites/%d", siteID), fmt.Sprintf("/v1/sites/%d/keywords", siteID),
		fmt.Sprintf("/v1/sites/%d/profile", siteID), "/v1/profile",
		"/v1/automation/rules?limit=500", fmt.Sprintf("/v1/automation/rules/%d/runs", ruleID), "/v1/easypanel"}
	before := state(t, h, f.Key, watched...)
	otherBefore := state(t, h, other.Key, "/v1/automation/rules?limit=500")
	fill := strings.NewReplacer("{site}", fmt.Sprint(siteID), "{tenant}", fmt.Sprint(f.TenantID),
		"{rule}", fmt.Sprint(ruleID), "{othersite}", fmt.Sprint(otherSite))

	for _, c := range badInputs() {
		t.Run(c.name, func(t *testing.T) {
			key := f.Key
			if c.operator {
				key = op.Key
			}
			path := fill.Replace(c.path)
			reqBody := c.body
			if bytes.Contains(reqBody, []byte("{")) && len(reqBody) < 1<<16 {
				reqBody = []byte(fill.Replace(string(reqBody)))
			}
			var a answer
			if c.chunked {
				a = callReader(t, h, key, c.method, path, c.contentType, chunked{bytes.NewReader(reqBody)}, c.header...)
			} else {
				a = call(t, h, key, c.method, path, c.contentType, reqBody, c.header...)
			}
			if a.Status != c.status {
				t.Fatalf("%s %s: status %d, want %d; body: %s", c.method, clipBody([]byte(path)), a.Status, c.status, clipBody(a.Body))
			}
			p := a.problem(t, c.status)
			if c.field == "" {
				if len(p.Errors) != 0 {
					t.Errorf("404 problem lists fields: %v", p.Errors)
				}
				return
			}
			named := slices.ContainsFunc(p.Errors, func(e errs.FieldProblem) bool {
				return e.Field == c.field || strings.HasPrefix(e.Field, c.field+"[")
			})
			if !named {
				t.Errorf("problem names %v, want %q; body: %s", fields(p), c.field, clipBody(a.Body))
			}
			for _, e := range p.Errors {
				if e.Problem == "" {
					t.Errorf("field %q has no problem text", e.Field)
				}
			}
			// The random request id may spell anything; look at the rest.
			body := strings.ReplaceAll(string(a.Body), p.RequestID, "")
			if strings.Contains(body, "pgx") || strings.Contains(body, "SQLSTATE") {
				t.Errorf("problem leaks internals: %s", a.Body)
			}
		})
	}

	// Nothing was written.
	sameState(t, "bad requests", before, state(t, h, f.Key, watched...))
	sameState(t, "bad requests naming another tenant's site", otherBefore, state(t, h, other.Key, "/v1/automation/rules?limit=500"))
	n, err := h.App.Store.CountUnclustered(ctx, f.TenantID, siteID)
	apptest.Must(t, err, "count keywords")
	jobs, err := h.App.Store.ListJobs(ctx, f.TenantID, store.JobFilter{}, "", 10)
	apptest.Must(t, err, "list jobs")
	tenantsAfter, err := h.App.Store.ListTenants(ctx)
	apptest.Must(t, err, "list tenants")
	if n != 0 || len(jobs) != 0 || len(tenantsAfter) != len(tenantsBefore) {
		t.Errorf("after bad requests: %d keywords, %d jobs, %d tenants (was %d); want nothing written",
			n, len(jobs), len(tenantsAfter), len(tenantsBefore))
	}
	for i := range tenantsAfter {
		if tenantsAfter[i] != tenantsBefore[i] {
			t.Errorf("tenant %+v changed to %+v", tenantsBefore[i], tenantsAfter[i])
		}
	}
	if c := getCredits(t, h, f.Key); c.Balance != 100 {
		t.Errorf("balance %d, want 100", c.Balance)
	}
	// No deployment was recorded, no panel registered.
	call(t, h, f.Key, "GET", fmt.Sprintf("/v1/sites/%d/deployment", siteID), "", nil).problem(t, 404)
	if _, err := h.App.Store.GetPanelCredentials(ctx, f.TenantID); err == nil {
		t.Error("a bad PUT /v1/easypanel stored a panel")
	}
}

// TestBadPanelURLPrivate: where private addresses are not allowed, a
// panel on one is refused and nothing is stored.
func TestBadPanelURLPrivate(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("ALLOW_PRIVATE_URLS", "false"))
	f := newFixtureLite(t, h, "privatepanel")
	for _, u := range []string{"https://127.0.0.1", "http://localhost:3000", "https://10.0.0.5", "http://[::1]:3000",
		"https://169.254.169.254", "https://panel.localhost"} {
		p := callJSON(t, h, f.Key, "PUT", "/v1/easypanel", map[string]string{"url": u, "email": "ops@example.com",
			"password": "pw"}).problem(t, 400)
		if !slices.Contains(fields(p), "url") {
			t.Errorf("PUT /v1/easypanel with url %s: problem names %v, want url", u, fields(p))
		}
	}
	var s struct {
		Configured bool `json:"configured"`
	}
	call(t, h, f.Key, "GET", "/v1/easypanel", "", nil).must(t, 200, &s)
	if s.Configured {
		t.Error("a panel on a private address was stored")
	}
	// A public address passes the address rule and goes on to the panel's
	// checks (#17.11): this one has no panel behind it.
	if p := callJSON(t, h, f.Key, "PUT", "/v1/easypanel", map[string]string{"url": "https://panel.example.com",
		"email": "ops@example.com", "password": "pw"}).problem(t, 400); !strings.Contains(p.Detail, "could not be reached") {
		t.Errorf("a public panel address without a panel: %q, want it not reached", p.Detail)
	}
}

// TestBadInputNever500 sends every route garbage and expects no 5xx.
func TestBadInputNever500(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	f := newFixtureLite(t, h, "garbage")
	op := h.OperatorClient(t)
	siteID := fmt.Sprint(createSite(t, h, f.Key, "Garbage blog", "pw"))
	bodies := [][]byte{nil, []byte(`{`), []byte(`{}`), []byte(`[]`), []byte(`null`), []byte("\xff\xfe"), []byte(`{"a":1}`),
		[]byte(`"` + strings.Repeat("z", 3000) + `"`), []byte("phrase\n\x00\n"), []byte(`{"name":"\u0000","note":"\u0000","status":"\u0000"}`)}
	check := func(key, method, path, ct string, body []byte) {
		t.Helper()
		a := call(t, h, key, method, path, ct, body)
		if a.Status >= 500 {
			t.Errorf("%s %s (%s, %q): status %d; body: %s", method, clipBody([]byte(path)), ct, clipBody(body), a.Status, a.Body)
			return
		}
		if a.Status >= 400 {
			a.problem(t, a.Status)
		}
	}
	keyFor := func(path string) string {
		if strings.HasPrefix(path, "/v1/admin") {
			return op.Key
		}
		return f.Key
	}
	// Ids that are no ids, on every route.
	for _, rt := range h.API.Routes() {
		if !strings.Contains(rt.Path, ":id") {
			continue
		}
		for _, id := range []string{"0", "-1", "abc", "%FF", "%00", "%2F", "99999999999999999999", strings.Repeat("9", 300)} {
			check(keyFor(rt.Path), rt.Method, withID(rt.Path, id), "", nil)
		}
	}
	// Garbage bodies on every route that reads one, with an id that exists
	// where it matters.
	for _, rt := range h.API.Routes() {
		if rt.Method == http.MethodGet || rt.Method == http.MethodDelete {
			continue
		}
		id := missingID
		if strings.HasPrefix(rt.Path, "/v1/sites/:id") {
			id = siteID
		} else if strings.HasPrefix(rt.Path, "/v1/admin/tenants/:id") {
			id = fmt.Sprint(f.TenantID)
		}
		for _, body := range bodies {
			for _, ct := range []string{"", "application/json", "text/csv", "application/json; charset=utf-16"} {
				check(keyFor(rt.Path), rt.Method, withID(rt.Path, id), ct, body)
			}
		}
	}
}
