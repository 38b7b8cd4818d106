package ai

import (
	"errors"
	"testing"

	"github.com/presswork/presswork/internal/errs"
)

func TestRenderPromptRejectsWrongInput(t *testing.T) {
	if _, _, err := RenderPrompt(StageDraft, sampleIdeasInput()); !errors.Is(err, errs.ErrPermanent) {
		t.Errorf("wrong input type: err = %v", err)
	}
	if _, _, err := RenderPrompt(Stage("nope"), sampleIdeasInput()); err == nil {
		t.Error("unknown stage: no error")
	}
	var nilIn *DraftInput
	if _, _, err := RenderPrompt(StageDraft, nilIn); err == nil {
		t.Error("nil pointer input: no error")
	}
	in := sampleDraftInput()
	s1, u1, err := RenderPrompt(StageDraft, &in)
	if err != nil {
		t.Fatal(err)
	}
	s2, u2, _ := RenderPrompt(StageDraft, in)
	if s1 != s2 || u1 != u2 {
		t.Error("pointer and value inputs render differently")
	}
}
