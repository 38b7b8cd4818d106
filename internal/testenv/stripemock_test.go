package testenv

import (
	"net/http"
	"testing"
)

// TestStripeMockAnswers starts stripe-mock and lists customers through it.
func TestStripeMockAnswers(t *testing.T) {
	base := StripeMock(t)
	req, err := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/customers from stripe-mock: %s, want 200", resp.Status)
	}
}
