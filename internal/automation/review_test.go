package automation

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/store"
)

func TestNeedsReview(t *testing.T) {
	t.Parallel()
	tests := []struct {
		requireReview bool
		status        string
		want          bool
	}{
		{false, store.DraftWritten, false},
		{false, store.DraftApproved, false},
		{true, store.DraftWritten, true},
		{true, store.DraftAwaitingReview, true},
		{true, store.DraftPublished, true},
		{true, store.DraftApproved, false},
	}
	for _, tt := range tests {
		got := NeedsReview(store.Site{RequireReview: tt.requireReview}, store.Draft{Status: tt.status})
		if got != tt.want {
			t.Errorf("NeedsReview(require_review %v, status %s) = %v, want %v", tt.requireReview, tt.status, got, tt.want)
		}
	}
}

func TestSplitForReview(t *testing.T) {
	t.Parallel()
	sites := map[int64]store.Site{1: {ID: 1}, 2: {ID: 2, RequireReview: true}}
	drafts := []store.Draft{
		{ID: 10, SiteID: 1, Status: store.DraftWritten},
		{ID: 11, SiteID: 2, Status: store.DraftWritten},
		{ID: 12, SiteID: 2, Status: store.DraftApproved},
		{ID: 13, SiteID: 1, Status: store.DraftPublished},
		{ID: 14, SiteID: 2, Status: store.DraftPublished},
	}
	publish, held := SplitForReview(drafts, sites)
	ids := func(ds []store.Draft) []int64 {
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if diff := cmp.Diff([]int64{10, 12, 13}, ids(publish)); diff != "" {
		t.Errorf("published now (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{11, 14}, ids(held)); diff != "" {
		t.Errorf("held for review (-want +got):\n%s", diff)
	}
	if publish, held := SplitForReview(nil, sites); publish != nil || held != nil {
		t.Errorf("no drafts split into %v and %v, want none", publish, held)
	}
}

func TestPublishesUnapproved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		autoApprove, requireReview, want bool
	}{
		{false, false, false},
		{false, true, false},
		{true, false, true},
		{true, true, false},
	}
	for _, tt := range tests {
		got := PublishesUnapproved(store.Rule{AutoApprove: tt.autoApprove}, store.Site{RequireReview: tt.requireReview})
		if got != tt.want {
			t.Errorf("PublishesUnapproved(auto_approve %v, require_review %v) = %v, want %v",
				tt.autoApprove, tt.requireReview, got, tt.want)
		}
	}
}
