package tasks_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/tasks"
)

// TestPanelCheckResultCarriesTheCheck: what a check returns comes back,
// through the result's JSON, as the same kind of error with the same
// problems; an error that is no check outcome is not a result, and a
// result that says nothing is the check unavailable.
func TestPanelCheckResultCarriesTheCheck(t *testing.T) {
	t.Parallel()
	refused := (&errs.ValidationError{}).Add("email", "refused").Add("password", "refused")
	cases := []struct {
		name    string
		checked error
		want    func(error) bool
	}{
		{"passed", nil, func(err error) bool { return err == nil }},
		{"fields at fault", refused, func(err error) bool {
			var ve *errs.ValidationError
			return errors.As(err, &ve) && slices.Equal(ve.Problems, refused.Problems)
		}},
		{"panel down", errs.Unavailable("the panel", errors.New("HTTP 502")), func(err error) bool {
			var ue *errs.UnavailableError
			return errors.As(err, &ue) && ue.Service == "the panel" && errors.Is(err, errs.ErrUnavailable)
		}},
	}
	for _, c := range cases {
		result, err := tasks.PanelCheckResultOf(c.checked)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, err := json.Marshal(result)
		if err != nil {
			t.Fatal(err)
		}
		var read tasks.PanelCheckResult
		if err := json.Unmarshal(body, &read); err != nil {
			t.Fatal(err)
		}
		if got := read.Err(); !c.want(got) {
			t.Errorf("%s: %s carries %v", c.name, body, got)
		}
	}
	if _, err := tasks.PanelCheckResultOf(errors.New("boom")); err == nil {
		t.Error("an error that is no check outcome became a result")
	}
	if err := (tasks.PanelCheckResult{}).Err(); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("an empty result carries %v, want the check unavailable", err)
	}
}

// TestPanelCheckADNamesTenantAndCheck: a sealed password opens only for
// its tenant and its check.
func TestPanelCheckADNamesTenantAndCheck(t *testing.T) {
	t.Parallel()
	ad := string(tasks.PanelCheckAD(7, "abc"))
	for _, other := range []string{string(tasks.PanelCheckAD(8, "abc")), string(tasks.PanelCheckAD(7, "abd"))} {
		if other == ad {
			t.Errorf("associated data %q names no tenant or check", ad)
		}
	}
}
