package tasks

// TypeAIBatch is a pass of the provider batches (#23): it groups the jobs
// waiting in the state batched into batches of a provider's Batch API,
// creates them, polls them and puts their jobs back on the queue with
// their answers. It is no job (it has no row and no payload); the
// scheduler enqueues it periodically under one task id, so that one pass
// at a time is queued.
const TypeAIBatch = "ai:batch"
