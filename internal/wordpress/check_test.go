package wordpress_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        fakewp.Config
		password   string
		want       wordpress.CheckResult
		wantReason string // contained in Reason
	}{
		{
			name: "healthy administrator",
			cfg:  fakewp.Config{},
			want: wordpress.CheckResult{Style: wordpress.StylePretty, Healthy: true, User: "Eddie Editor", Username: fakewp.User,
				CanPublish: true, CanUpload: true, CanManageTerms: true},
		},
		{
			name: "healthy author, plain permalinks",
			cfg:  fakewp.Config{Plain: true, Caps: []string{"edit_posts", "publish_posts", "upload_files"}},
			want: wordpress.CheckResult{Style: wordpress.StyleQuery, Healthy: true, User: "Eddie Editor", Username: fakewp.User,
				CanPublish: true, CanUpload: true},
			wantReason: "cannot create categories or tags",
		},
		{
			name:       "contributor",
			cfg:        fakewp.Config{Caps: []string{"edit_posts"}},
			want:       wordpress.CheckResult{Style: wordpress.StylePretty, User: "Eddie Editor", Username: fakewp.User},
			wantReason: "cannot publish posts (publish_posts) and cannot upload images (upload_files)",
		},
		{
			name:       "application passwords unavailable",
			cfg:        fakewp.Config{IgnorePassword: true},
			want:       wordpress.CheckResult{Style: wordpress.StylePretty},
			wantReason: "WordPress accepts application passwords only over HTTPS or with WP_ENVIRONMENT_TYPE set to local",
		},
		{
			name:       "wrong password, WordPress 6.1 answering as anonymous",
			cfg:        fakewp.Config{Plain: true},
			password:   "wrong pass word 1234",
			want:       wordpress.CheckResult{Style: wordpress.StyleQuery},
			wantReason: "the user name or application password is wrong",
		},
		{
			name:       "wrong password refused as documented",
			cfg:        fakewp.Config{Plain: true, RefuseWrongPassword: true},
			password:   "wrong pass word 1234",
			want:       wordpress.CheckResult{},
			wantReason: "refused the user name or application password",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakewp.New(t, tt.cfg)
			cr := creds(srv.SiteURL())
			if tt.password != "" {
				cr.AppPassword = tt.password
			}
			got, err := wordpress.New(srv.Client(), cr, "").Check(context.Background())
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			t.Logf("reason: %s", got.Reason)
			if !strings.Contains(got.Reason, tt.wantReason) || (tt.wantReason == "" && got.Reason != "") {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			if (got.Code == "") != got.Healthy {
				t.Errorf("Code = %q for a check that is healthy %v", got.Code, got.Healthy)
			}
			got.Reason, got.Code = "", ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			if strings.Contains(got.Reason, fakewp.Password) {
				t.Errorf("Reason shows the password")
			}
		})
	}
}

func TestCheckErrorsWhenUnreachable(t *testing.T) {
	t.Parallel()
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		srv := fakewp.New(t, fakewp.Config{})
		url := srv.SiteURL()
		srv.Close()
		if _, err := wordpress.New(srv.Client(), creds(url), "").Check(context.Background()); !isRetryable(err) {
			t.Fatalf("Check = %v, want a retryable error", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		t.Parallel()
		srv, c := newClient(t, fakewp.Config{})
		for range 3 { // reads are repeated on transient failures: fail every try
			srv.Inject(http.MethodGet, "/wp/v2/users/me", fakewp.Fault{Status: 500, Body: "oops"})
		}
		if _, err := c.Check(context.Background()); !isRetryable(err) {
			t.Fatalf("Check = %v, want a retryable error", err)
		}
	})
}

func TestCheckNotWordPress(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{Prefix: "/blog"})
	got, err := wordpress.New(srv.Client(), creds(srv.URL+"/shop"), "").Check(context.Background())
	if err != nil || got.Healthy || !strings.Contains(got.Reason, "no WordPress REST API") {
		t.Fatalf("Check = %+v, %v; want unhealthy: no WordPress REST API", got, err)
	}
}

func TestCheckSiteThatRedirectsElsewhere(t *testing.T) {
	t.Parallel()
	target := fakewp.New(t, fakewp.Config{})
	srv := fakewp.New(t, fakewp.Config{RedirectTo: target.URL})
	got, err := wordpress.New(srv.Client(), creds(srv.SiteURL()), "").Check(context.Background())
	if err != nil || got.Healthy || !strings.Contains(got.Reason, "set the site URL to "+target.URL) {
		t.Fatalf("Check = %+v, %v; want unhealthy naming %s", got, err, target.URL)
	}
}
