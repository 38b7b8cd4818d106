package wordpress_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

func TestSlug(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Hello World":            "hello-world",
		"  Trail   Running  ":    "trail-running",
		"Food & Drink":           "food-drink",
		"Food &amp; Drink":       "food-drink",
		"C++ tips!":              "c-tips",
		"Crème Brûlée":           "creme-brulee",
		"Straße":                 "strasse",
		"v1.2 release":           "v1-2-release",
		"AC/DC":                  "ac-dc",
		"snake_case":             "snake_case",
		"<b>Bold</b> move":       "bold-move",
		"日本":                     "%e6%97%a5%e6%9c%ac",
		"--dashes--and---more--": "dashes-and-more",
	}
	for in, want := range tests {
		if got := wordpress.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnsureTerm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     fakewp.Config
		setup   func(srv *fakewp.Server) int64 // returns the id expected, 0 for a new term
		tax     wordpress.Taxonomy
		term    string
		creates int
	}{
		{"found by slug", fakewp.Config{}, func(s *fakewp.Server) int64 { return s.AddTerm("categories", "Running", "running") }, wordpress.Categories, "running", 0},
		{"found by name, odd slug", fakewp.Config{}, func(s *fakewp.Server) int64 { return s.AddTerm("tags", "Trail Shoes", "ts-2019") }, wordpress.Tags, "trail shoes", 0},
		{"found by slug, escaped name", fakewp.Config{}, func(s *fakewp.Server) int64 { return s.AddTerm("tags", "Food & Drink", "") }, wordpress.Tags, "Food & Drink", 0},
		{"created", fakewp.Config{}, func(*fakewp.Server) int64 { return 0 }, wordpress.Tags, "Brand New", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, tt.cfg)
			want := tt.setup(srv)
			got, err := c.EnsureTerm(context.Background(), tt.tax, tt.term)
			if err != nil {
				t.Fatalf("EnsureTerm: %v", err)
			}
			if want != 0 && got != want {
				t.Errorf("EnsureTerm = %d, want %d", got, want)
			}
			if n := srv.Count(http.MethodPost, "/wp/v2/"+string(tt.tax)); n != tt.creates {
				t.Errorf("%d creates, want %d", n, tt.creates)
			}
			again, err := c.EnsureTerm(context.Background(), tt.tax, tt.term)
			if err != nil || again != got {
				t.Errorf("second EnsureTerm = %d, %v; want %d", again, err, got)
			}
		})
	}
}

func TestEnsureTermUsesTermExists(t *testing.T) {
	t.Parallel()
	for _, asString := range []bool{false, true} {
		srv, c := newClient(t, fakewp.Config{TermIDAsString: asString})
		// The lookups miss (another writer creates it meanwhile); the create
		// answers term_exists with the id.
		srv.Inject(http.MethodGet, "/wp/v2/categories", fakewp.Fault{Status: 200, Body: `[]`})
		srv.Inject(http.MethodGet, "/wp/v2/categories", fakewp.Fault{Status: 200, Body: `[]`})
		id := srv.AddTerm("categories", "Races", "races")
		got, err := c.EnsureTerm(context.Background(), wordpress.Categories, "Races")
		if err != nil || got != id {
			t.Errorf("term_id as string %v: EnsureTerm = %d, %v; want %d", asString, got, err, id)
		}
	}
}

func TestEnsureTermRefusals(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{Caps: []string{"edit_posts", "publish_posts", "upload_files"}})
	_, err := c.EnsureTerm(context.Background(), wordpress.Tags, "Needs Editor")
	var ae *wordpress.AuthError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("EnsureTerm as an author = %v, want a 403 *AuthError", err)
	}
	for _, tt := range []struct {
		tax  wordpress.Taxonomy
		name string
	}{{"post_tag", "x"}, {wordpress.Tags, "   "}} {
		var ve *errs.ValidationError
		if _, err := c.EnsureTerm(context.Background(), tt.tax, tt.name); !errors.As(err, &ve) {
			t.Errorf("EnsureTerm(%q, %q) = %v, want a validation error", tt.tax, tt.name, err)
		}
	}
}
