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
// the model's row and uses its own credentials; the answer (JSON of
// httpapi.TestResult, written by the worker as modeltest.Result) is the
// task's result.
type ModelTestPayload struct {
	TestID  string `json:"test_id"`
	ModelID int64  `json:"model_id"`
}
