package tasks

import "time"

// TypeModelTest tests a model of the catalogue in a worker (POST
// /v1/admin/models/:id/test) while the API waits for the answer: the
// worker has the providers' keys and clients, the API has neither.
const TypeModelTest = "model:test"

// ModelTestWait bounds how long the API waits for a model test's answer,
// and how long its task may run: the test's own 10 s on the provider
// (modeltest.Timeout) and a margin for the queue, so that a provider that
// does not answer is reported as such rather than as a worker that did
// not.
const ModelTestWait = 15 * time.Second

// ModelTestPayload is a model test's payload: ids only. The worker reads
// the model's row and uses its own credentials; the answer, a
// ModelTestResult in JSON, is the task's result.
type ModelTestPayload struct {
	TestID  string `json:"test_id"`
	ModelID int64  `json:"model_id"`
}

// ModelTestResult is what a model test found, in plain words: the worker
// writes it (modeltest.Tester), the API answers it.
type ModelTestResult struct {
	OK bool `json:"ok"`
	// Problem is one of the ModelTest* problems; "" when OK.
	Problem   string `json:"problem,omitempty"`
	Message   string `json:"message"`
	LatencyMS int64  `json:"latency_ms"`
}

// The problems a ModelTestResult names.
const (
	ModelTestKey         = "key"         // no key, or the key was refused (401/403)
	ModelTestModel       = "model"       // the provider does not know the model (404)
	ModelTestNetwork     = "network"     // no connection, or no answer in time
	ModelTestQuota       = "quota"       // rate limited or out of quota (429)
	ModelTestProvider    = "provider"    // the provider failed (5xx) or answered nonsense
	ModelTestRequest     = "request"     // the provider refused the request (another 4xx)
	ModelTestUnsupported = "unsupported" // this server cannot test the model's provider or kind
)
