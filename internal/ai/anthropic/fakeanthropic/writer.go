package fakeanthropic

import (
	"encoding/json"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
)

// WriterContent returns a SetContent function that answers as wr does for
// OpenAI: a valid answer for the stage the forced tool names (cluster_name,
// idea_list, draft, image_prompt), written from the default prompt
// templates' lines in the request's last message, so that the pipeline
// runs on the fake as on a model.
func WriterContent(wr *fakeopenai.Writer) func(*Request) string {
	return func(r *Request) string {
		format, _ := json.Marshal(map[string]any{"json_schema": map[string]string{"name": r.ForcedTool()}})
		return wr.Answer(&fakeopenai.Request{
			Endpoint:       fakeopenai.EndpointChat,
			Model:          r.Model,
			Messages:       []fakeopenai.Message{{Role: "system", Content: r.System}, {Role: "user", Content: r.Prompt()}},
			ResponseFormat: format,
		})
	}
}
