package worker

import (
	"context"
	"strings"

	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/wordpress"
)

// Outcomes of the FAQ's structured data, in a publish report.
const (
	faqSchemaKept     = "kept"
	faqSchemaStripped = "stripped"
)

// faqStrippedNote tells the editor why the FAQ has no structured data.
const faqStrippedNote = "WordPress removed the FAQ's structured data (FAQPage JSON-LD) from the post: its user " +
	"may not publish scripts (no unfiltered_html capability, or DISALLOW_UNFILTERED_HTML is set in wp-config.php). " +
	"The visible FAQ is published; for rich results, let an SEO plugin add the FAQ schema or give the user " +
	"the Administrator role."

// faqReport says whether a post's FAQ kept its structured data.
type faqReport struct {
	Questions int    `json:"questions"`
	Schema    string `json:"schema"`
	Note      string `json:"note,omitempty"`
}

// faqSchema is the JSON-LD of the draft's FAQ section, "" when it has
// none or the site removes scripts.
func (pub *publication) faqSchema() string {
	if pub.noScript {
		return ""
	}
	return pub.draftFAQSchema()
}

// keepFAQ reports on the FAQ's structured data sent with in. When
// WordPress removed it (its filter drops the script element but keeps the
// JSON as visible text), the post is written again without it.
func (pub *publication) keepFAQ(ctx context.Context, in wordpress.PostInput, post wordpress.Post) (wordpress.Post, *faqReport, error) {
	if !strings.Contains(in.Content, markup.FAQSchemaMarker) {
		return post, nil, nil
	}
	report := &faqReport{Questions: len(pub.faq), Schema: faqSchemaKept}
	if strings.Contains(post.Content, `<script type="application/ld+json">`) && strings.Contains(post.Content, markup.FAQSchemaMarker) {
		return post, report, nil
	}
	report.Schema, report.Note = faqSchemaStripped, faqStrippedNote
	pub.noScript = true
	in.Content = strings.Replace(in.Content, pub.draftFAQSchema(), "", 1)
	in.Status = post.Status
	post, err := pub.wp.UpdatePost(ctx, post.ID, in)
	return post, report, err
}

// draftFAQSchema is the draft's FAQ JSON-LD whether or not the site keeps it.
func (pub *publication) draftFAQSchema() string {
	return markup.FAQSchema(pub.faq)
}
