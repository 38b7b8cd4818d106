package wordpress_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/wordpress"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// pngBytes is a small PNG.
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		img.Set(x, 1, color.RGBA{R: 200, G: 80, B: 20, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUploadMedia(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          fakewp.Config
		in           wordpress.MediaInput
		wantFilename string
		followUp     bool // the texts need a second request
	}{
		{"texts as query args", fakewp.Config{}, wordpress.MediaInput{Filename: "cover.png", ContentType: "image/png", Title: "Cover", AltText: "A red line", Caption: "Photo: us"}, "cover.png", false},
		{"texts ignored by the site", fakewp.Config{IgnoreMediaTexts: true}, wordpress.MediaInput{Filename: "cover.png", ContentType: "image/png", Title: "Cover", AltText: "A red line", Caption: "Photo: us"}, "cover.png", true},
		{"non-ASCII name, sniffed type", fakewp.Config{}, wordpress.MediaInput{Filename: `C:\tmp\Crème brûlée "best".PNG`, AltText: "Dessert"}, "Creme-brulee-best.png", false},
		{"extension fixed to fit the type", fakewp.Config{}, wordpress.MediaInput{Filename: "photo.jpg", ContentType: "image/png"}, "photo.png", false},
		{"no name", fakewp.Config{}, wordpress.MediaInput{Filename: "日本", ContentType: "image/png; charset=binary"}, "image.png", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newClient(t, tt.cfg)
			data := pngBytes(t)
			tt.in.Data = data
			m, err := c.UploadMedia(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("UploadMedia: %v", err)
			}
			title := tt.in.Title
			if title == "" {
				title = strings.TrimSuffix(tt.wantFilename, ".png")
			}
			want := wordpress.Media{
				ID: m.ID, Slug: m.Slug, Title: title, AltText: tt.in.AltText, Caption: tt.in.Caption,
				SourceURL: srv.SiteURL() + "/wp-content/uploads/2026/11/" + tt.wantFilename, MimeType: "image/png",
			}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("Media (-want +got):\n%s", diff)
			}
			if !bytes.Equal(srv.MediaData(m.ID), data) {
				t.Error("the stored bytes differ from the upload")
			}
			var upload fakewp.Request
			for _, r := range srv.Requests() {
				if r.Method == http.MethodPost && r.Route == "/wp/v2/media" {
					upload = r
				}
			}
			sum := md5.Sum(data)
			for h, v := range map[string]string{
				"Content-Type":        "image/png",
				"Content-Disposition": `attachment; filename="` + tt.wantFilename + `"`,
				"Content-MD5":         hex.EncodeToString(sum[:]),
			} {
				if got := upload.Header.Get(h); got != v {
					t.Errorf("%s = %q, want %q", h, got, v)
				}
			}
			if got := upload.Query.Get("alt_text"); got != tt.in.AltText {
				t.Errorf("alt_text query = %q, want %q", got, tt.in.AltText)
			}
			if n := srv.Count(http.MethodPost, "/wp/v2/media/"+itoa(m.ID)); (n == 1) != tt.followUp {
				t.Errorf("%d follow-up updates, want follow-up %v", n, tt.followUp)
			}
		})
	}
}

func TestUploadMediaFollowUpFailureKeepsTheID(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{IgnoreMediaTexts: true})
	// Media ids start at 2 in the fake (1 is the Uncategorized term).
	for range 3 { // the update is repeated on transient failures: fail every try
		srv.Inject(http.MethodPost, "/wp/v2/media/2", fakewp.Fault{Status: 503, Body: "busy"})
	}
	m, err := c.UploadMedia(context.Background(), wordpress.MediaInput{Filename: "a.png", Data: pngBytes(t), AltText: "alt"})
	if !isRetryable(err) || m.ID != 2 {
		t.Fatalf("UploadMedia = %+v, %v; want the uploaded id 2 and a retryable error", m, err)
	}
	if n := srv.Count(http.MethodPost, "/wp/v2/media/2"); n != 3 {
		t.Errorf("the follow-up update was sent %d times, want 3 (repeated on 503)", n)
	}
	if n := srv.Count(http.MethodPost, "/wp/v2/media"); n != 1 {
		t.Errorf("the upload was sent %d times, want once (a create is never repeated)", n)
	}
}

// TestRepeatableRequestsRideOutOneFailure checks that a read that fails
// once with a 500 is tried again and succeeds, while a create that fails
// is not repeated.
func TestRepeatableRequestsRideOutOneFailure(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t, fakewp.Config{})
	srv.Inject(http.MethodGet, "/wp/v2/users/me", fakewp.Fault{Status: 500, Body: "oops"})
	if res, err := c.Check(context.Background()); err != nil || !res.Healthy {
		t.Fatalf("Check after one 500 = %+v, %v; want healthy", res, err)
	}
	srv.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Status: 500, Body: "oops"})
	if _, err := c.CreatePost(context.Background(), wordpress.PostInput{Title: "t", Slug: "t"}); !isRetryable(err) {
		t.Fatalf("CreatePost after a 500 = %v, want the retryable error", err)
	}
	if n := srv.Count(http.MethodPost, "/wp/v2/posts"); n != 1 {
		t.Errorf("create sent %d times, want once", n)
	}
}

func TestUploadMediaRefusals(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	if _, err := c.UploadMedia(context.Background(), wordpress.MediaInput{Filename: "a.png"}); !errs.IsPermanent(err) {
		t.Errorf("empty upload = %v, want a permanent error", err)
	}
	_, err := c.UploadMedia(context.Background(), wordpress.MediaInput{Filename: "tool.exe", ContentType: "application/x-msdownload", Data: []byte("MZ")})
	var se *wordpress.StatusError
	if !errs.IsPermanent(err) || !errors.As(err, &se) || se.Code != "rest_upload_sideload_error" {
		t.Errorf(".exe upload = %v, want a permanent rest_upload_sideload_error", err)
	}
}

// TestFakeRequiresUploadHeaders keeps the fake honest: WordPress refuses a
// raw upload without Content-Type or Content-Disposition.
func TestFakeRequiresUploadHeaders(t *testing.T) {
	t.Parallel()
	srv := fakewp.New(t, fakewp.Config{})
	for _, tt := range []struct {
		header map[string]string
		code   string
	}{
		{map[string]string{"Content-Disposition": `attachment; filename="a.png"`}, "rest_upload_no_content_type"},
		{map[string]string{"Content-Type": "image/png"}, "rest_upload_no_content_disposition"},
		{map[string]string{"Content-Type": "image/png", "Content-Disposition": `attachment; filename*=UTF-8''a.png`}, "rest_upload_invalid_disposition"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/wp-json/wp/v2/media", bytes.NewReader(pngBytes(t)))
		req.Header.Set("Authorization", fakewp.AuthHeader)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(body.String(), tt.code) {
			t.Errorf("headers %v: HTTP %d %s, want 400 %s", tt.header, resp.StatusCode, body.String(), tt.code)
		}
	}
}

func TestMediaGetUpdateSearch(t *testing.T) {
	t.Parallel()
	_, c := newClient(t, fakewp.Config{})
	ctx := context.Background()
	m, err := c.UploadMedia(ctx, wordpress.MediaInput{Filename: "sunset.png", Data: pngBytes(t)})
	if err != nil {
		t.Fatalf("UploadMedia: %v", err)
	}
	u, err := c.UpdateMedia(ctx, m.ID, "", "Sun going down", "")
	if err != nil || u.AltText != "Sun going down" || u.Title != "sunset" {
		t.Fatalf("UpdateMedia = %+v, %v", u, err)
	}
	g, err := c.GetMedia(ctx, m.ID)
	if err != nil || g != u {
		t.Fatalf("GetMedia = %+v, %v; want %+v", g, err, u)
	}
	found, err := c.SearchMedia(ctx, "sunset")
	if err != nil || len(found) != 1 || found[0].ID != m.ID {
		t.Fatalf("SearchMedia = %+v, %v", found, err)
	}
	if _, err := c.GetMedia(ctx, 999); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("GetMedia(999) = %v, want ErrNotFound", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
