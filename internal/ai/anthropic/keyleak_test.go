package anthropic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/secret/secrettest"
)

// echoedKey has characters that each encoding spells differently, so that
// every form of it can be told apart.
const echoedKey = "sk-ant-echo/Key+01=ab&<cd>_ZZ9"

// leaks names the forms of key that text shows.
func leaks(text, key string) []string { return secrettest.Leaks(text, secrettest.Forms(key, "")) }

// TestErrorsNeverShowAnEchoedKey runs calls against a server that echoes
// the key into the message and type of its error and into the request-id
// header, for each error status: the error (its text, its fields, its %#v)
// shows no form of the key and is still classified. Whatever the SDK
// writes to the standard logger and the model's logged configuration show
// none either.
func TestErrorsNeverShowAnEchoedKey(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetKey(echoedKey)
	cfg := testConfig(s)
	cfg.APIKey = echoedKey
	m := newTextModel(t, cfg)

	var stdlog bytes.Buffer
	log.SetOutput(&stdlog)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	var slogged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&slogged, nil))
	logger.Info("anthropic provider", "config", cfg, "model", m.Name())

	statuses := map[int]string{
		http.StatusBadRequest: "permanent", http.StatusUnauthorized: "permanent", http.StatusForbidden: "permanent",
		http.StatusNotFound: "permanent", http.StatusRequestTimeout: "retryable", http.StatusTooManyRequests: "throttled",
		http.StatusInternalServerError: "retryable", 529: "throttled",
	}
	for status, kind := range statuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s.Push(fakeanthropic.EchoKey(status))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := m.GenerateJSON(ctx, clusterNameRequest())
			if got := errorKind(err); got != kind {
				t.Fatalf("err = %v: kind %s, want %s", err, got, kind)
			}
			var ae *anthropic.Error
			if !errors.As(err, &ae) || ae.StatusCode != status {
				t.Fatalf("err = %#v, want an *anthropic.Error with status %d", err, status)
			}
			logger.Error("call failed", "err", err)
			shown := err.Error() + "\n" + fmt.Sprintf("%#v %+v", err, *ae) + "\n" +
				strings.Join([]string{ae.Type, ae.Code, ae.Message, ae.RequestID, ae.UserMessage()}, "\n")
			if found := leaks(shown, echoedKey); len(found) > 0 {
				t.Errorf("the error shows the key (as %s):\n%s", strings.Join(found, ", "), shown)
			}
			if ae.RequestID == "" {
				t.Errorf("the error lost the request id (it should be scrubbed, not dropped)")
			}
		})
	}
	if n := len(s.Requests()); n != len(statuses) {
		t.Errorf("the server got %d requests, want %d: did the calls reach it?", n, len(statuses))
	}
	for name, out := range map[string]string{"standard log": stdlog.String(), "slog": slogged.String()} {
		if found := leaks(out, echoedKey); len(found) > 0 {
			t.Errorf("the %s shows the key (as %s):\n%s", name, strings.Join(found, ", "), out)
		}
	}
}
