package replicate_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai/replicate"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	defaults := replicate.Config{
		Token:         "r8_abcdefghijklmnopqrstuvwxyz",
		BaseURL:       "https://api.replicate.com/v1",
		ImageModel:    "black-forest-labs/flux-schnell",
		PollInterval:  time.Second,
		Timeout:       5 * time.Minute,
		ImagePriceUSD: 0.003,
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    replicate.Config
		wantOK  bool
		wantErr []string // each must appear in the error
	}{
		{
			name:   "no token: not configured",
			env:    map[string]string{"REPLICATE_IMAGE_MODEL": "not a model"},
			want:   func() replicate.Config { c := defaults; c.Token = ""; return c }(),
			wantOK: false,
		},
		{
			name:   "defaults",
			env:    map[string]string{"REPLICATE_API_TOKEN": defaults.Token},
			want:   defaults,
			wantOK: true,
		},
		{
			name: "everything set",
			env: map[string]string{
				"REPLICATE_API_TOKEN":       " " + defaults.Token + " ",
				"REPLICATE_BASE_URL":        "http://127.0.0.1:9999/v1/",
				"REPLICATE_IMAGE_MODEL":     "stability-ai/sdxl:7762fd07",
				"REPLICATE_POLL_INTERVAL":   "250ms",
				"REPLICATE_TIMEOUT":         "90s",
				"REPLICATE_IMAGE_PRICE_USD": "0.04",
			},
			want: replicate.Config{
				Token:         defaults.Token,
				BaseURL:       "http://127.0.0.1:9999/v1",
				ImageModel:    "stability-ai/sdxl:7762fd07",
				PollInterval:  250 * time.Millisecond,
				Timeout:       90 * time.Second,
				ImagePriceUSD: 0.04,
			},
			wantOK: true,
		},
		{
			name: "bad values are all reported",
			env: map[string]string{
				"REPLICATE_API_TOKEN":       defaults.Token,
				"REPLICATE_BASE_URL":        "api.replicate.com",
				"REPLICATE_IMAGE_MODEL":     "flux-schnell",
				"REPLICATE_POLL_INTERVAL":   "1",
				"REPLICATE_TIMEOUT":         "-5m",
				"REPLICATE_IMAGE_PRICE_USD": "cheap",
			},
			wantOK: true,
			wantErr: []string{"REPLICATE_BASE_URL", "REPLICATE_IMAGE_MODEL", "REPLICATE_POLL_INTERVAL",
				"REPLICATE_TIMEOUT", "REPLICATE_IMAGE_PRICE_USD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := replicate.ConfigFromEnv(envOf(tt.env))
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %s", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigLogValueMasksTheToken(t *testing.T) {
	t.Parallel()
	cfg, _, err := replicate.ConfigFromEnv(envOf(map[string]string{"REPLICATE_API_TOKEN": "r8_secretsecretsecretWXYZ"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "replicate", cfg)
	out := buf.String()
	if strings.Contains(out, "secret") {
		t.Errorf("log line shows the token: %s", out)
	}
	for _, want := range []string{"replicate.token=xxxxxWXYZ", "replicate.image_model=black-forest-labs/flux-schnell"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %q lacks %q", out, want)
		}
	}
}

func TestNewImageModelRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := replicate.NewImageModel(replicate.Config{}); err == nil {
		t.Error("NewImageModel accepted an empty config")
	}
}
