package offline

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// ImageModelName is the name of the offline image model; it is also the
// Model reported in ai.Image.
const ImageModelName = "offline-image-v1"

// The default image size (a common social-card size) and the largest side
// the offline model draws.
const (
	DefaultImageWidth  = 1200
	DefaultImageHeight = 630
	maxImageSide       = 4096
)

// ImageModel is the offline ai.ImageModel: it draws a deterministic PNG
// from the title (the prompt when there is no title): a diagonal gradient
// and translucent circles and bars in colours derived from a hash of the
// title, with the title's initials in a block font on top. The same title
// and size always give the same bytes. It needs no network, never calls
// OnStarted, returns no prediction id, costs nothing and is safe for
// concurrent use.
type ImageModel struct{}

var _ ai.ImageModel = (*ImageModel)(nil)

// NewImageModel returns the offline image model.
func NewImageModel() *ImageModel { return &ImageModel{} }

// Name returns the model name, "offline-image-v1".
func (m *ImageModel) Name() string { return ImageModelName }

// Cancel does nothing: the offline model has no remote predictions.
func (m *ImageModel) Cancel(context.Context, string) error { return nil }

// Generate draws the image for req.Title at req.Width x req.Height
// (1200x630 when both are zero; a missing side keeps the 1200:630 aspect).
// A side over 4096 pixels or below zero is a permanent validation error.
func (m *ImageModel) Generate(ctx context.Context, req ai.ImageRequest) (ai.Image, error) {
	if err := ctx.Err(); err != nil {
		return ai.Image{}, err
	}
	w, h, err := imageSize(req.Width, req.Height)
	if err != nil {
		return ai.Image{}, err
	}
	seed := strings.TrimSpace(req.Title)
	if seed == "" {
		seed = strings.TrimSpace(req.Prompt)
	}
	img := drawCard(seed, w, h)
	if err := ctx.Err(); err != nil {
		return ai.Image{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ai.Image{}, fmt.Errorf("offline image: encode png: %w", err)
	}
	return ai.Image{
		Bytes:       buf.Bytes(),
		ContentType: "image/png",
		Size:        buf.Len(),
		Width:       w,
		Height:      h,
		Model:       ImageModelName,
	}, nil
}

// imageSize applies the defaults and limits to a requested size.
func imageSize(w, h int) (int, int, error) {
	if w < 0 || h < 0 || w > maxImageSide || h > maxImageSide {
		return 0, 0, errs.Invalid("size", "width and height must be from 1 to %d pixels, got %dx%d", maxImageSide, w, h)
	}
	switch {
	case w == 0 && h == 0:
		w, h = DefaultImageWidth, DefaultImageHeight
	case h == 0:
		h = max(1, (w*DefaultImageHeight+DefaultImageWidth/2)/DefaultImageWidth)
	case w == 0:
		w = min(maxImageSide, max(1, (h*DefaultImageWidth+DefaultImageHeight/2)/DefaultImageHeight))
	}
	return w, h, nil
}

// rgb is an opaque colour with float channels in [0, 1].
type rgb struct{ r, g, b float64 }

// canvas is an opaque RGBA image with alpha blending of flat colours.
type canvas struct {
	img  *image.RGBA
	w, h int
}

func (c *canvas) set(x, y int, col rgb) {
	i := c.img.PixOffset(x, y)
	p := c.img.Pix[i : i+4 : i+4]
	p[0], p[1], p[2], p[3] = to8(col.r), to8(col.g), to8(col.b), 0xff
}

// blend paints col with opacity a over the pixel at (x, y).
func (c *canvas) blend(x, y int, col rgb, a float64) {
	i := c.img.PixOffset(x, y)
	p := c.img.Pix[i : i+3 : i+3]
	p[0] = to8(float64(p[0])/255*(1-a) + col.r*a)
	p[1] = to8(float64(p[1])/255*(1-a) + col.g*a)
	p[2] = to8(float64(p[2])/255*(1-a) + col.b*a)
}

// fillRect blends col over the rectangle [x0, x1) x [y0, y1), clipped.
func (c *canvas) fillRect(x0, y0, x1, y1 int, col rgb, a float64) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, c.w), min(y1, c.h)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			c.blend(x, y, col, a)
		}
	}
}

// fillCircle blends col over the disc of radius r at (cx, cy), clipped.
func (c *canvas) fillCircle(cx, cy, r int, col rgb, a float64) {
	r2 := r * r
	for y := max(cy-r, 0); y < min(cy+r+1, c.h); y++ {
		dy := y - cy
		for x := max(cx-r, 0); x < min(cx+r+1, c.w); x++ {
			if dx := x - cx; dx*dx+dy*dy <= r2 {
				c.blend(x, y, col, a)
			}
		}
	}
}

// drawCard draws the card for seed at w x h.
func drawCard(seed string, w, h int) *image.RGBA {
	f := fnv.New64a()
	f.Write([]byte(seed))
	sum := f.Sum64()
	rng := rand.New(rand.NewPCG(sum, sum^0x9e3779b97f4a7c15))

	hue := rng.Float64()
	from := hsl(hue, 0.55+0.2*rng.Float64(), 0.28+0.1*rng.Float64())
	to := hsl(hue+0.08+0.2*rng.Float64(), 0.6+0.2*rng.Float64(), 0.5+0.1*rng.Float64())
	accent := hsl(hue+0.5, 0.7, 0.6)

	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), w: w, h: h}

	// A linear gradient along a hashed angle.
	angle := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(angle), math.Sin(angle)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range [][2]float64{{0, 0}, {float64(w), 0}, {0, float64(h)}, {float64(w), float64(h)}} {
		d := p[0]*dx + p[1]*dy
		lo, hi = min(lo, d), max(hi, d)
	}
	span := max(hi-lo, 1)
	for y := range h {
		for x := range w {
			t := (float64(x)*dx + float64(y)*dy - lo) / span
			c.set(x, y, rgb{
				from.r + (to.r-from.r)*t,
				from.g + (to.g-from.g)*t,
				from.b + (to.b-from.b)*t,
			})
		}
	}

	// Translucent circles and bars.
	short := min(w, h)
	for range 3 + rng.IntN(4) {
		col := accent
		if rng.IntN(2) == 0 {
			col = rgb{1, 1, 1}
		}
		a := 0.08 + 0.17*rng.Float64()
		if rng.IntN(3) == 0 {
			bw := short/8 + rng.IntN(max(short/4, 1))
			x := rng.IntN(w)
			c.fillRect(x, 0, x+bw, h, col, a)
			continue
		}
		r := short/6 + rng.IntN(max(short/2, 1))
		c.fillCircle(rng.IntN(w), rng.IntN(h), r, col, a)
	}

	drawInitials(c, initials(seed), hsl(hue, 0.5, 0.15))
	return c.img
}

// drawInitials writes text (glyphs of glyphFont) centred in white with a
// soft shadow; with no text it draws a diamond of blocks instead.
func drawInitials(c *canvas, text []rune, shadow rgb) {
	white := rgb{1, 1, 1}
	if len(text) == 0 {
		s := max(min(c.w, c.h)/24, 1)
		n := 4 // the diamond's radius in blocks
		cx, cy := c.w/2, c.h/2
		for j := -n; j <= n; j++ {
			for i := -n; i <= n; i++ {
				if abs(i)+abs(j) <= n {
					x, y := cx+i*s-s/2, cy+j*s-s/2
					c.fillRect(x, y, x+s-max(s/8, 1), y+s-max(s/8, 1), white, 0.85)
				}
			}
		}
		return
	}
	cols := len(text)*(glyphW+1) - 1
	s := max(min(c.h*2/5/glyphH, c.w*4/5/cols), 1)
	x0 := (c.w - cols*s) / 2
	y0 := (c.h - glyphH*s) / 2
	off := max(s/5, 1)
	for pass, col := range []rgb{shadow, white} {
		a, d := 0.35, off
		if pass == 1 {
			a, d = 0.95, 0
		}
		for k, r := range text {
			g := glyphFont[r]
			gx := x0 + k*(glyphW+1)*s
			for row := range glyphH {
				for bit := range glyphW {
					if g[row][bit] == '#' {
						x, y := gx+bit*s+d, y0+row*s+d
						c.fillRect(x, y, x+s, y+s, col, a)
					}
				}
			}
		}
	}
}

// initialStopWords are skipped when taking initials, unless nothing else is
// left.
var initialStopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "and": true, "or": true, "to": true,
	"in": true, "on": true, "for": true, "with": true, "vs": true, "at": true, "by": true,
}

// initials returns up to three upper-case initials of title's words that
// the block font can draw (A-Z, 0-9; accents are not drawn).
func initials(title string) []rune {
	words := strings.FieldsFunc(title, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var out, stop []rune
	for _, w := range words {
		r := unicode.ToUpper([]rune(w)[0])
		if _, ok := glyphFont[r]; !ok {
			continue
		}
		if initialStopWords[strings.ToLower(w)] {
			stop = append(stop, r)
			continue
		}
		if out = append(out, r); len(out) == 3 {
			break
		}
	}
	if len(out) == 0 && len(stop) > 0 {
		out = stop[:min(len(stop), 3)]
	}
	return out
}

// hsl converts hue (turns, wrapped), saturation and lightness to RGB.
func hsl(h, s, l float64) rgb {
	h -= math.Floor(h)
	q := l + s - l*s
	if l < 0.5 {
		q = l * (1 + s)
	}
	p := 2*l - q
	return rgb{hueToRGB(p, q, h+1.0/3), hueToRGB(p, q, h), hueToRGB(p, q, h-1.0/3)}
}

func hueToRGB(p, q, t float64) float64 {
	t -= math.Floor(t)
	switch {
	case t < 1.0/6:
		return p + (q-p)*6*t
	case t < 0.5:
		return q
	case t < 2.0/3:
		return p + (q-p)*(2.0/3-t)*6
	}
	return p
}

func to8(v float64) uint8 {
	return uint8(math.Round(min(max(v, 0), 1) * 255))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// The block font: 5x7 glyphs for A-Z and 0-9.
const (
	glyphW = 5
	glyphH = 7
)

var glyphFont = map[rune][glyphH]string{
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'B': {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
	'C': {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'D': {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."},
	'E': {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'F': {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'G': {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"},
	'H': {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'I': {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'J': {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."},
	'K': {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
	'L': {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'M': {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'N': {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"},
	'O': {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'P': {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'Q': {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"},
	'R': {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'S': {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'T': {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'U': {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'V': {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'W': {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
	'X': {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
	'Y': {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
	'Z': {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"},
	'0': {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1': {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2': {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3': {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
	'4': {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5': {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6': {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7': {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8': {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9': {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
}
