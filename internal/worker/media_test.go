package worker

import (
	"testing"

	"github.com/presswork/presswork/internal/store"
)

func TestExtension(t *testing.T) {
	t.Parallel()
	for contentType, want := range map[string]string{"image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
		"image/png": ".png", "application/octet-stream": ".png"} {
		if got := extension(contentType); got != want {
			t.Errorf("extension(%q) = %q, want %q", contentType, got, want)
		}
	}
}

func TestMediaName(t *testing.T) {
	t.Parallel()
	pub := &publication{draft: store.Draft{ID: 42}}
	tests := []struct {
		img  store.Image
		want string
	}{
		{store.Image{Role: store.ImageRoleFeatured}, "presswork-draft-42-featured"},
		{store.Image{Role: store.ImageRoleInline, Position: 2}, "presswork-draft-42-inline-2"},
	}
	for _, tt := range tests {
		if got := pub.mediaName(tt.img); got != tt.want {
			t.Errorf("mediaName(%s %d) = %q, want %q", tt.img.Role, tt.img.Position, got, tt.want)
		}
	}
	if got, want := pub.markerComment(), "<!-- presswork-draft-42 -->"; got != want {
		t.Errorf("markerComment() = %q, want %q", got, want)
	}
}
