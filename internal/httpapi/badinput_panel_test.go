package httpapi_test

// badInputsPanel extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area: PUT /v1/easypanel checks the panel it names
// (#17.11), so an address where no panel answers is refused naming url.
// The checks against a panel that answers (a refused login naming email
// and password, a missing project naming project, a failing panel as 503)
// are in panelcheck_test.go, against the fake panel.
func badInputsPanel() []badCase {
	put := func(name, body, field string) badCase {
		return jsonCase(name, "PUT", "/v1/easypanel", body, 400, field)
	}
	return []badCase{
		// RFC 6761: .invalid never resolves.
		put("panel host does not resolve", `{"url":"https://panel.invalid","email":"ops@example.com","password":"pw"}`, "url"),
		put("panel host does not resolve, project given",
			`{"url":"https://panel.invalid","email":"ops@example.com","password":"pw","project":"blogs"}`, "url"),
		// Port 1 on loopback (the corpus allows private addresses): nothing listens.
		put("panel port closed", `{"url":"http://127.0.0.1:1","email":"ops@example.com","password":"pw"}`, "url"),
	}
}
