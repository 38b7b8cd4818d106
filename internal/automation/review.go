package automation

import "github.com/presswork/presswork/internal/store"

// NeedsReview says whether publishing draft d must wait for an editor: its
// site requires review and nobody has approved it.
func NeedsReview(site store.Site, d store.Draft) bool {
	return site.RequireReview && d.Status != store.DraftApproved
}

// SplitForReview sorts drafts asked to be published, in their order, into
// those to publish now and those to hold for review; sites holds each
// draft's site by id.
func SplitForReview(drafts []store.Draft, sites map[int64]store.Site) (publish, held []store.Draft) {
	for _, d := range drafts {
		if NeedsReview(sites[d.SiteID], d) {
			held = append(held, d)
		} else {
			publish = append(publish, d)
		}
	}
	return publish, held
}

// PublishesUnapproved says whether a rule's publish stage takes drafts
// nobody approved: the rule auto-approves and its site does not require
// review (a site that does publishes approved drafts only).
func PublishesUnapproved(rule store.Rule, site store.Site) bool {
	return rule.AutoApprove && !site.RequireReview
}
