package wordpress

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// maxFilenameBase is the longest file name sent, without its extension.
const maxFilenameBase = 80

// imageExts are the extensions WordPress accepts for each image type; the
// first is the one added when a file name lacks a fitting one, since
// WordPress refuses a file whose extension does not match its type.
var imageExts = map[string][]string{
	"image/png":  {".png"},
	"image/jpeg": {".jpg", ".jpeg", ".jpe"},
	"image/webp": {".webp"},
	"image/gif":  {".gif"},
	"image/avif": {".avif"},
}

// MediaInput is a file to upload and the texts to store with it.
type MediaInput struct {
	// Filename is the file's name; it is reduced to plain ASCII and given
	// an extension that fits ContentType.
	Filename string
	// ContentType is e.g. image/png; "" means sniffed from Data.
	ContentType string
	Data        []byte
	// Title, AltText and Caption are stored when set.
	Title, AltText, Caption string
}

// Media is a media item as WordPress stored it.
type Media struct {
	ID                  int64
	Slug                string
	Title, AltText      string
	Caption             string // raw
	SourceURL, MimeType string
}

// wireMedia is a media item as WordPress sends it.
type wireMedia struct {
	ID        int64    `json:"id"`
	Slug      string   `json:"slug"`
	Title     rendered `json:"title"`
	AltText   string   `json:"alt_text"`
	Caption   rendered `json:"caption"`
	SourceURL string   `json:"source_url"`
	MimeType  string   `json:"mime_type"`
}

// UnmarshalJSON reads a media item from WordPress's JSON.
func (m *Media) UnmarshalJSON(b []byte) error {
	var w wireMedia
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Media{
		ID: w.ID, Slug: w.Slug, Title: w.Title.text(), AltText: w.AltText,
		Caption: w.Caption.text(), SourceURL: w.SourceURL, MimeType: w.MimeType,
	}
	if m.ID <= 0 {
		return fmt.Errorf("no media id")
	}
	return nil
}

// mediaRoute is the route of one media item.
func mediaRoute(id int64) string { return "/wp/v2/media/" + strconv.FormatInt(id, 10) }

// UploadMedia uploads a file as the raw body (with Content-Type,
// Content-Disposition and Content-MD5) and the texts as query arguments.
// When the answer lacks a text, UpdateMedia sets it; if that fails, the
// uploaded Media is returned with the error, so that the caller can keep
// its id. Like CreatePost, it is sent once.
func (c *Client) UploadMedia(ctx context.Context, in MediaInput) (Media, error) {
	if len(in.Data) == 0 {
		return Media{}, errs.Invalid("data", "the file to upload is empty")
	}
	ctype := in.ContentType
	if ctype == "" {
		ctype = http.DetectContentType(in.Data)
	}
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		ctype = mt
	}
	name := safeFilename(in.Filename, ctype)
	sum := md5.Sum(in.Data)
	q := editQuery()
	setIf(q, "title", in.Title)
	setIf(q, "alt_text", in.AltText)
	setIf(q, "caption", in.Caption)
	k := call{
		op: "upload " + name, what: "media", method: http.MethodPost, route: "/wp/v2/media", query: q,
		body: in.Data, contentType: ctype,
		header: map[string]string{
			"Content-Disposition": `attachment; filename="` + name + `"`,
			"Content-MD5":         hex.EncodeToString(sum[:]),
		},
	}
	var m Media
	if _, err := c.do(ctx, k, &m); err != nil {
		return Media{}, err
	}
	if textsKept(m, in) {
		return m, nil
	}
	updated, err := c.UpdateMedia(ctx, m.ID, in.Title, in.AltText, in.Caption)
	if err != nil {
		return m, fmt.Errorf("wordpress: media %d was uploaded, but setting its texts failed: %w", m.ID, err)
	}
	return updated, nil
}

// textsKept reports whether m holds every text in sets (compared with
// whitespace collapsed, as WordPress trims them).
func textsKept(m Media, in MediaInput) bool {
	same := func(want, got string) bool {
		return want == "" || strings.Join(strings.Fields(want), " ") == strings.Join(strings.Fields(got), " ")
	}
	return same(in.Title, m.Title) && same(in.AltText, m.AltText) && same(in.Caption, m.Caption)
}

// setIf sets q[key] when v is not empty.
func setIf(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

// GetMedia returns media item id; a missing one gives an error wrapping
// errs.ErrNotFound.
func (c *Client) GetMedia(ctx context.Context, id int64) (Media, error) {
	var m Media
	k := call{op: fmt.Sprintf("get media %d", id), what: "media", method: http.MethodGet, route: mediaRoute(id), query: editQuery()}
	_, err := c.do(ctx, k, &m)
	return m, err
}

// UpdateMedia sets the title, alt text and caption of media item id; empty
// ones are left as they are.
func (c *Client) UpdateMedia(ctx context.Context, id int64, title, alt, caption string) (Media, error) {
	fields := map[string]string{}
	for key, v := range map[string]string{"title": title, "alt_text": alt, "caption": caption} {
		if v != "" {
			fields[key] = v
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return Media{}, fmt.Errorf("wordpress: update media %d: %w", id, err)
	}
	k := call{
		op: fmt.Sprintf("update media %d", id), what: "media", method: http.MethodPost, route: mediaRoute(id), repeatable: true,
		query: editQuery(), body: body, contentType: "application/json",
	}
	var m Media
	_, err = c.do(ctx, k, &m)
	return m, err
}

// SearchMedia returns the media items whose title or file name contains
// search (up to 1,000).
func (c *Client) SearchMedia(ctx context.Context, search string) ([]Media, error) {
	q := url.Values{"search": {search}, "context": {"edit"}}
	return list[Media](ctx, c, call{op: fmt.Sprintf("search media for %q", search), what: "search", method: http.MethodGet, route: "/wp/v2/media", query: q})
}

// safeFilename reduces name to what a quoted ASCII filename= carries
// safely (letters, digits, dot, dash, underscore), with an extension that
// fits ctype.
func safeFilename(name, ctype string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	ext := strings.ToLower(path.Ext(name))
	base := asciiWord(strings.TrimSuffix(name, path.Ext(name)), "._")
	if len(base) > maxFilenameBase {
		base = strings.TrimRight(base[:maxFilenameBase], "-._")
	}
	if base == "" {
		base = "image"
	}
	if exts, ok := imageExts[ctype]; ok && !slices.Contains(exts, ext) {
		ext = exts[0]
	}
	if asciiWord(ext, "") != strings.TrimPrefix(ext, ".") {
		ext = ""
	}
	return base + ext
}
