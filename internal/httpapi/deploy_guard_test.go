package httpapi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// operatorPanel is the environment of an API with the operator's panel.
func operatorPanel(extra ...apptest.Option) []apptest.Option {
	return append([]apptest.Option{apptest.WithEnv("EASYPANEL_URL", "https://panel.operator.example:3000"),
		apptest.WithEnv("EASYPANEL_EMAIL", "ops@operator.example"), apptest.WithEnv("EASYPANEL_PASSWORD", "operator-pw")},
		extra...)
}

// deployBody is a deploy request of source to domain.
func deployBody(source map[string]string, domain string) map[string]any {
	return map[string]any{"source": source, "domain": domain}
}

func gitSource(repo string) map[string]string { return map[string]string{"type": "git", "repo": repo} }
func imageSource(ref string) map[string]string {
	return map[string]string{"type": "image", "image": ref}
}

// refusedNaming checks a 4xx problem that names field.
func refusedNaming(t testing.TB, what string, a answer, status int, field string) {
	t.Helper()
	if a.Status != status {
		t.Errorf("%s: status %d, want %d; body: %s", what, a.Status, status, clipBody(a.Body))
		return
	}
	if p := a.problem(t, status); !slices.Contains(fields(p), field) {
		t.Errorf("%s: problem names %v, want %q; body: %s", what, fields(p), field, clipBody(a.Body))
	}
}

// TestDeploySourcePrivate: where private addresses are not allowed, a
// deployment whose git repository or image registry is on this machine, a
// private network or a metadata service is refused naming the field, and
// nothing is recorded; public sources are accepted.
func TestDeploySourcePrivate(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, operatorPanel(apptest.WithEnv("ALLOW_PRIVATE_URLS", "false"))...)
	f := newFixtureLite(t, h, "privatesource")
	siteID := createSite(t, h, f.Key, "Private source blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	for _, repo := range []string{"https://169.254.169.254/latest/meta-data.git", "https://127.0.0.1:3000/x.git",
		"https://localhost/x.git", "https://git.localhost/x.git", "https://[::1]:3000/x.git", "https://10.0.0.5/x.git",
		"https://192.168.1.10/x.git", "https://2130706433/x.git", "https://0x7f000001/x.git", "https://127.1/x.git",
		"https://0177.0.0.1/x.git", "https://0x7f.1/x.git", "https://[64:ff9b::a9fe:a9fe]/x.git",
		"https://[::127.0.0.1]/x.git", "https://[::ffff:10.0.0.5]/x.git", "https://[2002:a00:5::1]/x.git"} {
		refusedNaming(t, "repo "+repo, callJSON(t, h, f.Key, "POST", path, deployBody(gitSource(repo), "blog.example.com")),
			400, "source.repo")
	}
	for _, image := range []string{"10.0.0.5:5000/internal/billing:latest", "localhost:5000/site:1", "localhost/site",
		"127.0.0.1/site:1", "169.254.169.254:80/x", "172.16.0.1:5000/x", "2130706433:5000/x", "0x7f.1:5000/x",
		"registry.localhost:5000/x", "100.64.0.1/x"} {
		refusedNaming(t, "image "+image, callJSON(t, h, f.Key, "POST", path, deployBody(imageSource(image), "blog.example.com")),
			400, "source.image")
	}
	call(t, h, f.Key, "GET", path, "", nil).problem(t, 404)

	// Docker Hub names whose first component is no registry, and public
	// registries and repositories, are accepted.
	for i, source := range []map[string]string{imageSource("wordpress:6"), imageSource("library/wordpress:6"),
		imageSource("localdomain/site:1"), imageSource("ghcr.io/acme/site:1"),
		imageSource("registry.example.com:5000/site@sha256:0123"), gitSource("https://github.com/acme/site.git")} {
		site := createSite(t, h, f.Key, fmt.Sprintf("Public source blog %d", i), "pw")
		callJSON(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%d/deployment", site),
			deployBody(source, fmt.Sprintf("site%d.example.com", i))).must(t, 202, nil)
	}
}

// TestSavedURLsEmbeddedAndNumeric: a site URL, a panel URL and an AI base
// URL naming a private address inside an IPv6 address, or in a numeric
// spelling, are refused when saved.
func TestSavedURLsEmbeddedAndNumeric(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("ALLOW_PRIVATE_URLS", "false"))
	f := newFixtureLite(t, h, "embedded")
	for _, host := range []string{"2130706433", "0x7f000001", "127.1", "0177.0.0.1", "0x7f.1", "0xa9fea9fe",
		"[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::a00:5]", "[::127.0.0.1]", "[::ffff:0:a00:5]",
		"[2002:a9fe:a9fe::]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]"} {
		u := "https://" + host
		refusedNaming(t, "site url "+u, callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "Blog",
			"url": u, "username": "wp", "application_password": "x"}), 400, "url")
		refusedNaming(t, "panel url "+u, callJSON(t, h, f.Key, "PUT", "/v1/easypanel", map[string]string{"url": u,
			"email": "ops@example.com", "password": "pw"}), 400, "url")
		refusedNaming(t, "AI base url "+u, callJSON(t, h, f.Key, "PUT", "/v1/ai-settings/openai", map[string]string{
			"api_key": "sk-test-key-0000000000000000", "base_url": u + "/v1"}), 400, "base_url")
	}
	if n := countSites(t, h, f.Key); n != 0 {
		t.Errorf("%d sites saved, want none", n)
	}
	// Public addresses are still accepted, in IPv6 too.
	callJSON(t, h, f.Key, "POST", "/v1/sites", map[string]string{"name": "Blog", "url": "https://[64:ff9b::5db8:d822]",
		"username": "wp", "application_password": "x"}).must(t, 201, nil)
}

// TestDeployReservedDomains: the operator's panel's own host, the special
// use names and the operator's reserved suffixes are refused on deploy and
// on a domain change, naming domain; a name that only ends in the same
// letters is not.
func TestDeployReservedDomains(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, operatorPanel(apptest.WithEnv("DEPLOY_RESERVED_DOMAINS", "hosting.example.net,Apps.Example.org"))...)
	f := newFixtureLite(t, h, "reserved")
	siteID := createSite(t, h, f.Key, "Reserved blog", "pw")
	path := fmt.Sprintf("/v1/sites/%d/deployment", siteID)
	reserved := []string{"panel.operator.example", "PANEL.operator.example.", "hosting.example.net", "x.hosting.example.net",
		"a.b.apps.example.org", "printer.local", "db.internal", "app.localhost", "1.0.0.127.in-addr.arpa", "x.invalid"}
	for _, domain := range reserved {
		refusedNaming(t, "deploy to "+domain, callJSON(t, h, f.Key, "POST", path,
			deployBody(imageSource("wordpress:6"), domain)), 400, "domain")
	}
	call(t, h, f.Key, "GET", path, "", nil).problem(t, 404)

	callJSON(t, h, f.Key, "POST", path, deployBody(imageSource("wordpress:6"), "nothosting.example.net")).must(t, 202, nil)
	settleDeployJobs(t, h, f.TenantID)
	for _, domain := range reserved {
		refusedNaming(t, "domain change to "+domain, callJSON(t, h, f.Key, "PATCH", path, map[string]string{"domain": domain}),
			400, "domain")
	}
	if d := getDeployment(t, h, f.Key, siteID); d.Domain != "nothosting.example.net" {
		t.Errorf("domain %q after refused changes, want nothosting.example.net", d.Domain)
	}
	callJSON(t, h, f.Key, "PATCH", path, map[string]string{"domain": "panel.operator.example.com"}).must(t, 202, nil)
}

// TestDeployDomainRace: tenants deploying one domain at the same time on
// the operator's panel get it once; every other request is a 409 naming
// domain (the unique index decides, not a read before the write).
func TestDeployDomainRace(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, operatorPanel()...)
	type attempt struct {
		key  string
		site int64
	}
	var attempts []attempt
	for i := range 3 {
		f := newFixtureLite(t, h, fmt.Sprintf("racer-%d", i))
		for j := range 2 {
			attempts = append(attempts, attempt{f.Key, createSite(t, h, f.Key, fmt.Sprintf("Racer %d blog %d", i, j), "pw")})
		}
	}
	answers := make([]answer, len(attempts))
	// The group returns when its parallel attempts have all answered.
	t.Run("attempts", func(t *testing.T) {
		for i, a := range attempts {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				answers[i] = callJSON(t, h, a.key, "POST", fmt.Sprintf("/v1/sites/%d/deployment", a.site),
					deployBody(imageSource("wordpress:6"), "contested.example.com"))
			})
		}
	})
	won := 0
	for i, a := range answers {
		if a.Status == 202 {
			won++
			continue
		}
		refusedNaming(t, fmt.Sprintf("attempt %d", i), a, 409, "domain")
	}
	if won != 1 {
		t.Errorf("%d deployments took the domain, want 1", won)
	}
}
