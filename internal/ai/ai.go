// Package ai is the seam between Presswork and the AI providers. A provider
// implements TextModel (a JSON answer that matches a JSON schema) and
// Embedder; the stage functions in stages.go render the prompts, call the
// model, and parse and validate the answer into the Go types below, the same
// way for every provider. The built-in offline provider (package
// internal/ai/offline) needs no network and no key.
package ai

import (
	"context"
	"encoding/json"

	"github.com/presswork/presswork/internal/errs"
)

// Stage names the pipeline step a model call serves; it selects the prompt,
// the schema and, in configuration, the model.
type Stage string

// The stages that call a text model; tasks.Pipeline gives the automation
// stage each serves.
const (
	StageClusterName Stage = "cluster_name"
	StageIdeas       Stage = "ideas"
	StageDraft       Stage = "draft"
	StageImagePrompt Stage = "image_prompt"
)

// Usage is what one or more model calls consumed.
type Usage struct {
	Model            string  `json:"model"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
}

// Add accumulates u2 into u; the model of the last call wins.
func (u *Usage) Add(u2 Usage) {
	if u2.Model != "" {
		u.Model = u2.Model
	}
	u.PromptTokens += u2.PromptTokens
	u.CompletionTokens += u2.CompletionTokens
	u.CostUSD += u2.CostUSD
}

// JSONRequest asks a text model for one JSON object that matches Schema.
type JSONRequest struct {
	Stage      Stage
	System     string
	Prompt     string
	SchemaName string
	Schema     json.RawMessage
	// Input is the structured data the prompt was rendered from (one of the
	// *Input types below). Remote models ignore it; the offline model writes
	// its answer from it.
	Input     any
	MaxTokens int
}

// JSONResponse is a model's raw answer. Truncated and Refusal report the two
// ways a model can fail to give a complete answer.
type JSONResponse struct {
	Content   []byte
	Usage     Usage
	Truncated bool
	Refusal   string
}

// TextModel generates JSON answers. Errors are classified with package errs:
// *errs.ThrottledError for rate limits, errs.Permanent for what no retry
// fixes, anything else is retryable.
type TextModel interface {
	Name() string
	GenerateJSON(ctx context.Context, req JSONRequest) (JSONResponse, error)
}

// Embedder turns texts into vectors of a fixed dimension, one per text, in
// order. Vectors need not be normalized; callers normalize.
type Embedder interface {
	Name() string
	Dimensions() int
	Embed(ctx context.Context, texts []string) ([][]float32, Usage, error)
}

// KeywordInfo is a keyword as the prompts see it.
type KeywordInfo struct {
	Phrase     string `json:"phrase"`
	Volume     *int32 `json:"volume,omitempty"`
	Difficulty *int16 `json:"difficulty,omitempty"`
	Intent     string `json:"intent,omitempty"`
}

// ClusterNameInput holds a cluster's keywords, most central first: all of
// them, or the first few of KeywordCount.
type ClusterNameInput struct {
	SiteName string        `json:"site_name"`
	Keywords []KeywordInfo `json:"keywords"`
	// KeywordCount is how many keywords the cluster has, when Keywords
	// lists only the most central ones (a description's count is this one).
	KeywordCount int `json:"keyword_count,omitempty"`
	// Profile is the site's content profile (its language names the
	// cluster).
	Profile Profile `json:"profile"`
}

// Size is how many keywords the cluster has: KeywordCount, or the keywords
// listed when they are more.
func (in ClusterNameInput) Size() int { return max(in.KeywordCount, len(in.Keywords)) }

// ClusterName is the model's name and description for a cluster.
type ClusterName struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// IdeasInput asks for Count content ideas for a cluster.
type IdeasInput struct {
	SiteName           string        `json:"site_name"`
	ClusterName        string        `json:"cluster_name"`
	ClusterDescription string        `json:"cluster_description"`
	Keywords           []KeywordInfo `json:"keywords"`
	Count              int           `json:"count"`
	ExistingTitles     []string      `json:"existing_titles"`
	Profile            Profile       `json:"profile"`
	// TakenKeywords are the primary keywords of the site's ideas: an idea
	// with one of them as its primary keyword is refused as a duplicate.
	TakenKeywords []string `json:"taken_keywords"`
}

// Heading is one outline entry; Level is 2 or 3.
type Heading struct {
	Level int    `json:"level"`
	Text  string `json:"text"`
}

// Idea is one proposed article.
type Idea struct {
	Title          string    `json:"title"`
	ContentType    string    `json:"content_type"`
	TargetKeywords []string  `json:"target_keywords"`
	Outline        []Heading `json:"outline"`
}

// IdeaList wraps ideas so the schema's root is an object, as strict
// structured outputs require.
type IdeaList struct {
	Ideas []Idea `json:"ideas"`
}

// ContentTypes are the content types an idea may have.
var ContentTypes = []string{"post", "guide", "listicle", "comparison", "how_to", "review"}

// DraftInput is what the draft stage writes from.
type DraftInput struct {
	SiteName       string    `json:"site_name"`
	ClusterName    string    `json:"cluster_name"`
	Title          string    `json:"title"`
	ContentType    string    `json:"content_type"`
	TargetKeywords []string  `json:"target_keywords"`
	Outline        []Heading `json:"outline"`
	// MinWords is the draft's soft minimum length in words (a shorter one
	// is accepted with a warning); zero means the content type's default.
	MinWords int `json:"min_words,omitempty"`
	// Profile is the site's content profile: language, voice, length
	// targets and the sections to add.
	Profile Profile `json:"profile"`
	// FAQQuestions are the cluster's question keywords, for the FAQ
	// section when the profile asks for one.
	FAQQuestions []string `json:"faq_questions,omitempty"`
	// WordBand is how far, in percent either side of its word target, a
	// draft's length may be before it is sent back to be expanded or
	// trimmed; zero means DefaultWordBand.
	WordBand int `json:"word_band,omitempty"`
	// InternalLinks are the site's pages closest to the idea: the draft
	// links to 2 to 5 of them, and to no other page of the site.
	InternalLinks []LinkTarget `json:"internal_links,omitempty"`
}

// LinkTarget is a page of the site a draft may link to.
type LinkTarget struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// WordTarget is the length the profile aims for in this draft's content
// type, 0 when it sets none.
func (in DraftInput) WordTarget() int { return in.Profile.WordTarget(in.ContentType) }

// Draft is a written article. BodyHTML contains the outline's headings as
// <h2>/<h3> elements, in order.
type Draft struct {
	Title           string `json:"title"`
	Slug            string `json:"slug"`
	Excerpt         string `json:"excerpt"`
	MetaTitle       string `json:"meta_title"`
	MetaDescription string `json:"meta_description"`
	FocusKeyword    string `json:"focus_keyword"`
	BodyHTML        string `json:"body_html"`

	// Fixes are the faults of the model's answer that were repaired
	// without asking the model again, and Warnings the soft rules the draft
	// does not meet (docs/ai-repair.md). Neither is part of the answer.
	Fixes    []errs.FieldProblem `json:"-"`
	Warnings []errs.FieldProblem `json:"-"`
}

// MaxInlineImages is the most in-article images one draft may ask for.
const MaxInlineImages = 5

// ImagePromptInput is what the image_prompt stage describes a draft's
// images from. Headings are the texts of the article's <h2> headings, in
// order. InlineCount (0 to MaxInlineImages) asks for that many in-article
// images as well, each placed after a different heading; a draft with fewer
// (distinct) headings gets one per heading.
type ImagePromptInput struct {
	SiteName     string   `json:"site_name"`
	Title        string   `json:"title"`
	FocusKeyword string   `json:"focus_keyword"`
	Excerpt      string   `json:"excerpt"`
	Headings     []string `json:"headings"`
	InlineCount  int      `json:"inline_count"`
	Profile      Profile  `json:"profile"`
}

// ImagePrompt is the model's prompt for an image model and the alt text of
// a draft's featured image, and its in-article images (as many as asked
// for, in the order of their headings in the article).
type ImagePrompt struct {
	Prompt  string              `json:"prompt"`
	AltText string              `json:"alt_text"`
	Inline  []InlineImagePrompt `json:"inline_images"`
}

// InlineImagePrompt is the prompt and alt text of an in-article image shown
// after Heading, which is one of the input's headings exactly as given.
type InlineImagePrompt struct {
	Heading string `json:"heading"`
	Prompt  string `json:"prompt"`
	AltText string `json:"alt_text"`
}

// TextModels are the text and embedding models that serve a tenant's jobs.
type TextModels struct {
	Text     TextModel
	Embedder Embedder
}
