package fakeopenai

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// Spent is what the server reported as used, for one model: the sums of
// the usage blocks of its successful answers, as a provider bills them.
type Spent struct {
	PromptTokens     int
	CompletionTokens int
	Answers          int
}

// Spent returns the usage the server reported, by the model named in each
// answer.
func (s *Server) Spent() map[string]Spent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Spent, len(s.spent))
	for model, sp := range s.spent {
		out[model] = sp
	}
	return out
}

// countUsage adds the usage block of a successful answer to the totals.
func (s *Server) countUsage(status int, body []byte) {
	if status != http.StatusOK {
		return
	}
	var answer struct {
		Model string `json:"model"`
		Usage *struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Usage == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spent == nil {
		s.spent = map[string]Spent{}
	}
	sp := s.spent[answer.Model]
	sp.PromptTokens += answer.Usage.PromptTokens
	sp.CompletionTokens += answer.Usage.CompletionTokens
	sp.Answers++
	s.spent[answer.Model] = sp
}

// teeWriter keeps a copy of the status and body it writes.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
