package offline

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

func TestImageModelDrawsValidPNGOfRequestedSize(t *testing.T) {
	t.Parallel()
	m := NewImageModel()
	tests := []struct {
		name         string
		req          ai.ImageRequest
		wantW, wantH int
	}{
		{name: "default size", req: ai.ImageRequest{Title: "Best Trail Running Shoes for Beginners"}, wantW: 1200, wantH: 630},
		{name: "explicit size", req: ai.ImageRequest{Title: "Sourdough Starter Guide", Width: 640, Height: 480}, wantW: 640, wantH: 480},
		{name: "only width keeps aspect", req: ai.ImageRequest{Title: "x", Width: 600}, wantW: 600, wantH: 315},
		{name: "only height keeps aspect", req: ai.ImageRequest{Title: "x", Height: 315}, wantW: 600, wantH: 315},
		{name: "tiny", req: ai.ImageRequest{Title: "Nike vs Adidas", Width: 1, Height: 1}, wantW: 1, wantH: 1},
		{name: "tall", req: ai.ImageRequest{Title: "Tall", Width: 300, Height: 2000}, wantW: 300, wantH: 2000},
		{name: "empty title uses prompt", req: ai.ImageRequest{Prompt: "a bowl of ramen"}, wantW: 1200, wantH: 630},
		{name: "nothing at all", req: ai.ImageRequest{}, wantW: 1200, wantH: 630},
		{name: "non latin title", req: ai.ImageRequest{Title: "ランニングシューズ おすすめ"}, wantW: 1200, wantH: 630},
		{name: "stop words only", req: ai.ImageRequest{Title: "The And Of"}, wantW: 1200, wantH: 630},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := m.Generate(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(got.Bytes))
			if err != nil {
				t.Fatalf("bytes are not a PNG: %v", err)
			}
			if _, err := png.Decode(bytes.NewReader(got.Bytes)); err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			want := ai.Image{ContentType: "image/png", Size: len(got.Bytes), Width: tt.wantW, Height: tt.wantH, Model: "offline-image-v1"}
			meta := got
			meta.Bytes = nil
			if diff := cmp.Diff(want, meta); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
			if cfg.Width != tt.wantW || cfg.Height != tt.wantH {
				t.Errorf("decoded size %dx%d, want %dx%d", cfg.Width, cfg.Height, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestImageModelIsDeterministicPerTitle(t *testing.T) {
	t.Parallel()
	m := NewImageModel()
	gen := func(title string) []byte {
		t.Helper()
		img, err := m.Generate(context.Background(), ai.ImageRequest{Title: title, Width: 320, Height: 168})
		if err != nil {
			t.Fatalf("Generate(%q): %v", title, err)
		}
		return img.Bytes
	}
	a1, a2 := gen("How to Make Sourdough Bread"), gen("How to Make Sourdough Bread")
	if !bytes.Equal(a1, a2) {
		t.Error("the same title gave different images")
	}
	if b := gen("Best Laptops 2026"); bytes.Equal(a1, b) {
		t.Error("different titles gave the same image")
	}
}

func TestImageModelDrawsInitials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		title string
		want  string
	}{
		{"Best Trail Running Shoes", "BTR"},
		{"How to Make Sourdough Bread", "HMS"},
		{"the art of war", "AW"},
		{"The And Of", "TAO"},
		{"Élan vital", "V"},
		{"top 10 laptops", "T1L"},
		{"ランニングシューズ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(initials(tt.title)); got != tt.want {
			t.Errorf("initials(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestImageModelRejectsBadSizesPermanently(t *testing.T) {
	t.Parallel()
	m := NewImageModel()
	for _, req := range []ai.ImageRequest{
		{Title: "x", Width: 5000, Height: 100},
		{Title: "x", Width: 100, Height: 4097},
		{Title: "x", Width: -1, Height: 100},
	} {
		_, err := m.Generate(context.Background(), req)
		if !errs.IsPermanent(err) {
			t.Errorf("Generate(%dx%d) error = %v, want a permanent error", req.Width, req.Height, err)
		}
	}
}

func TestImageModelHonoursContextAndHasNoPredictions(t *testing.T) {
	t.Parallel()
	m := NewImageModel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Generate(ctx, ai.ImageRequest{Title: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
	called := false
	img, err := m.Generate(context.Background(), ai.ImageRequest{
		Title:     "x",
		Width:     10,
		Height:    10,
		OnStarted: func(context.Context, string) error { called = true; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if called || img.PredictionID != "" || img.CostUSD != 0 {
		t.Errorf("offline model: OnStarted called=%v, PredictionID=%q, CostUSD=%v; want none", called, img.PredictionID, img.CostUSD)
	}
	if err := m.Cancel(context.Background(), "anything"); err != nil {
		t.Errorf("Cancel: %v", err)
	}
	if m.Name() != ImageModelName {
		t.Errorf("Name() = %q", m.Name())
	}
}
