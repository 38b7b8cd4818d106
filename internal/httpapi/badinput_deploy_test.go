package httpapi_test

// badInputsDeploy extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area: deployment sources and domains, and hosts that
// spell an IPv4 address other than as four decimal numbers (refused even
// where private addresses are allowed, as the corpus's server does).
func badInputsDeploy() []badCase {
	dep := "/v1/sites/{site}/deployment"
	git := func(name, repo string) badCase {
		return jsonCase(name, "POST", dep, `{"source":{"type":"git","repo":"`+repo+`"},"domain":"blog.example.com"}`,
			400, "source.repo")
	}
	image := func(name, ref string) badCase {
		return jsonCase(name, "POST", dep, `{"source":{"type":"image","image":"`+ref+`"},"domain":"blog.example.com"}`,
			400, "source.image")
	}
	domain := func(name, d string) badCase {
		return jsonCase(name, "POST", dep, `{"source":{"type":"image","image":"wordpress:6"},"domain":"`+d+`"}`, 400, "domain")
	}
	site := func(name, url string) badCase {
		return jsonCase(name, "POST", "/v1/sites", `{"name":"Blog","url":"`+url+`","username":"wp","application_password":"x"}`,
			400, "url")
	}
	return []badCase{
		git("deploy repo decimal host", "https://2130706433/site.git"),
		git("deploy repo hex host", "https://0x7f000001/site.git"),
		git("deploy repo short host", "https://127.1/site.git"),
		git("deploy repo octal host", "https://0177.0.0.1/site.git"),
		git("deploy repo hex dotted host", "https://0x7f.1/site.git"),
		git("deploy repo overflowing host", "https://4294967296/site.git"),
		image("deploy image decimal registry", "2130706433:5000/site:1"),
		image("deploy image hex dotted registry", "0x7f.1:5000/site:1"),
		image("deploy image registry port too big", "registry.example.com:99999/site:1"),
		image("deploy image registry port empty", "registry.example.com:/site:1"),
		image("deploy image registry port zero", "registry.example.com:0/site:1"),
		image("deploy image registry two colons", "registry:5000:1/site:1"),
		domain("deploy domain .local", "printer.local"),
		domain("deploy domain .internal", "db.internal"),
		domain("deploy domain .localhost", "app.localhost"),
		domain("deploy domain .invalid", "x.invalid"),
		domain("deploy domain reverse DNS", "1.0.0.127.in-addr.arpa"),
		jsonCase("domain change to .internal", "PATCH", dep, `{"domain":"metadata.google.internal"}`, 400, "domain"),
		jsonCase("domain change to .local", "PATCH", dep, `{"domain":"Printer.Local"}`, 400, "domain"),
		site("site url decimal host", "https://2130706433"),
		site("site url hex host", "https://0x7f000001/"),
		site("site url octal host", "https://0177.0.0.1"),
		jsonCase("patch site url short host", "PATCH", "/v1/sites/{site}", `{"url":"https://127.1"}`, 400, "url"),
		jsonCase("panel url hex dotted host", "PUT", "/v1/easypanel",
			`{"url":"https://0x7f.1","email":"ops@example.com","password":"pw"}`, 400, "url"),
		jsonCase("AI base url decimal host", "PUT", "/v1/ai-settings/openai",
			`{"api_key":"sk-test-key-0000000000000000","base_url":"https://2852039166/v1"}`, 400, "base_url"),
	}
}
