package replicate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret/secrettest"
)

// echoedToken has characters that each encoding spells differently.
const echoedToken = "r8_echo/Tok+01=ab&<cd>_ZZ9"

// tokenLeaks names the forms of token that text shows.
func tokenLeaks(text, token string) []string {
	return secrettest.Leaks(text, secrettest.Forms(token, ""))
}

// TestErrorsNeverShowAnEchoedToken makes Replicate quote the token in every
// field of its problem answers (title, detail, type, X-Request-Id), in a
// failed prediction's error and in the failed polls that are logged: no
// error and no log line shows any form of it, and the errors keep their
// kinds.
func TestErrorsNeverShowAnEchoedToken(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(t)
	fake.Token = echoedToken
	var logs secrettest.LogBuffer
	m := newModel(t, fake, func(c *replicate.Config) { c.Token = echoedToken },
		replicate.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	cases := []struct {
		name   string
		script fakereplicate.Script
		want   string // "permanent", "retryable" or "throttled"
	}{
		{"create refused 400", fakereplicate.Script{CreateStatus: http.StatusBadRequest}, "permanent"},
		{"create refused 402", fakereplicate.Script{CreateStatus: http.StatusPaymentRequired}, "permanent"},
		{"create refused 422", fakereplicate.Script{CreateStatus: http.StatusUnprocessableEntity}, "permanent"},
		{"create throttled", fakereplicate.Script{CreateStatus: http.StatusTooManyRequests}, "throttled"},
		{"create 500", fakereplicate.Script{CreateStatus: http.StatusInternalServerError}, "retryable"},
		{"polls fail", fakereplicate.Script{GetFailures: 10}, "retryable"},
		{"prediction failed", fakereplicate.Script{Outcome: fakereplicate.Failed, Error: "CUDA out of memory"}, "permanent"},
		{"failed polls, then the prediction failed", fakereplicate.Script{GetFailures: 2, Outcome: fakereplicate.Failed}, "permanent"},
	}
	for _, tc := range cases {
		tc.script.EchoToken = true
		fake.Script(tc.script)
		_, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "a lighthouse at dusk"})
		var te *errs.ThrottledError
		kind := "retryable"
		switch {
		case err == nil:
			t.Fatalf("%s: Generate succeeded", tc.name)
		case errs.IsPermanent(err):
			kind = "permanent"
		case errors.As(err, &te):
			kind = "throttled"
		}
		if kind != tc.want {
			t.Errorf("%s: err = %v: %s, want %s", tc.name, err, kind, tc.want)
		}
		shown := err.Error() + fmt.Sprintf(" %+v", err)
		if found := tokenLeaks(shown, echoedToken); len(found) > 0 {
			t.Errorf("%s: the error shows the token (as %s): %s", tc.name, strings.Join(found, ", "), shown)
		}
	}
	// An output that is not a URL is quoted, shortened: the cut must not
	// leave part of the token.
	fake.Script(fakereplicate.Script{OutputValue: strings.Repeat("x", 90) + " " + echoedToken})
	_, err := m.Generate(context.Background(), ai.ImageRequest{Prompt: "a lighthouse at dusk"})
	if err == nil || !errs.IsPermanent(err) || strings.Contains(err.Error(), echoedToken[:8]) {
		t.Errorf("output that is not a URL: err = %v, want a permanent error without the token's start %q", err, echoedToken[:8])
	}
	if err := m.Cancel(context.Background(), "nosuchprediction"); err == nil || len(tokenLeaks(err.Error(), echoedToken)) > 0 {
		t.Errorf("Cancel of a missing prediction: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "poll failed") {
		t.Fatalf("no failed poll was logged; is the log captured?\n%s", out)
	}
	if found := tokenLeaks(out, echoedToken); len(found) > 0 {
		t.Errorf("the log shows the token (as %s):\n%s", strings.Join(found, ", "), out)
	}
}
