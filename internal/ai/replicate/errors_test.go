package replicate

import "testing"

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
