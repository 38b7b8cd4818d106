package httpapi_test

import "strings"

// badInputsProfile extends the bad-input corpus (badInputs) with the
// content profile of #22 (PUT /v1/sites/:id/profile and PUT /v1/profile):
// each refused with the field named, nothing stored.
func badInputsProfile() []badCase {
	var cases []badCase
	for _, path := range []string{"/v1/sites/{site}/profile", "/v1/profile"} {
		put := func(name, body, field string) badCase {
			return jsonCase(path+" "+name, "PUT", path, body, 400, field)
		}
		cases = append(cases,
			put("language not a tag", `{"language":"not a language"}`, "language"),
			put("language root", `{"language":"und"}`, "language"),
			put("language too long", `{"language":"`+strings.Repeat("a", 40)+`"}`, "language"),
			put("language a number", `{"language":42}`, "language"),
			put("voice too long", `{"voice":"`+strings.Repeat("v", 501)+`"}`, "voice"),
			put("voice control character", `{"voice":"calm\u0007"}`, "voice"),
			put("audience too long", `{"audience":"`+strings.Repeat("a", 301)+`"}`, "audience"),
			put("point of view unknown", `{"point_of_view":"omniscient"}`, "point_of_view"),
			put("avoid not a list", `{"avoid":"cheap"}`, "avoid"),
			put("avoid empty entry", `{"avoid":["cheap",""]}`, "avoid"),
			put("avoid repeated", `{"avoid":["Cheap","cheap"]}`, "avoid"),
			put("avoid too many", `{"avoid":[`+strings.TrimSuffix(strings.Repeat(`"x",`, 31), ",")+`]}`, "avoid"),
			put("avoid entry too long", `{"avoid":["`+strings.Repeat("x", 101)+`"]}`, "avoid"),
			put("word target unknown type", `{"word_targets":{"essay":1000}}`, "word_targets.essay"),
			put("word target too small", `{"word_targets":{"guide":299}}`, "word_targets.guide"),
			put("word target too big", `{"word_targets":{"guide":1000000}}`, "word_targets.guide"),
			put("word target text", `{"word_targets":{"guide":"long"}}`, "word_targets"),
			put("word target fraction", `{"word_targets":{"guide":1000.5}}`, "word_targets"),
			put("word targets a list", `{"word_targets":[1000]}`, "word_targets"),
			put("faq text", `{"faq":"yes"}`, "faq"),
			put("toc number", `{"table_of_contents":1}`, "table_of_contents"),
			put("unknown field", `{"tone":"calm"}`, "tone"),
			put("a list", `[]`, "body"),
			put("not JSON", `{"faq":`, "body"),
			badCase{name: path + " text/plain", method: "PUT", path: path, contentType: "text/plain",
				body: []byte(`{"faq":true}`), status: 415, field: "Content-Type"},
		)
	}
	cases = append(cases,
		jsonCase("site profile of a missing site", "PUT", "/v1/sites/"+missingID+"/profile", `{"faq":true}`, 404, ""),
		jsonCase("site profile of another tenant's site", "PUT", "/v1/sites/{othersite}/profile", `{"faq":true}`, 404, ""),
		badCase{name: "site profile id text", method: "GET", path: "/v1/sites/abc/profile", status: 404},
	)
	return cases
}
