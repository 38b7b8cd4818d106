package replicate

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", time.Second},
		{"", 10 * time.Second},
		{"soon", 10 * time.Second},
		{"-3", 10 * time.Second},
		{"86400", 10 * time.Minute},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), time.Second},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAspectRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		w, h int
		want string
	}{
		{0, 0, "16:9"},
		{1200, 630, "16:9"},
		{1024, 1024, "1:1"},
		{1080, 1920, "9:16"},
		{2560, 1080, "21:9"},
		{800, 600, "4:3"},
		{1000, 1500, "2:3"},
		{1200, 0, "16:9"},
	}
	for _, tt := range tests {
		if got := aspectRatio(tt.w, tt.h); got != tt.want {
			t.Errorf("aspectRatio(%d, %d) = %q, want %q", tt.w, tt.h, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("héllo", 2); got != "hé..." {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("hi", 2); got != "hi" {
		t.Errorf("truncate = %q", got)
	}
}
