// Package openai is the AI provider for the OpenAI API and the servers that
// speak it: Azure OpenAI and OpenAI-compatible servers (vLLM, Ollama, LiteLLM
// and others). It implements ai.TextModel with Chat Completions and strict
// structured outputs (response_format json_schema, strict: true), and
// ai.Embedder with the embeddings endpoint. Both run on
// github.com/sashabaranov/go-openai.
//
// # Configuration
//
// ConfigFromEnv reads these variables; the provider is off (ok is false)
// when OPENAI_API_KEY is unset or empty.
//
//	OPENAI_API_KEY               the key; required. Never logged or put in errors.
//	OPENAI_API_TYPE              "openai" (default) or "azure".
//	OPENAI_BASE_URL              default https://api.openai.com/v1; any
//	                             OpenAI-compatible server ("http://localhost:11434/v1").
//	                             Not used with Azure.
//	OPENAI_AZURE_ENDPOINT        Azure only, required: https://<resource>.openai.azure.com
//	OPENAI_API_VERSION           Azure only; default 2024-10-21. Structured outputs and
//	                             max_completion_tokens need 2024-09-01-preview or later.
//	OPENAI_AZURE_DEPLOYMENTS     Azure only: model=deployment pairs separated by
//	                             commas ("gpt-4o-mini=mini-prod,text-embedding-3-small=emb").
//	                             A model without a pair uses go-openai's default
//	                             mapping: the model name without ":" (and without
//	                             "." for 3.5 models).
//	OPENAI_MODEL                 the model of every stage without its own; default gpt-4o-mini.
//	OPENAI_MODEL_CLUSTER_NAME    the model that names keyword clusters.
//	OPENAI_MODEL_IDEAS           the model that proposes content ideas.
//	OPENAI_MODEL_DRAFT           the model that writes drafts.
//	OPENAI_MODEL_IMAGE_PROMPT    the model that writes image prompts (stage "image_prompt").
//	OPENAI_EMBEDDING_MODEL       default text-embedding-3-small.
//	OPENAI_EMBEDDING_DIMENSIONS  default 512; sent as "dimensions", so the model must
//	                             support it (text-embedding-3-*).
//	OPENAI_TIMEOUT               per HTTP request, a Go duration ("90s") or seconds ("90");
//	                             default 60s.
//	OPENAI_PRICES                prices that extend or override the built-in table.
//
// ConfigFromEnvWithKey reads the same variables for a key that comes from
// elsewhere, whether or not OPENAI_API_KEY is set, and Config.ForKey turns
// such a configuration into one for another account's key and base URL: the
// worker serves tenants that bring their own OpenAI key this way, with the
// server's models, prices and timeout.
//
// OPENAI_PRICES is a list of entries separated by commas or semicolons, each
// model=prompt/completion in USD per million tokens; an embedding model
// needs only the prompt price:
//
//	OPENAI_PRICES="gpt-4o-mini=0.15/0.60, my-llama=0/0, text-embedding-3-small=0.02"
//
// A price applies to its model and to the model's dated snapshots
// ("gpt-4o-mini" prices "gpt-4o-mini-2024-07-18"), since the API answers with
// the snapshot that served. A model without a price costs 0; see
// Config.UnpricedModels to warn about that at start. Costs ignore cached-input
// discounts, so they are an upper bound.
//
// # Profiles
//
// Config.Profile says how a provider's OpenAI-compatible endpoint is
// spoken to: ProfileGemini, ProfileMistral and ProfileXAI send the schema
// and the length bound the way each provider's documentation says it
// accepts them, and name their models "gemini/<model>", "mistral/<model>",
// "xai/<model>"; the zero Profile is OpenAI's. ConfigForProfile builds a
// configuration for one; package providers reads their keys
// (GEMINI_API_KEY, MISTRAL_API_KEY, XAI_API_KEY) and base URLs.
//
// # Batch API
//
// Batcher sends the same requests through the Batch API (POST /v1/files,
// /v1/batches) at half the price, answered within 24 hours: Upload writes
// the JSONL input file (each line's body is exactly what GenerateJSON would
// send; one model per file), Create makes the batch with metadata,
// FindBatch finds a batch created earlier by a metadata pair (for
// exactly-once creation: a task resumed after a crash looks before it
// creates), Retrieve and Cancel follow it, and Results reads its output and
// error files into one ai.JSONResponse per line, read as GenerateJSON reads
// an answer (Refusal, Truncated, Usage priced at BatchDiscount). A line the
// batch never ran (expired, cancelled, failed validation) reports
// ErrLineNotRun, to be sent the ordinary way. On Azure the lines name the
// deployment (which must be a "global batch" deployment), the endpoint is
// /chat/completions and the paths are /openai/files and /openai/batches
// with OPENAI_API_VERSION (2024-10-21 or later).
//
// # Errors
//
// Every error is classified with package errs, from the HTTP status and
// headers that a wrapping http.RoundTripper captures (go-openai drops the
// headers of failed responses):
//
//   - 429: *errs.ThrottledError, with RetryAfter from Retry-After (seconds or
//     an HTTP date), retry-after-ms, or x-ratelimit-reset-requests/-tokens
//     ("1s", "6m0s", "20ms"); 5s when none is given, 24h at most. A 429 with the code
//     insufficient_quota is errs.Permanent: no retry helps until billing is
//     fixed.
//   - 408, 5xx, timeouts and connection errors: retryable (plain errors).
//   - any other 4xx (400, 401, 403, 404, ...): errs.Permanent.
//   - the caller's context ending: the context's error, unclassified.
//
// The API's own error code, type, message and request id (x-request-id, or
// apim-request-id on Azure) are kept, each shortened and with the key removed
// in every form secret.Scrub knows (as sent, URL- and JSON-escaped, base64)
// and anything that looks like a key; other headers and the param are not
// kept. A 401 never repeats the server's message.
package openai
