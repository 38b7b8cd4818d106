package kwimport

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/presswork/presswork/internal/errs"
)

func i32(v int32) *int32 { return &v }
func i16(v int16) *int16 { return &v }

// parseCase is one table entry shared by the CSV and JSON tests.
type parseCase struct {
	name    string
	in      string
	maxRows int
	want    Result
	wantErr string // substring of the single problem of a *errs.ValidationError on ErrorField
}

// runParseCases runs cases through parse and compares with go-cmp.
func runParseCases(t *testing.T, parse func(string, int) (Result, error), cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.in, tc.maxRows)
			if tc.wantErr != "" {
				checkFileError(t, err, tc.wantErr)
				if diff := cmp.Diff(Result{}, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("result with an error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkFileError checks err is a ValidationError on ErrorField whose
// problem contains want.
func checkFileError(t *testing.T, err error, want string) {
	t.Helper()
	var ve *errs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a *errs.ValidationError", err, err)
	}
	if len(ve.Problems) != 1 || ve.Problems[0].Field != ErrorField {
		t.Fatalf("problems = %+v, want one on field %q", ve.Problems, ErrorField)
	}
	if !strings.Contains(ve.Problems[0].Problem, want) {
		t.Errorf("problem = %q, want it to contain %q", ve.Problems[0].Problem, want)
	}
}

func parseCSVString(s string, maxRows int) (Result, error) {
	return ParseCSV(strings.NewReader(s), maxRows)
}

func parseJSONString(s string, maxRows int) (Result, error) {
	return ParseJSON(strings.NewReader(s), maxRows)
}
