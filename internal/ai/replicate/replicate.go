// Package replicate is the Replicate image provider: an ai.ImageModel on
// top of replicate-go that creates a prediction on the configured model,
// reports its id at once (ai.ImageRequest.OnStarted), polls it with its own
// context-aware loop and downloads the output right away, because Replicate
// deletes outputs after an hour. A retried job resumes its prediction
// (ai.ImageRequest.ResumePredictionID) instead of paying for a second one.
//
// replicate-go v0.26.0 is used only for its typed requests: its Wait and
// Run helpers do not know the "aborted" status, can return nil output for a
// running prediction and sleep without watching the context, and its
// built-in retries sleep the same way. So this package polls by itself and
// fails every HTTP error response in the transport (see statusTransport),
// which also keeps the status and headers the library would drop.
package replicate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decode the size of GIF outputs
	_ "image/jpeg" // decode the size of JPEG outputs
	_ "image/png"  // decode the size of PNG outputs
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	replicatego "github.com/replicate/replicate-go"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
)

// DefaultMaxImageBytes is the largest output Generate downloads unless
// WithMaxImageBytes says otherwise.
const DefaultMaxImageBytes = 20 << 20

const (
	// statusAborted is a terminal status replicate-go v0.26.0 does not name:
	// the prediction was stopped before it ran (e.g. a deadline passed).
	statusAborted replicatego.Status = "aborted"
	// maxPollFailures is how many polls in a row may fail transiently before
	// Generate gives up (the job's retry then resumes the prediction).
	maxPollFailures = 3
	// orphanCancelTimeout bounds the cancel of a prediction whose id could
	// not be recorded.
	orphanCancelTimeout = 10 * time.Second
	// maxPredictionError is how many runes of a prediction's error are kept.
	maxPredictionError = 500
)

// aspectRatios are the aspect ratios FLUX models accept.
var aspectRatios = []struct {
	name  string
	ratio float64
}{
	{"1:1", 1}, {"16:9", 16.0 / 9}, {"21:9", 21.0 / 9}, {"3:2", 3.0 / 2}, {"2:3", 2.0 / 3},
	{"4:5", 4.0 / 5}, {"5:4", 5.0 / 4}, {"3:4", 3.0 / 4}, {"4:3", 4.0 / 3}, {"9:16", 9.0 / 16},
	{"9:21", 9.0 / 21},
}

// Option adjusts an ImageModel.
type Option func(*options)

type options struct {
	httpClient    *http.Client
	logger        *slog.Logger
	maxImageBytes int64
}

// WithHTTPClient makes the model send its API calls and downloads through
// a copy of c (its Transport is wrapped; c itself is not changed).
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithLogger sets the logger for what is worth knowing but not an error
// (a resumed prediction replaced, a poll retried). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithMaxImageBytes sets the largest output Generate downloads; a larger
// one is a permanent error.
func WithMaxImageBytes(n int64) Option {
	return func(o *options) { o.maxImageBytes = n }
}

// ImageModel is the Replicate ai.ImageModel. It is safe for concurrent use.
type ImageModel struct {
	cfg      Config
	owner    string
	name     string
	version  string // "" for an official model
	client   *replicatego.Client
	http     *http.Client // with statusTransport; also used for downloads
	log      *slog.Logger
	maxBytes int64
	now      func() time.Time
}

var _ ai.ImageModel = (*ImageModel)(nil)

// NewImageModel validates cfg and returns the model.
func NewImageModel(cfg Config, opts ...Option) (*ImageModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("replicate: %w", err)
	}
	owner, name, version, _ := parseModel(cfg.ImageModel)
	o := options{maxImageBytes: DefaultMaxImageBytes}
	for _, opt := range opts {
		opt(&o)
	}
	hc := &http.Client{}
	if o.httpClient != nil {
		*hc = *o.httpClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &statusTransport{base: base}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.maxImageBytes <= 0 {
		o.maxImageBytes = DefaultMaxImageBytes
	}
	client, err := replicatego.NewClient(
		replicatego.WithToken(cfg.Token),
		replicatego.WithBaseURL(cfg.BaseURL),
		replicatego.WithHTTPClient(hc),
		replicatego.WithUserAgent("presswork"),
		// The transport fails every error response, so the library has
		// nothing to retry; no retries also means none of its sleeps.
		replicatego.WithRetryPolicy(0, &replicatego.ConstantBackoff{}),
	)
	if err != nil {
		return nil, fmt.Errorf("replicate: new client: %w", err)
	}
	return &ImageModel{
		cfg:      cfg,
		owner:    owner,
		name:     name,
		version:  version,
		client:   client,
		http:     hc,
		log:      logger,
		maxBytes: o.maxImageBytes,
		now:      time.Now,
	}, nil
}

// Name returns the configured model, e.g. "black-forest-labs/flux-schnell".
func (m *ImageModel) Name() string { return m.cfg.ImageModel }

// errTimedOut is the cause of Generate's own deadline (Config.Timeout).
var errTimedOut = errors.New("REPLICATE_TIMEOUT passed")

// errStartOver says a resumed prediction cannot give an image, so a new one
// must be created.
var errStartOver = errors.New("cannot resume")

// errOutputGone says a succeeded prediction's output is no longer there
// (Replicate deletes outputs after an hour).
var errOutputGone = errors.New("output expired")

// terminalError is a prediction that ended without an image.
type terminalError struct {
	id     string
	status replicatego.Status
	msg    string
}

func (e *terminalError) Error() string {
	s := fmt.Sprintf("replicate: prediction %s %s", e.id, e.status)
	switch {
	case e.msg != "":
		s += ": " + e.msg
	case e.status == statusAborted:
		s += " (stopped before it ran)"
	}
	return s
}

// Generate makes one image for req; see ai.ImageRequest for the
// OnStarted/ResumePredictionID contract. The input is shaped for FLUX models:
// prompt, aspect_ratio (the FLUX ratio nearest Width:Height, 16:9 when they
// are zero), output_format png and num_outputs 1.
//
// Errors: a failed, canceled or aborted prediction is permanent (with the
// prediction's error message); HTTP 429 is *errs.ThrottledError; 408, 5xx,
// network errors and Config.Timeout passing are retryable (the prediction
// keeps running and a retry resumes it); other 4xx are permanent. When ctx
// ends, the error wraps ctx.Err() and the prediction keeps running.
func (m *ImageModel) Generate(ctx context.Context, req ai.ImageRequest) (ai.Image, error) {
	img, err := m.generate(ctx, req)
	return img, redact(err, m.cfg.Token)
}

func (m *ImageModel) generate(parent context.Context, req ai.ImageRequest) (ai.Image, error) {
	if err := parent.Err(); err != nil {
		return ai.Image{}, err
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return ai.Image{}, errs.Invalid("prompt", "is empty")
	}
	ctx, cancel := context.WithTimeoutCause(parent, m.cfg.Timeout, errTimedOut)
	defer cancel()
	var id string // the prediction being worked on, for errors
	img, err := m.run(ctx, req, &id)
	if err == nil {
		return img, nil
	}
	if ctx.Err() == nil {
		return ai.Image{}, err
	}
	what := "prediction " + id
	if id == "" {
		what = "create prediction"
	}
	if perr := parent.Err(); perr != nil {
		return ai.Image{}, fmt.Errorf("replicate: %s: %w", what, perr)
	}
	return ai.Image{}, fmt.Errorf("replicate: %s: not done within REPLICATE_TIMEOUT (%s); a retry resumes it", what, m.cfg.Timeout)
}

// run resumes or creates the prediction and waits for its image; *id
// follows the prediction being worked on.
func (m *ImageModel) run(ctx context.Context, req ai.ImageRequest, id *string) (ai.Image, error) {
	if prev := req.ResumePredictionID; prev != "" {
		*id = prev
		img, err := m.resume(ctx, prev)
		if !errors.Is(err, errStartOver) {
			return img, err
		}
		m.log.InfoContext(ctx, "replicate: creating a new prediction", "resumed_prediction_id", prev, "reason", err.Error())
		*id = ""
	}
	p, err := m.create(ctx, req)
	if err != nil {
		return ai.Image{}, err
	}
	*id = p.ID
	if req.OnStarted != nil {
		if err := req.OnStarted(ctx, p.ID); err != nil {
			m.cancelOrphan(ctx, p.ID)
			return ai.Image{}, fmt.Errorf("replicate: record prediction %s: %w", p.ID, err)
		}
	}
	img, err := m.await(ctx, p)
	var te *terminalError
	switch {
	case errors.As(err, &te):
		return ai.Image{}, errs.Permanent(err)
	case errors.Is(err, errOutputGone):
		// Odd right after success; the retry resumes and, if the output is
		// still missing, creates a new prediction.
		return ai.Image{}, fmt.Errorf("replicate: prediction %s: %w", p.ID, err)
	}
	return img, err
}

// resume picks up prediction id. It returns an error wrapping errStartOver
// when the prediction cannot give an image: it does not exist, failed, was
// canceled or aborted, or its output has expired.
func (m *ImageModel) resume(ctx context.Context, id string) (ai.Image, error) {
	if !validID(id) {
		return ai.Image{}, fmt.Errorf("%w: malformed prediction id %q", errStartOver, id)
	}
	p, err := m.client.GetPrediction(ctx, id)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return ai.Image{}, cerr
		}
		var se *httpStatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return ai.Image{}, fmt.Errorf("%w: prediction %s not found", errStartOver, id)
		}
		return ai.Image{}, classify("get prediction "+id, err, m.now())
	}
	img, err := m.await(ctx, p)
	var te *terminalError
	if errors.As(err, &te) || errors.Is(err, errOutputGone) {
		return ai.Image{}, fmt.Errorf("%w: %w", errStartOver, err)
	}
	return img, err
}

// create starts a prediction on the configured model.
func (m *ImageModel) create(ctx context.Context, req ai.ImageRequest) (*replicatego.Prediction, error) {
	input := replicatego.PredictionInput{
		"prompt":        req.Prompt,
		"aspect_ratio":  aspectRatio(req.Width, req.Height),
		"output_format": "png",
		"num_outputs":   1,
	}
	var p *replicatego.Prediction
	var err error
	if m.version != "" {
		p, err = m.client.CreatePrediction(ctx, m.version, input, nil, false)
	} else {
		p, err = m.client.CreatePredictionWithModel(ctx, m.owner, m.name, input, nil, false)
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, classify("create prediction on "+m.cfg.ImageModel, err, m.now())
	}
	if !validID(p.ID) {
		return nil, fmt.Errorf("replicate: create prediction on %s: the answer has no valid prediction id (%q)", m.cfg.ImageModel, p.ID)
	}
	return p, nil
}

// cancelOrphan cancels a prediction whose id the caller could not record,
// since nobody could resume it; ctx may already be done.
func (m *ImageModel) cancelOrphan(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orphanCancelTimeout)
	defer cancel()
	if err := m.Cancel(ctx, id); err != nil {
		m.log.WarnContext(ctx, "replicate: cancel unrecorded prediction", "prediction_id", id, "err", err.Error())
	}
}

// await polls p until it ends and returns its image. A prediction that ends
// without an image gives a *terminalError; an expired output errOutputGone.
func (m *ImageModel) await(ctx context.Context, p *replicatego.Prediction) (ai.Image, error) {
	ticker := time.NewTicker(m.cfg.PollInterval)
	defer ticker.Stop()
	failures := 0
	for {
		switch p.Status {
		case replicatego.Succeeded:
			return m.collect(ctx, p)
		case replicatego.Failed, replicatego.Canceled, statusAborted:
			return ai.Image{}, &terminalError{id: p.ID, status: p.Status, msg: predictionError(p, m.cfg.Token)}
		}
		select {
		case <-ctx.Done():
			return ai.Image{}, ctx.Err()
		case <-ticker.C:
		}
		if err := ctx.Err(); err != nil {
			return ai.Image{}, err
		}
		next, err := m.client.GetPrediction(ctx, p.ID)
		if err == nil {
			p, failures = next, 0
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return ai.Image{}, cerr
		}
		err = classify("poll prediction "+p.ID, err, m.now())
		failures++
		if errs.IsPermanent(err) || failures > maxPollFailures {
			return ai.Image{}, err
		}
		m.log.WarnContext(ctx, "replicate: poll failed; trying again", "prediction_id", p.ID, "err", err.Error())
		var te *errs.ThrottledError
		if errors.As(err, &te) {
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < te.RetryAfter {
				return ai.Image{}, err
			}
			if err := sleep(ctx, te.RetryAfter); err != nil {
				return ai.Image{}, err
			}
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// collect downloads the output of a succeeded prediction.
func (m *ImageModel) collect(ctx context.Context, p *replicatego.Prediction) (ai.Image, error) {
	if dataRemoved(p) {
		return ai.Image{}, fmt.Errorf("%w: prediction %s has data_removed set", errOutputGone, p.ID)
	}
	u, err := outputURL(p.Output, m.cfg.Token)
	if errors.Is(err, errOutputGone) {
		return ai.Image{}, fmt.Errorf("prediction %s: %w", p.ID, err)
	}
	if err != nil {
		return ai.Image{}, errs.Permanent(fmt.Errorf("replicate: prediction %s: %w (is REPLICATE_IMAGE_MODEL an image model?)", p.ID, err))
	}
	body, contentType, err := m.download(ctx, p.ID, u)
	if err != nil {
		return ai.Image{}, err
	}
	img := ai.Image{
		Bytes:        body,
		ContentType:  contentType,
		Size:         len(body),
		Model:        m.cfg.ImageModel,
		PredictionID: p.ID,
		CostUSD:      m.cfg.ImagePriceUSD,
	}
	if p.Model != "" {
		img.Model = p.Model
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(body)); err == nil {
		img.Width, img.Height = cfg.Width, cfg.Height
	}
	return img, nil
}

// download fetches an output file (no token is sent with it) and returns
// its bytes and media type.
func (m *ImageModel) download(ctx context.Context, id, u string) ([]byte, string, error) {
	op := "download output of prediction " + id
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", errs.Permanent(fmt.Errorf("replicate: %s: %w", op, err))
	}
	resp, err := m.http.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, "", cerr
		}
		var se *httpStatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusGone || se.Status == http.StatusForbidden) {
			return nil, "", fmt.Errorf("%w: %s: HTTP %d", errOutputGone, op, se.Status)
		}
		return nil, "", classify(op, err, m.now())
	}
	defer resp.Body.Close()
	if resp.ContentLength > m.maxBytes {
		return nil, "", errs.Permanent(fmt.Errorf("replicate: %s: %d bytes, more than the limit of %d", op, resp.ContentLength, m.maxBytes))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, m.maxBytes+1))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, "", cerr
		}
		return nil, "", fmt.Errorf("replicate: %s: %w", op, err)
	}
	if int64(len(body)) > m.maxBytes {
		return nil, "", errs.Permanent(fmt.Errorf("replicate: %s: more than the limit of %d bytes", op, m.maxBytes))
	}
	if len(body) == 0 {
		return nil, "", fmt.Errorf("replicate: %s: empty body", op)
	}
	ct := mediaType(resp.Header.Get("Content-Type"), body)
	if !strings.HasPrefix(ct, "image/") {
		return nil, "", fmt.Errorf("replicate: %s: got %s, not an image", op, ct)
	}
	return body, ct, nil
}

// mediaType is the media type of a download: the Content-Type header
// without parameters, or sniffed when the header is missing or generic.
func mediaType(header string, body []byte) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil || mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	return strings.ToLower(mt)
}

// outputURL returns the first URL of an output: FLUX models return a list
// of URLs, others a single URL. A missing output wraps errOutputGone. An
// output that is not a URL is quoted in the error without token.
func outputURL(out replicatego.PredictionOutput, token string) (string, error) {
	var s string
	switch v := out.(type) {
	case nil:
		return "", fmt.Errorf("%w: the prediction has no output", errOutputGone)
	case string:
		s = v
	case []any:
		if len(v) == 0 {
			return "", fmt.Errorf("%w: the prediction's output is an empty list", errOutputGone)
		}
		first, ok := v[0].(string)
		if !ok {
			return "", fmt.Errorf("output is a list of %T, not of URLs", v[0])
		}
		s = first
	default:
		return "", fmt.Errorf("output is a %T, not a URL", out)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("output %q is not an http(s) URL", truncate(secret.Scrub(s, token), 100))
	}
	return s, nil
}

// dataRemoved reports the data_removed flag Replicate sets once it has
// deleted a prediction's input and output; replicate-go has no field for it.
func dataRemoved(p *replicatego.Prediction) bool {
	var raw struct {
		DataRemoved bool `json:"data_removed"`
	}
	return json.Unmarshal(p.RawJSON(), &raw) == nil && raw.DataRemoved
}

// predictionError is a prediction's error as text, without token: the
// model's own message may quote anything, and it reaches logs and job
// errors.
func predictionError(p *replicatego.Prediction, token string) string {
	var msg string
	switch v := p.Error.(type) {
	case nil:
		return ""
	case string:
		msg = strings.TrimSpace(v)
	default:
		b, _ := json.Marshal(v)
		msg = string(b)
	}
	return truncate(secret.Scrub(msg, token), maxPredictionError)
}

// aspectRatio returns the FLUX aspect ratio nearest w:h; 16:9 (nearest to
// the 1200x630 default) when either is not positive.
func aspectRatio(w, h int) string {
	if w <= 0 || h <= 0 {
		return "16:9"
	}
	want := math.Log(float64(w) / float64(h))
	best, bestDist := "", math.Inf(1)
	for _, a := range aspectRatios {
		if d := math.Abs(math.Log(a.ratio) - want); d < bestDist {
			best, bestDist = a.name, d
		}
	}
	return best
}

// validID reports whether id can be a prediction id: letters, digits, '-'
// and '_' only, so it is safe in a URL path.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Cancel cancels prediction id. Cancelling a prediction that has already
// ended is not an error (Replicate answers with the prediction as it is).
func (m *ImageModel) Cancel(ctx context.Context, id string) error {
	if !validID(id) {
		return errs.Invalid("prediction_id", "must be a Replicate prediction id, got %q", id)
	}
	if _, err := m.client.CancelPrediction(ctx, id); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return redact(classify("cancel prediction "+id, err, m.now()), m.cfg.Token)
	}
	return nil
}
