package fakewp

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// post is a stored post.
type post struct {
	ID                      int64
	Type                    string // post or page
	Link                    string // "" is the plain permalink
	Title, Content, Excerpt string
	Slug, Status, DateGMT   string
	FeaturedMedia           int64
	Categories, Tags        []int64
	Meta                    map[string]string
}

// media is a stored media item.
type media struct {
	ID                            int64
	Title, AltText, Caption, Slug string
	Filename, MimeType            string
	data                          []byte
}

// term is a stored category or tag.
type term struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Slug       string `json:"slug"`
	Taxonomy   string `json:"taxonomy"`
	Count      int    `json:"count"`
	Descriptor string `json:"description"`
}

var (
	reNonSlug  = regexp.MustCompile(`[^a-z0-9_-]+`)
	reFilename = regexp.MustCompile(`filename="?([^";]+)"?`)
	escapeName = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	statuses   = []string{"publish", "future", "draft", "pending", "private"}
	imageTypes = map[string][]string{"image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg", ".jpe"}, "image/gif": {".gif"}, "image/webp": {".webp"}}
)

// fakeSlug is a rough sanitize_title.
func fakeSlug(s string) string {
	return strings.Trim(reNonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, 64<<20))
}

// handle answers a REST request.
func (s *Server) handle(r *http.Request, route string, body []byte) answer {
	loggedIn, refusal := s.user(r)
	if refusal != nil {
		return refusal.answer()
	}
	if route == "/" {
		return ok(map[string]any{"name": "Fake Site", "namespaces": []string{"oembed/1.0", "wp/v2"}, "routes": map[string]any{}})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(strings.Trim(route, "/"), "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "wp" || parts[1] != "v2" {
		return noRoute()
	}
	var id string
	if len(parts) == 4 {
		id = parts[3]
	}
	if !loggedIn && (r.Method != http.MethodGet || r.URL.Query().Get("context") == "edit" || parts[2] == "users") {
		return anonymous(r.Method, parts[2])
	}
	switch parts[2] {
	case "users":
		if id == "me" && r.Method == http.MethodGet {
			return s.me()
		}
	case "posts":
		return s.handlePosts(r, "post", id, body)
	case "pages":
		return s.handlePosts(r, "page", id, body)
	case "media":
		return s.handleMedia(r, id, body)
	case "categories", "tags":
		return s.handleTerms(r, parts[2], id, body)
	}
	return noRoute()
}

func noRoute() answer {
	return fail(404, "rest_no_route", "No route was found matching the URL and request method.")
}

// anonymous is what WordPress answers a request it runs without a user.
func anonymous(method, coll string) answer {
	switch {
	case coll == "users":
		return fail(401, "rest_not_logged_in", "You are not currently logged in.")
	case method != http.MethodGet:
		return fail(401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
	}
	return fail(401, "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.")
}

func (s *Server) me() answer {
	caps := map[string]bool{}
	for _, c := range s.cfg.Caps {
		caps[c] = true
	}
	return ok(map[string]any{"id": 1, "name": "Eddie Editor", "username": User, "capabilities": caps, "roles": []string{"editor"}})
}

// idOf parses a route id.
func idOf(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// page cuts a list by per_page and page and sets the total headers.
func page[T any](q map[string][]string, items []T) answer {
	per, _ := strconv.Atoi(first(q["per_page"]))
	if per <= 0 {
		per = 10
	}
	if per > 100 {
		return invalidParam("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
	}
	n, _ := strconv.Atoi(first(q["page"]))
	n = max(n, 1)
	pages := (len(items) + per - 1) / per
	if n > max(pages, 1) {
		return fail(400, "rest_post_invalid_page_number", "The page number requested is larger than the number of pages available.")
	}
	lo, hi := min((n-1)*per, len(items)), min(n*per, len(items))
	return answer{status: 200, body: append([]T{}, items[lo:hi]...), header: map[string]string{
		"X-WP-Total": strconv.Itoa(len(items)), "X-WP-TotalPages": strconv.Itoa(pages),
	}}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// handlePosts handles /wp/v2/posts and /wp/v2/posts/{id} (typ "post"),
// and /wp/v2/pages and /wp/v2/pages/{id} (typ "page"): posts and pages
// share their ids, as in WordPress's wp_posts table.
func (s *Server) handlePosts(r *http.Request, typ, id string, body []byte) answer {
	q := r.URL.Query()
	if id == "" && r.Method == http.MethodGet {
		if st := q.Get("status"); st != "" && st != "any" && !slices.Contains(statuses, st) {
			return invalidParam("status", "status[0] is not one of publish, future, draft, pending, private, trash, auto-draft, inherit, request-pending, request-confirmed, request-failed, request-completed, and any.")
		}
		var out []map[string]any
		for i := int64(1); i < s.nextID; i++ {
			p := s.posts[i]
			if p == nil || p.Type != typ || p.Status == "trash" || (q.Get("slug") != "" && p.Slug != q.Get("slug")) ||
				!strings.Contains(strings.ToLower(p.Title+" "+p.Content), strings.ToLower(q.Get("search"))) {
				continue
			}
			if q.Get("status") != "any" && p.Status != cmpOr(q.Get("status"), "publish") {
				continue
			}
			out = append(out, s.postJSON(p, q))
		}
		return page(q, out)
	}
	if id == "" && r.Method == http.MethodPost {
		return s.savePost(&post{Type: typ, Status: "draft"}, body, true)
	}
	n, valid := idOf(id)
	p := s.posts[n]
	if !valid || p == nil || p.Type != typ {
		return fail(404, "rest_post_invalid_id", "Invalid post ID.")
	}
	if r.Method == http.MethodPost {
		return s.savePost(p, body, false)
	}
	return ok(s.postJSON(p, q))
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// postInput is what a post create or update may send.
type postInput struct {
	Title, Content, Excerpt, Slug, Status, DateGMT *string
	Categories, Tags                               []int64
	FeaturedMedia                                  *int64            `json:"featured_media"`
	Meta                                           map[string]string `json:"meta"`
}

// savePost applies a create or update.
func (s *Server) savePost(p *post, body []byte, create bool) answer {
	var in postInput
	if err := json.Unmarshal(body, &in); err != nil {
		return fail(400, "rest_invalid_json", "Invalid JSON body passed.")
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	if d, has := raw["date_gmt"]; has {
		var v string
		_ = json.Unmarshal(d, &v)
		in.DateGMT = &v
	}
	if in.Status != nil && !slices.Contains(statuses, *in.Status) {
		return invalidParam("status", "status is not one of publish, future, draft, pending, private.")
	}
	if in.Status != nil && *in.Status == "publish" && !s.can("publish_posts") {
		return fail(403, "rest_cannot_publish", "Sorry, you are not allowed to publish posts in this post type.")
	}
	if in.FeaturedMedia != nil && *in.FeaturedMedia != 0 && s.media[*in.FeaturedMedia] == nil {
		return fail(400, "rest_invalid_featured_media", "Invalid featured media ID.")
	}
	next := *p
	for dst, v := range map[*string]*string{&next.Title: in.Title, &next.Content: in.Content, &next.Excerpt: in.Excerpt, &next.Status: in.Status, &next.DateGMT: in.DateGMT} {
		if v != nil {
			*dst = *v
		}
	}
	if in.Slug != nil {
		next.Slug = fakeSlug(*in.Slug)
	}
	if in.Categories != nil {
		next.Categories = s.existing("categories", in.Categories)
	}
	if in.Tags != nil {
		next.Tags = s.existing("tags", in.Tags)
	}
	if in.FeaturedMedia != nil {
		next.FeaturedMedia = *in.FeaturedMedia
	}
	s.keepMeta(&next, in.Meta)
	if create {
		next.ID = s.nextID
		s.nextID++
	}
	s.publishSlug(&next)
	s.posts[next.ID] = &next
	*p = next
	res := ok(s.postJSON(&next, url.Values{"context": {"edit"}}))
	if create {
		res.status = http.StatusCreated
	}
	return res
}

// existing keeps the ids of terms that exist, as WordPress skips others.
func (s *Server) existing(tax string, ids []int64) []int64 {
	out := []int64{}
	for _, id := range ids {
		for _, t := range s.terms[tax] {
			if t.ID == id {
				out = append(out, id)
			}
		}
	}
	return out
}

// keepMeta stores the registered keys of meta and drops the others.
func (s *Server) keepMeta(p *post, meta map[string]string) {
	if p.Meta == nil {
		p.Meta = map[string]string{}
	}
	for k, v := range meta {
		if slices.Contains(s.cfg.RegisteredMeta, k) {
			p.Meta[k] = v
		}
	}
}

// publishSlug gives a published post a unique slug (drafts keep theirs).
func (s *Server) publishSlug(p *post) {
	if p.Status == "draft" || p.Status == "pending" {
		return
	}
	if p.Slug == "" {
		p.Slug = fakeSlug(p.Title)
	}
	base, n := p.Slug, 2
	for s.slugTaken(p.Slug, p.ID) {
		p.Slug = fmt.Sprintf("%s-%d", base, n)
		n++
	}
}

func (s *Server) slugTaken(slug string, id int64) bool {
	for _, o := range s.posts {
		if o.ID != id && o.Slug == slug && o.Status != "draft" && o.Status != "pending" {
			return true
		}
	}
	return false
}

// postJSON is a post or page as WordPress sends it: raw fields only in
// the edit context, and only the fields _fields names when it is given.
func (s *Server) postJSON(p *post, q url.Values) map[string]any {
	var meta any = []any{} // WordPress sends [] for no meta
	if len(p.Meta) > 0 {
		meta = p.Meta
	}
	var date any
	if p.DateGMT != "" {
		date = p.DateGMT
	}
	link := fmt.Sprintf("%s/?p=%d", s.SiteURL(), p.ID)
	if p.Type == "page" {
		link = fmt.Sprintf("%s/?page_id=%d", s.SiteURL(), p.ID)
	}
	if p.Link != "" {
		link = p.Link
	}
	title := map[string]any{"raw": p.Title, "rendered": texturize.Replace(escapeName.Replace(p.Title))}
	m := map[string]any{
		"id": p.ID, "type": p.Type, "slug": p.Slug, "status": p.Status, "link": link,
		"date_gmt": date, "title": title, "content": rendered(p.Content), "excerpt": rendered(p.Excerpt),
		"featured_media": p.FeaturedMedia, "categories": nonNil(p.Categories), "tags": nonNil(p.Tags), "meta": meta,
	}
	if p.Type == "page" {
		delete(m, "categories")
		delete(m, "tags")
	}
	if q.Get("context") != "edit" {
		for _, f := range []string{"title", "content", "excerpt"} {
			delete(m[f].(map[string]any), "raw")
		}
	}
	return onlyFields(m, q.Get("_fields"))
}

// texturize is the part of wptexturize a title shows most: apostrophes
// become the HTML entity of a right single quote.
var texturize = strings.NewReplacer("'", "&#8217;")

// onlyFields keeps the top-level fields a comma-separated _fields names
// (all of them when it is empty), as rest_filter_response_fields does.
func onlyFields(m map[string]any, fields string) map[string]any {
	if fields == "" {
		return m
	}
	out := map[string]any{}
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if top, _, _ := strings.Cut(f, "."); m[top] != nil {
			out[top] = m[top]
		}
	}
	return out
}

func rendered(raw string) map[string]any {
	return map[string]any{"raw": raw, "rendered": "<p>" + escapeName.Replace(raw) + "</p>"}
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// handleMedia handles /wp/v2/media and /wp/v2/media/{id}.
func (s *Server) handleMedia(r *http.Request, id string, body []byte) answer {
	q := r.URL.Query()
	if id == "" && r.Method == http.MethodGet {
		var out []map[string]any
		for i := int64(1); i < s.nextID; i++ {
			if m := s.media[i]; m != nil && strings.Contains(strings.ToLower(m.Title+" "+m.Filename), strings.ToLower(q.Get("search"))) {
				out = append(out, s.mediaJSON(m))
			}
		}
		return page(q, out)
	}
	if id == "" && r.Method == http.MethodPost {
		return s.upload(r, body)
	}
	n, valid := idOf(id)
	m := s.media[n]
	if !valid || m == nil {
		return fail(404, "rest_post_invalid_id", "Invalid post ID.")
	}
	if r.Method == http.MethodPost {
		var in struct{ Title, AltText, Caption *string }
		var raw map[string]*string
		if json.Unmarshal(body, &raw) != nil {
			return fail(400, "rest_invalid_json", "Invalid JSON body passed.")
		}
		in.Title, in.AltText, in.Caption = raw["title"], raw["alt_text"], raw["caption"]
		for dst, v := range map[*string]*string{&m.Title: in.Title, &m.AltText: in.AltText, &m.Caption: in.Caption} {
			if v != nil {
				*dst = *v
			}
		}
	}
	return ok(s.mediaJSON(m))
}

// upload stores a raw-body upload, checking the headers as WordPress does.
func (s *Server) upload(r *http.Request, body []byte) answer {
	if !s.can("upload_files") {
		return fail(403, "rest_cannot_create", "Sorry, you are not allowed to upload media on this site.")
	}
	if len(body) == 0 {
		return fail(400, "rest_upload_no_data", "No data supplied.")
	}
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		return fail(400, "rest_upload_no_content_type", "No Content-Type supplied.")
	}
	disp := r.Header.Get("Content-Disposition")
	if disp == "" {
		return fail(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
	}
	match := reFilename.FindStringSubmatch(disp)
	if match == nil || strings.Contains(disp, "filename*=") && !strings.Contains(disp, "filename=") {
		return fail(400, "rest_upload_invalid_disposition", "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as `attachment; filename=\"image.png\"` or similar.")
	}
	if want := r.Header.Get("Content-MD5"); want != "" {
		sum := md5.Sum(body)
		if strings.TrimSpace(want) != hex.EncodeToString(sum[:]) {
			return fail(412, "rest_upload_hash_mismatch", "Content hash did not match expected.")
		}
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	name := match[1]
	// WordPress allows more types (text, PDF); the fake only images.
	if !slices.Contains(imageTypes[mt], strings.ToLower(path.Ext(name))) {
		return fail(500, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.")
	}
	q := r.URL.Query()
	m := &media{ID: s.nextID, Filename: name, MimeType: mt, data: body, Title: strings.TrimSuffix(name, path.Ext(name)), Slug: fakeSlug(strings.TrimSuffix(name, path.Ext(name)))}
	s.nextID++
	if !s.cfg.IgnoreMediaTexts {
		if v := q.Get("title"); v != "" {
			m.Title = v
		}
		m.AltText, m.Caption = q.Get("alt_text"), q.Get("caption")
	}
	s.media[m.ID] = m
	res := ok(s.mediaJSON(m))
	res.status = http.StatusCreated
	return res
}

func (s *Server) mediaJSON(m *media) map[string]any {
	return map[string]any{
		"id": m.ID, "slug": m.Slug, "title": rendered(m.Title), "alt_text": m.AltText, "caption": rendered(m.Caption),
		"mime_type": m.MimeType, "media_type": "image", "source_url": s.SiteURL() + "/wp-content/uploads/2026/11/" + m.Filename,
	}
}

// handleTerms handles /wp/v2/categories and /wp/v2/tags.
func (s *Server) handleTerms(r *http.Request, tax, id string, body []byte) answer {
	q := r.URL.Query()
	if id != "" {
		return noRoute()
	}
	if r.Method == http.MethodGet {
		var out []*term
		for _, t := range s.terms[tax] {
			if (q.Get("slug") == "" || t.Slug == q.Get("slug")) && strings.Contains(strings.ToLower(t.Name), strings.ToLower(q.Get("search"))) {
				out = append(out, t)
			}
		}
		return page(q, out)
	}
	if !s.can("manage_categories") {
		return fail(403, "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.")
	}
	var in struct{ Name string }
	if json.Unmarshal(body, &in) != nil || strings.TrimSpace(in.Name) == "" {
		return fail(400, "rest_missing_callback_param", "Missing parameter(s): name")
	}
	name := escapeName.Replace(strings.TrimSpace(in.Name))
	for _, t := range s.terms[tax] {
		if strings.EqualFold(t.Name, name) {
			var tid any = t.ID
			if s.cfg.TermIDAsString {
				tid = strconv.FormatInt(t.ID, 10)
			}
			return answer{status: 400, body: map[string]any{
				"code": "term_exists", "message": "A term with the name provided already exists in this taxonomy.",
				"data": map[string]any{"status": 400, "term_id": tid},
			}}
		}
	}
	t := s.addTerm(tax, name, "")
	return answer{status: http.StatusCreated, body: t}
}

// addTerm stores a term; its slug is made from the name unless given.
func (s *Server) addTerm(tax, name, slug string) *term {
	if slug == "" {
		slug = fakeSlug(strings.ReplaceAll(name, "&amp;", ""))
	}
	t := &term{ID: s.nextID, Name: name, Slug: slug, Taxonomy: tax}
	s.nextID++
	s.terms[tax] = append(s.terms[tax], t)
	return t
}
