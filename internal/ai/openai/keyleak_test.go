package openai_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/secret/secrettest"
)

// echoedKey has characters that each encoding spells differently, so that
// every form of it can be told apart.
const echoedKey = "sk-echo/Key+01=ab&<cd>_ZZ9"

// leaks names the forms of key that text shows.
func leaks(text, key string) []string { return secrettest.Leaks(text, secrettest.Forms(key, "")) }

// TestErrorsNeverShowAnEchoedKey runs calls against a server that echoes
// the key into the message, code, type and param of its error and into the
// request-id headers, for each error status, on the OpenAI and the Azure
// paths: the error (its text, its fields, its %#v) shows no form of the key
// and is still classified.
func TestErrorsNeverShowAnEchoedKey(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey(echoedKey)
	plain := testConfig(s)
	plain.APIKey = echoedKey
	azure := plain
	azure.APIType, azure.BaseURL = openai.APITypeAzure, ""
	azure.AzureEndpoint, azure.APIVersion = s.URL, openai.DefaultAzureAPIVersion
	statuses := map[int]string{
		http.StatusBadRequest: "permanent", http.StatusUnauthorized: "permanent", http.StatusForbidden: "permanent",
		http.StatusNotFound: "permanent", http.StatusRequestTimeout: "retryable", http.StatusTooManyRequests: "throttled",
		http.StatusInternalServerError: "retryable", http.StatusBadGateway: "retryable",
	}
	for name, cfg := range map[string]openai.Config{"openai": plain, "azure": azure} {
		text, emb := newTextModel(t, cfg), newEmbedder(t, cfg)
		for status, kind := range statuses {
			t.Run(fmt.Sprintf("%s/%d", name, status), func(t *testing.T) {
				s.Push(fakeopenai.EchoKey(status), fakeopenai.EchoKey(status))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, chatErr := text.GenerateJSON(ctx, clusterNameRequest(t))
				_, _, embedErr := emb.Embed(ctx, []string{"trail shoes"})
				for call, err := range map[string]error{"chat": chatErr, "embeddings": embedErr} {
					if got := errorKind(err); got != kind {
						t.Fatalf("%s: err = %v: kind %s, want %s", call, err, got, kind)
					}
					var oe *openai.Error
					if !errors.As(err, &oe) || oe.StatusCode != status {
						t.Fatalf("%s: err = %#v, want an *openai.Error with status %d", call, err, status)
					}
					shown := err.Error() + "\n" + fmt.Sprintf("%#v %+v", err, *oe) + "\n" +
						strings.Join([]string{oe.Code, oe.Type, oe.Message, oe.RequestID}, "\n")
					if found := leaks(shown, echoedKey); len(found) > 0 {
						t.Errorf("%s: the error shows the key (as %s):\n%s", call, strings.Join(found, ", "), shown)
					}
					if oe.RequestID == "" {
						t.Errorf("%s: the error lost the request id (it should be scrubbed, not dropped)", call)
					}
				}
			})
		}
	}
	if n := len(s.Requests()); n < 2*2*len(statuses) {
		t.Errorf("the server got %d requests, want %d: did the calls reach it?", n, 2*2*len(statuses))
	}
}
