package cluster

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
)

// cosineTo returns a 2-D unit vector at cosine c to (1, 0), on the side
// of sign.
func cosineTo(c, sign float64) []float32 {
	return []float32{float32(c), float32(sign * math.Sqrt(1-c*c))}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opt := Options{Threshold: 0.6, AttachThreshold: 0.3, MaxSize: 4}
	// Cluster 0 points along x, cluster 1 along y; cluster 2 (along x too)
	// is full.
	existing := []Existing{{Mean: []float32{2, 0}, Size: 2}, {Mean: []float32{0, 0.5}, Size: 1}, {Mean: []float32{1, 0}, Size: 4}}
	vectors := [][]float32{
		cosineTo(0.9, 1),  // 0: close to cluster 0
		cosineTo(0.5, -1), // 1: between Threshold and AttachThreshold of cluster 0
		{0, 3},            // 2: cluster 1
		{-1, 0},           // 3: near nothing
		{0, 0},            // 4: zero
		cosineTo(0.95, 1), // 5: closer to cluster 0 than 0 and 6
		cosineTo(0.8, -1), // 6: close to cluster 0, which has room for two
	}
	got, err := Join(ctx, vectors, existing, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, -1, 1, -1, -1, 0, -1}, got); diff != "" {
		t.Errorf("Join (-want +got):\n%s", diff)
	}
	// As leftovers, 1 passes the lower threshold; room still goes to the
	// most similar.
	got, err = Join(ctx, vectors[:2], existing, opt, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 0}, got); diff != "" {
		t.Errorf("Join of leftovers (-want +got):\n%s", diff)
	}
	if got, err := Join(ctx, vectors, nil, opt, false); err != nil || len(got) != len(vectors) || got[0] != -1 {
		t.Errorf("Join with no clusters = %v, %v", got, err)
	}
	if _, err := Join(ctx, vectors, []Existing{{Mean: []float32{1, 0, 0}, Size: 1}}, opt, false); !errors.Is(err, errs.ErrPermanent) {
		t.Errorf("Join with a mean of another length: %v, want a permanent error", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Join(cancelled, vectors, existing, opt, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Join cancelled: %v", err)
	}
}

// TestAddMean: a running mean equals the mean of all members at once.
func TestAddMean(t *testing.T) {
	t.Parallel()
	a := [][]float32{{3, 0}, {0, 2}}
	b := [][]float32{{1, 1}, {0, 0}, {float32(math.NaN()), 1}, {1, 2, 3}}
	whole, n := Mean(append(append([][]float32{}, a...), b...))
	first, m := Mean(a)
	running, k := AddMean(first, m, b)
	if n != 3 || m != 2 || k != 3 {
		t.Fatalf("sizes %d, %d, %d; want 3, 2, 3", n, m, k)
	}
	for j := range whole {
		if math.Abs(float64(whole[j]-running[j])) > 1e-6 {
			t.Errorf("running mean %v, mean of all %v", running, whole)
		}
	}
	s := float32(1 / math.Sqrt2)
	if want := []float32{(1 + s) / 3, (1 + s) / 3}; math.Abs(float64(whole[0]-want[0])) > 1e-6 || math.Abs(float64(whole[1]-want[1])) > 1e-6 {
		t.Errorf("mean %v, want %v", whole, want)
	}
	if v, n := Mean([][]float32{{0, 0}}); v != nil || n != 0 {
		t.Errorf("Mean of a zero vector = %v, %d", v, n)
	}
}
