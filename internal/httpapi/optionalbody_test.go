package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
)

// TestClusteringBodyIsOptional: clustering takes no parameters, so no body,
// an empty body with a JSON Content-Type and {} all start it.
func TestClusteringBodyIsOptional(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	for i, tc := range []struct {
		contentType string
		body        []byte
	}{
		{"", nil},
		{"application/json", nil},
		{"application/json", []byte(" \n")},
		{"application/json", []byte(`{}`)},
	} {
		f := newFixtureLite(t, h, fmt.Sprintf("optional%d", i))
		site := createSite(t, h, f.Key, "blog", "pw")
		importCSV(t, h, f.Key, site, "phrase\nbest trail shoes\ntrail shoes for women\nwaterproof trail shoes\n")
		call(t, h, f.Key, "POST", fmt.Sprintf("/v1/sites/%d/clustering", site), tc.contentType, tc.body).must(t, 202, nil)
	}
}
