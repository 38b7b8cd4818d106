package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func TestIdempotencyKeys(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	other := newTenant(t, st, 0)

	// First claim: the caller runs the request.
	got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|abc")
	if err != nil || got != nil {
		t.Fatalf("first claim = %+v, %v", got, err)
	}
	// While it runs, a retry is a conflict.
	_, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|abc")
	wantErrIs(t, "claim while running", err, errs.ErrConflict)
	// The same key for a different request is a conflict.
	_, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|other")
	wantErrIs(t, "claim with another fingerprint", err, errs.ErrConflict)
	// Keys are per tenant.
	if got, err := st.ClaimIdempotencyKey(ctx, other.ID, "k1", "POST /v1/x|zzz"); err != nil || got != nil {
		t.Fatalf("another tenant's claim of the same key = %+v, %v", got, err)
	}

	// Finished: retries replay the stored response.
	if err := st.SaveIdempotentResponse(ctx, tn.ID, "k1", store.StoredResponse{Status: 202, Body: []byte(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|abc")
		if err != nil || got == nil || got.Status != 202 || string(got.Body) != `{"ok":true}` {
			t.Fatalf("replay = %+v, %v", got, err)
		}
	}
	_, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|other")
	wantErrIs(t, "finished key with another fingerprint", err, errs.ErrConflict)
	// Releasing a finished key does nothing: it still replays.
	if err := st.ReleaseIdempotencyKey(ctx, tn.ID, "k1"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k1", "POST /v1/x|abc"); err != nil || got == nil {
		t.Fatalf("claim after releasing a finished key = %+v, %v", got, err)
	}

	// A released claim (the request failed) can be claimed again, even by
	// a different request.
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k2", "a"); err != nil || got != nil {
		t.Fatalf("claim k2 = %+v, %v", got, err)
	}
	if err := st.ReleaseIdempotencyKey(ctx, tn.ID, "k2"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k2", "b"); err != nil || got != nil {
		t.Fatalf("claim of a released key = %+v, %v", got, err)
	}
	// Releasing another tenant's key does not touch ours.
	if err := st.ReleaseIdempotencyKey(ctx, other.ID, "k2"); err != nil {
		t.Fatal(err)
	}
	_, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k2", "b")
	wantErrIs(t, "claim after another tenant's release", err, errs.ErrConflict)
	// A response stored for a body-less answer replays with an empty body.
	if err := st.SaveIdempotentResponse(ctx, tn.ID, "k2", store.StoredResponse{Status: 204}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k2", "b"); err != nil || got == nil || got.Status != 204 || len(got.Body) != 0 {
		t.Fatalf("replay of 204 = %+v, %v", got, err)
	}
}

func TestIdempotencyKeyConcurrentClaims(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 0)
	const n = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, conflicts := 0, 0
	for range n {
		wg.Go(func() {
			got, err := st.ClaimIdempotencyKey(t.Context(), tn.ID, "race", "same")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && got == nil:
				won++
			case errors.Is(err, errs.ErrConflict):
				conflicts++
			default:
				t.Errorf("claim = %+v, %v", got, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || conflicts != n-1 {
		t.Fatalf("%d claims won, %d conflicts; want 1 and %d", won, conflicts, n-1)
	}
}

func TestAbandonedIdempotencyClaimIsTakenOver(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k", "POST /v1/x|abc"); err != nil || got != nil {
		t.Fatalf("first claim = %+v, %v", got, err)
	}
	// A claim a few minutes old may still be running.
	if err := st.AgeIdempotencyKey(ctx, tn.ID, "k", "5 minutes"); err != nil {
		t.Fatal(err)
	}
	_, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k", "POST /v1/x|abc")
	wantErrIs(t, "claim of a recent unanswered key", err, errs.ErrConflict)
	// One older than any request can run was abandoned: the retry runs.
	if err := st.AgeIdempotencyKey(ctx, tn.ID, "k", "1 hour"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k", "POST /v1/x|abc"); err != nil || got != nil {
		t.Fatalf("claim of an abandoned key = %+v, %v; want a fresh claim", got, err)
	}
	// The new claim is fresh, so an immediate retry is a conflict again.
	_, err = st.ClaimIdempotencyKey(ctx, tn.ID, "k", "POST /v1/x|abc")
	wantErrIs(t, "claim after the takeover", err, errs.ErrConflict)
	// An answered key is never taken over, however old.
	if err := st.SaveIdempotentResponse(ctx, tn.ID, "k", store.StoredResponse{Status: 201, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.AgeIdempotencyKey(ctx, tn.ID, "k", "2 hours"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimIdempotencyKey(ctx, tn.ID, "k", "POST /v1/x|abc"); err != nil || got == nil || got.Status != 201 {
		t.Fatalf("claim of an old answered key = %+v, %v; want the stored answer", got, err)
	}
}
