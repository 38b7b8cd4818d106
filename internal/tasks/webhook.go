package tasks

// TypeWebhook sends one webhook delivery. It is no job: its record is the
// delivery's row, which the task names with WebhookPayload.
const TypeWebhook = "webhook:deliver"

// WebhookPayload names a delivery and the attempt the task makes; a task
// whose attempt is no longer the delivery's sends nothing.
type WebhookPayload struct {
	DeliveryID int64 `json:"delivery_id"`
	Attempt    int   `json:"attempt"`
}
