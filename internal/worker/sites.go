package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress"
)

// sitePasswords gives a site's sealed application password.
type sitePasswords interface {
	SitePassword(ctx context.Context, tenantID, id int64) ([]byte, error)
}

// siteClients opens WordPress clients for the sites that publishing and
// checks work on.
type siteClients struct {
	passwords sitePasswords
	// box opens the sites' application passwords.
	box *secret.Box
	// http is the HTTP client for WordPress sites; nil means
	// http.DefaultClient.
	http *http.Client
}

// open returns a WordPress client for a site, with its stored REST style
// (discovered on first use otherwise).
func (sc *siteClients) open(ctx context.Context, site store.Site) (*wordpress.Client, error) {
	if sc.box == nil {
		return nil, errs.Permanent(errors.New("the worker has no secret key to open site passwords"))
	}
	enc, err := sc.passwords.SitePassword(ctx, site.TenantID, site.ID)
	if err != nil {
		return nil, err
	}
	password, err := sc.box.Open(enc, secret.SitePasswordAD(site.TenantID))
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("the site's application password cannot be decrypted: %w", err))
	}
	hc := sc.http
	if hc == nil {
		hc = http.DefaultClient
	}
	creds := wordpress.Credentials{URL: site.URL, User: site.WPUser, AppPassword: string(password)}
	return wordpress.New(hc, creds, wordpress.Style(deref(site.RESTStyle))), nil
}
