// Package anthropic is the AI provider for Anthropic's Messages API. It
// implements ai.TextModel on github.com/anthropics/anthropic-sdk-go/v2:
// the answer is a forced tool call, one tool named after the stage's schema
// with that schema as its input_schema and tool_choice naming it, and the
// tool call's input is the JSON answer. Anthropic has no embeddings: the
// worker keeps OpenAI's or the offline embedder (see package providers).
//
// The system prompt is sent as a text block marked cache_control
// "ephemeral", so that the tools and the system prompt (a stage's fixed
// part) are cached for five minutes; prompts shorter than the model's
// minimum cacheable length (1,024 to 4,096 tokens) are simply not cached.
//
// # Configuration
//
// ConfigFromEnv reads these variables; the provider is off (ok is false)
// when ANTHROPIC_API_KEY is unset or empty. The SDK itself reads nothing
// from the environment.
//
//	ANTHROPIC_API_KEY              the key; required. Never logged or put in errors.
//	ANTHROPIC_BASE_URL             default https://api.anthropic.com (without /v1).
//	ANTHROPIC_MODEL                the model of every stage without its own;
//	                               default claude-haiku-4-5.
//	ANTHROPIC_MODEL_CLUSTER_NAME   the model that names keyword clusters.
//	ANTHROPIC_MODEL_IDEAS          the model that proposes content ideas.
//	ANTHROPIC_MODEL_DRAFT          the model that writes drafts.
//	ANTHROPIC_MODEL_IMAGE_PROMPT   the model that writes image prompts.
//	ANTHROPIC_STRICT_TOOLS         "true" sends the tool with strict: true (the API's
//	                               structured outputs; the model must support it).
//	                               Default false.
//	ANTHROPIC_TIMEOUT              per HTTP request, a Go duration ("90s") or seconds
//	                               ("90"); default 120s.
//	ANTHROPIC_PRICES               prices that extend or override the built-in table.
//
// ANTHROPIC_PRICES is a list of entries separated by commas or semicolons,
// each model=input/output or model=input/output/cache_write/cache_read in
// USD per million tokens; with two prices, the cache write costs 1.25 times
// the input price and the cache read a tenth of it, as Anthropic charges:
//
//	ANTHROPIC_PRICES="claude-haiku-4-5=1/5/1.25/0.10, my-proxy-model=0/0"
//
// A price applies to its model and to the model's dated snapshots
// ("claude-haiku-4-5" prices "claude-haiku-4-5-20251001"). A model without a
// price costs 0; see Config.UnpricedModels to warn about that at start.
//
// A request's max_tokens is its MaxTokens, or DefaultMaxTokens when it
// names none (the API requires one).
//
// # Usage
//
// Usage.Model is the model that answered. PromptTokens counts every input
// token: input_tokens plus cache_creation_input_tokens plus
// cache_read_input_tokens; the cost prices each of the three at its own
// rate.
//
// # Errors
//
// The SDK's retries are off (the rate limiter and the job queue decide when
// to try again). Every error is classified with package errs:
//
//   - 429 rate_limit_error and 529 overloaded_error: *errs.ThrottledError,
//     with RetryAfter from retry-after (seconds or an HTTP date) or the
//     reset time of the exhausted anthropic-ratelimit-* limit (requests,
//     tokens, input-tokens, output-tokens; of all when none says it is
//     exhausted); 5s when none is given, 24h at most. A 429 whose
//     error_code is a spend limit is errs.Permanent.
//   - 408, other 5xx, timeouts and connection errors: retryable (plain errors).
//   - any other 4xx (400, 401, 402, 403, 404, 413, ...): errs.Permanent, with
//     words that say what to check.
//   - an answer without the tool call: retryable.
//   - the caller's context ending: the context's error, unclassified.
//
// The API's error type, error code, message and request id are kept, each
// shortened and with the key removed in every form secret.Scrub knows and
// anything that looks like a key; the SDK's own error text (which quotes the
// whole answer) is not. A 401 never repeats the server's message.
package anthropic
