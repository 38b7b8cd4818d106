package ai

import "context"

// ImageRequest asks an image model for one image.
//
// Remote image models run a prediction that can outlive the job that started
// it (a worker restart, a job timeout). So that a retried job does not pay
// for a second image, the caller records the prediction id as soon as it
// exists (OnStarted) and passes it back on the retry (ResumePredictionID).
type ImageRequest struct {
	// Prompt describes the image for a remote model.
	Prompt string
	// Width and Height are the size wanted, in pixels; zero means the
	// model's default (1200x630 offline). A remote model may only honour the
	// aspect ratio; Image reports the size actually delivered.
	Width, Height int
	// Title is the article title; the offline generator draws from it.
	Title string
	// ResumePredictionID is the id a previous attempt reported through
	// OnStarted. When set, the model resumes that prediction instead of
	// creating (and paying for) another one. If the prediction failed, was
	// canceled or aborted, no longer exists, or its output has expired, the
	// model creates a new prediction and reports it through OnStarted.
	ResumePredictionID string
	// OnStarted, if not nil, is called with the id of a newly created
	// prediction right after creation and before any polling, so that the
	// caller can store it (on the image row) at once. It is not called for a
	// resumed prediction. If it returns an error the model cancels the
	// prediction, which nobody could resume, and Generate returns the error.
	// Models without remote predictions never call it.
	OnStarted func(ctx context.Context, predictionID string) error
}

// Image is a generated image. Bytes are the image file itself, already
// downloaded: remote providers delete their output after a while, so Bytes
// must go to Presswork's own storage.
type Image struct {
	Bytes       []byte
	ContentType string // e.g. image/png
	Size        int    // len(Bytes)
	// Width and Height are the decoded size; zero when the format is one the
	// standard library cannot decode (e.g. WebP).
	Width, Height int
	Model         string
	// PredictionID is the remote prediction that made the image; empty for
	// models without remote predictions.
	PredictionID string
	CostUSD      float64
}

// ImageModel generates images. Errors are classified with package errs, as
// for TextModel: *errs.ThrottledError for rate limits, errs.Permanent for
// what no retry fixes, anything else is retryable. When ctx ends, Generate
// returns an error that wraps ctx's error and leaves a remote prediction
// running: the caller decides whether to Cancel it or to resume it later.
type ImageModel interface {
	Name() string
	Generate(ctx context.Context, req ImageRequest) (Image, error)
	// Cancel stops a running prediction; models without remote predictions
	// do nothing.
	Cancel(ctx context.Context, predictionID string) error
}
