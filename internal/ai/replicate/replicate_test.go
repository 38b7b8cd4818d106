package replicate_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
	"github.com/presswork/presswork/internal/errs"
)

const model = "black-forest-labs/flux-schnell"

// newModel returns a model talking to fake with a 1ms poll interval.
func newModel(t *testing.T, fake *fakereplicate.Server, edit func(*replicate.Config), opts ...replicate.Option) *replicate.ImageModel {
	t.Helper()
	cfg := replicate.Config{
		Token:         fakereplicate.Token,
		BaseURL:       fake.URL,
		ImageModel:    model,
		PollInterval:  time.Millisecond,
		Timeout:       time.Minute,
		ImagePriceUSD: 0.003,
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := replicate.NewImageModel(cfg, opts...)
	if err != nil {
		t.Fatalf("NewImageModel: %v", err)
	}
	return m
}

// isRetryable reports an error that is neither permanent nor throttled.
func isRetryable(err error) bool {
	var te *errs.ThrottledError
	return err != nil && !errs.IsPermanent(err) && !errors.As(err, &te)
}

func TestGenerateReturnsTheDownloadedImage(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: 3})
	m := newModel(t, fake, nil)

	var startedID string
	getsAtStart := -1
	img, err := m.Generate(context.Background(), ai.ImageRequest{
		Prompt: "a trail runner at dawn, editorial photo",
		Width:  1200,
		Height: 630,
		OnStarted: func(_ context.Context, id string) error {
			startedID, getsAtStart = id, fake.Gets()
			return nil
		},
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !bytes.Equal(img.Bytes, fake.PNG) {
		t.Errorf("Bytes are not the output PNG (%d bytes, want %d)", len(img.Bytes), len(fake.PNG))
	}
	meta := img
	meta.Bytes = nil
	want := ai.Image{
		ContentType:  "image/png",
		Size:         len(fake.PNG),
		Width:        64,
		Height:       36,
		Model:        model,
		PredictionID: startedID,
		CostUSD:      0.003,
	}
	if diff := cmp.Diff(want, meta); diff != "" {
		t.Errorf("image (-want +got):\n%s", diff)
	}
	if startedID == "" || getsAtStart != 0 {
		t.Errorf("OnStarted got id %q after %d polls, want an id before any poll", startedID, getsAtStart)
	}
	if got := fake.Gets(); got != 4 {
		t.Errorf("polls = %d, want 4 (3 processing, 1 succeeded)", got)
	}
	wantCreate := []fakereplicate.CreateRequest{{
		Model: model,
		Input: map[string]any{
			"prompt":        "a trail runner at dawn, editorial photo",
			"aspect_ratio":  "16:9",
			"output_format": "png",
			"num_outputs":   float64(1),
		},
	}}
	if diff := cmp.Diff(wantCreate, fake.CreateRequests()); diff != "" {
		t.Errorf("create requests (-want +got):\n%s", diff)
	}
}

func TestResumeAfterInterruptionDoesNotCreateASecondPrediction(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: 2})
	m := newModel(t, fake, nil)

	// The first attempt is interrupted (a worker shutting down) right after
	// it recorded the prediction id.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stored string
	_, err := m.Generate(ctx, ai.ImageRequest{
		Prompt: "a bowl of ramen",
		OnStarted: func(_ context.Context, id string) error {
			stored = id
			cancel()
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Generate: %v, want context.Canceled", err)
	}
	if stored == "" {
		t.Fatal("OnStarted was not called")
	}

	// The retried job resumes the stored prediction.
	img, err := m.Generate(context.Background(), ai.ImageRequest{
		Prompt:             "a bowl of ramen",
		ResumePredictionID: stored,
		OnStarted: func(_ context.Context, id string) error {
			t.Errorf("OnStarted(%q) called on a resume that needs no new prediction", id)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("resumed Generate: %v", err)
	}
	if img.PredictionID != stored || !bytes.Equal(img.Bytes, fake.PNG) {
		t.Errorf("resumed image: prediction %q, %d bytes; want %q and the PNG", img.PredictionID, len(img.Bytes), stored)
	}
	if got := fake.Creates(); got != 1 {
		t.Errorf("creates = %d, want 1", got)
	}
	if got := fake.Cancels(); got != 0 {
		t.Errorf("cancels = %d, want 0: the caller decides to cancel", got)
	}
}

func TestResumeOfASucceededPredictionOnlyDownloads(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	id := fake.Seed(fakereplicate.Script{})
	m := newModel(t, fake, nil)
	img, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p", ResumePredictionID: id})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if img.PredictionID != id || fake.Creates() != 0 || fake.Downloads() != 1 {
		t.Errorf("prediction %q, creates %d, downloads %d; want %q, 0, 1", img.PredictionID, fake.Creates(), fake.Downloads(), id)
	}
}

func TestResumeStartsOverWhenThePredictionCannotGiveAnImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		seed *fakereplicate.Script // nil: an id the server does not know
	}{
		{"expired output", &fakereplicate.Script{OutputStatus: http.StatusNotFound}},
		{"failed", &fakereplicate.Script{Outcome: fakereplicate.Failed, Error: "CUDA out of memory"}},
		{"canceled", &fakereplicate.Script{Outcome: fakereplicate.Canceled}},
		{"aborted", &fakereplicate.Script{Outcome: fakereplicate.Aborted}},
		{"unknown id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakereplicate.New(t)
			old := "unknownid123"
			if tt.seed != nil {
				old = fake.Seed(*tt.seed)
			}
			m := newModel(t, fake, nil)
			var started []string
			img, err := m.Generate(context.Background(), ai.ImageRequest{
				Prompt:             "p",
				ResumePredictionID: old,
				OnStarted: func(_ context.Context, id string) error {
					started = append(started, id)
					return nil
				},
			})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if got := fake.Creates(); got != 1 {
				t.Errorf("creates = %d, want 1", got)
			}
			if len(started) != 1 || started[0] == old || img.PredictionID != started[0] {
				t.Errorf("OnStarted got %q and the image came from %q; want one new id (old %q)", started, img.PredictionID, old)
			}
			if !bytes.Equal(img.Bytes, fake.PNG) {
				t.Error("the new prediction's image was not returned")
			}
		})
	}
}

func TestPredictionsThatEndWithoutAnImageArePermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   fakereplicate.Script
		wantText string
	}{
		{"failed", fakereplicate.Script{Polls: 1, Outcome: fakereplicate.Failed, Error: "NSFW content detected. Try a different prompt."}, "failed: NSFW content detected"},
		{"aborted", fakereplicate.Script{Outcome: fakereplicate.Aborted}, "aborted"},
		{"canceled", fakereplicate.Script{Outcome: fakereplicate.Canceled}, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakereplicate.New(t)
			fake.Script(tt.script)
			m := newModel(t, fake, nil)
			_, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
			if !errs.IsPermanent(err) {
				t.Fatalf("Generate: %v, want a permanent error", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if got := fake.Creates(); got != 1 {
				t.Errorf("creates = %d, want 1", got)
			}
		})
	}
}

func TestCreateErrorsAreClassified(t *testing.T) {
	t.Parallel()
	type kind int
	const (
		permanent kind = iota
		throttled
		retryable
	)
	tests := []struct {
		name     string
		status   int
		token    string // "" for the right one
		want     kind
		wantText string
	}{
		{name: "401 bad token", token: "r8_wrongtoken_wrongtoken_wrongtoken_42", want: permanent, wantText: "HTTP 401"},
		{name: "402", status: http.StatusPaymentRequired, want: permanent, wantText: "billing"},
		{name: "403", status: http.StatusForbidden, want: permanent, wantText: "HTTP 403"},
		{name: "404", status: http.StatusNotFound, want: permanent, wantText: "REPLICATE_IMAGE_MODEL"},
		{name: "422", status: http.StatusUnprocessableEntity, want: permanent, wantText: "rejected the input"},
		{name: "400", status: http.StatusBadRequest, want: permanent, wantText: "HTTP 400"},
		{name: "429", status: http.StatusTooManyRequests, want: throttled, wantText: "throttled"},
		{name: "408", status: http.StatusRequestTimeout, want: retryable, wantText: "HTTP 408"},
		{name: "500", status: http.StatusInternalServerError, want: retryable, wantText: "HTTP 500"},
		{name: "503", status: http.StatusServiceUnavailable, want: retryable, wantText: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakereplicate.New(t)
			fake.Script(fakereplicate.Script{CreateStatus: tt.status, RetryAfter: "7"})
			m := newModel(t, fake, func(c *replicate.Config) {
				if tt.token != "" {
					c.Token = tt.token
				}
			})
			started := false
			_, err := m.Generate(context.Background(), ai.ImageRequest{
				Prompt:    "p",
				OnStarted: func(context.Context, string) error { started = true; return nil },
			})
			if err == nil {
				t.Fatal("Generate succeeded")
			}
			var te *errs.ThrottledError
			switch tt.want {
			case permanent:
				if !errs.IsPermanent(err) || errors.As(err, &te) {
					t.Errorf("error %v: want permanent", err)
				}
			case throttled:
				if !errors.As(err, &te) || errs.IsPermanent(err) {
					t.Fatalf("error %v: want *errs.ThrottledError", err)
				}
				if te.RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter = %s, want 7s from the Retry-After header", te.RetryAfter)
				}
			case retryable:
				if !isRetryable(err) {
					t.Errorf("error %v: want retryable (not permanent, not throttled)", err)
				}
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), fakereplicate.Token) || (tt.token != "" && strings.Contains(err.Error(), tt.token)) {
				t.Errorf("error %q contains the token", err)
			}
			// One request: the library did not retry (or sleep) by itself.
			if got := fake.Creates(); got != 1 {
				t.Errorf("creates = %d, want 1", got)
			}
			if started {
				t.Error("OnStarted called for a prediction that was never created")
			}
		})
	}
}

func TestPollingSurvivesTransientFailures(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{GetFailures: 2, Polls: 1})
	m := newModel(t, fake, nil)
	if _, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p"}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got := fake.Gets(); got != 4 {
		t.Errorf("gets = %d, want 4 (2 failures, 1 processing, 1 succeeded)", got)
	}
}

func TestPollingGivesUpAfterRepeatedFailuresRetryably(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{GetFailures: 100})
	m := newModel(t, fake, nil)
	_, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
	if !isRetryable(err) {
		t.Fatalf("Generate: %v, want a retryable error", err)
	}
	if got := fake.Gets(); got != 4 {
		t.Errorf("gets = %d, want 4", got)
	}
}

func TestExpiredOutputOfAFreshPredictionIsRetryable(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{OutputStatus: http.StatusNotFound})
	m := newModel(t, fake, nil)
	_, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
	if !isRetryable(err) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Generate: %v, want a retryable 'expired' error", err)
	}
}

func TestOutputChecks(t *testing.T) {
	t.Parallel()
	t.Run("sniffed content type", func(t *testing.T) {
		t.Parallel()
		fake := fakereplicate.New(t)
		fake.Script(fakereplicate.Script{OutputContentType: "application/octet-stream"})
		img, err := newModel(t, fake, nil).Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if img.ContentType != "image/png" {
			t.Errorf("ContentType = %q, want image/png (sniffed)", img.ContentType)
		}
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		fake := fakereplicate.New(t)
		_, err := newModel(t, fake, nil, replicate.WithMaxImageBytes(100)).Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
		if !errs.IsPermanent(err) {
			t.Errorf("Generate: %v, want permanent", err)
		}
	})
	t.Run("not an image", func(t *testing.T) {
		t.Parallel()
		fake := fakereplicate.New(t)
		fake.Script(fakereplicate.Script{Output: []byte("<html>oops</html>"), OutputContentType: "text/html"})
		_, err := newModel(t, fake, nil).Generate(context.Background(), ai.ImageRequest{Prompt: "p"})
		if err == nil || !strings.Contains(err.Error(), "not an image") {
			t.Errorf("Generate: %v, want a 'not an image' error", err)
		}
	})
}

func TestOwnTimeoutIsRetryableAndLeavesThePredictionRunning(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: -1})
	m := newModel(t, fake, func(c *replicate.Config) { c.Timeout = 50 * time.Millisecond })
	var id string
	_, err := m.Generate(context.Background(), ai.ImageRequest{
		Prompt:    "p",
		OnStarted: func(_ context.Context, pid string) error { id = pid; return nil },
	})
	if !isRetryable(err) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "REPLICATE_TIMEOUT") {
		t.Fatalf("Generate: %v, want a retryable REPLICATE_TIMEOUT error that is not the caller's deadline", err)
	}
	// Under load the timeout may come before the first poll moved the
	// prediction past "starting": either way it must be left running.
	if st := fake.Status(id); fake.Cancels() != 0 || (st != "processing" && st != "starting") {
		t.Errorf("cancels %d, status %q; want the prediction left running", fake.Cancels(), fake.Status(id))
	}
}

func TestOnStartedErrorCancelsThePrediction(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: -1})
	m := newModel(t, fake, nil)
	storeDown := errors.New("store: connection refused")
	var id string
	_, err := m.Generate(context.Background(), ai.ImageRequest{
		Prompt:    "p",
		OnStarted: func(_ context.Context, pid string) error { id = pid; return storeDown },
	})
	if !errors.Is(err, storeDown) {
		t.Fatalf("Generate: %v, want the OnStarted error", err)
	}
	if fake.Cancels() != 1 || fake.Status(id) != "canceled" {
		t.Errorf("cancels %d, status %q; want the unrecorded prediction canceled", fake.Cancels(), fake.Status(id))
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	id := fake.Seed(fakereplicate.Script{Polls: -1})
	m := newModel(t, fake, nil)
	if err := m.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if fake.Cancels() != 1 || fake.Status(id) != "canceled" {
		t.Errorf("cancels %d, status %q; want 1, canceled", fake.Cancels(), fake.Status(id))
	}
	if err := m.Cancel(context.Background(), "../../account"); !errs.IsPermanent(err) {
		t.Errorf("Cancel of a malformed id: %v, want permanent", err)
	}
	if err := m.Cancel(context.Background(), "nosuchprediction"); !errs.IsPermanent(err) {
		t.Errorf("Cancel of an unknown id: %v, want permanent", err)
	}
	if got := fake.Cancels(); got != 2 {
		t.Errorf("cancels = %d, want 2 (the malformed id never reaches the server)", got)
	}
}

func TestVersionedModelUsesThePredictionsEndpoint(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	m := newModel(t, fake, func(c *replicate.Config) { c.ImageModel = "stability-ai/sdxl:7762fd07" })
	if _, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "p", Width: 800, Height: 800}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	reqs := fake.CreateRequests()
	if len(reqs) != 1 || reqs[0].Version != "7762fd07" || reqs[0].Model != "" || reqs[0].Input["aspect_ratio"] != "1:1" {
		t.Errorf("create requests = %+v, want one POST /predictions with version 7762fd07 and aspect 1:1", reqs)
	}
	if m.Name() != "stability-ai/sdxl:7762fd07" {
		t.Errorf("Name() = %q", m.Name())
	}
}

func TestEmptyPromptIsPermanentAndCallsNothing(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	_, err := newModel(t, fake, nil).Generate(context.Background(), ai.ImageRequest{Prompt: "  "})
	if !errs.IsPermanent(err) || fake.Creates() != 0 {
		t.Errorf("Generate: %v with %d creates, want permanent and none", err, fake.Creates())
	}
}
