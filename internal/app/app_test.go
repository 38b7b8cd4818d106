package app_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/testenv"
)

// TestWordPressClientTrustsExtraCA: the client for tenants' sites accepts
// a certificate of EXTRA_CA_FILE's authority, and without the setting
// refuses it as the system refuses any unknown authority.
func TestWordPressClientTrustsExtraCA(t *testing.T) {
	t.Parallel()
	ca := testenv.NewCA(t)
	site := ca.TLSServer(t, http.NotFoundHandler(), "127.0.0.1")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	clientWith := func(extra map[string]string) *http.Client {
		env := map[string]string{"SECRET_KEY": base64.StdEncoding.EncodeToString(key), "ALLOW_PRIVATE_URLS": "true"}
		for k, v := range extra {
			env[k] = v
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return (&app.App{Config: cfg}).WordPressClient()
	}

	resp, err := clientWith(map[string]string{"EXTRA_CA_FILE": ca.File(t)}).Get(site.URL)
	if err != nil {
		t.Fatalf("GET with EXTRA_CA_FILE naming the site's CA: %v", err)
	}
	resp.Body.Close()
	_, err = clientWith(nil).Get(site.URL)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET without EXTRA_CA_FILE: %v; want an unknown authority", err)
	}
}
