package config_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestStripeKeys (#26): billing is off without keys, on with both, and a
// half-set or misspelt pair fails the boot naming the variable; the keys
// never show in the logged configuration.
func TestStripeKeys(t *testing.T) {
	if c := load(t, nil); c.Stripe.Enabled() {
		t.Error("billing is on without Stripe keys")
	}
	on := load(t, map[string]string{"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_abc"})
	if !on.Stripe.Enabled() {
		t.Error("billing is off with both Stripe keys")
	}
	if logged := fmt.Sprint(on.LogValue()); strings.Contains(logged, "sk_test_abc") || strings.Contains(logged, "whsec_abc") {
		t.Errorf("the logged configuration shows a Stripe key: %s", logged)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"STRIPE_SECRET_KEY": "sk_test_abc"}, "STRIPE_SECRET_KEY"},
		{map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_abc"}, "STRIPE_SECRET_KEY"},
		{map[string]string{"STRIPE_SECRET_KEY": "pk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_abc"}, "STRIPE_SECRET_KEY"},
		{map[string]string{"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "abc"}, "STRIPE_WEBHOOK_SECRET"},
		{map[string]string{"STRIPE_API_BASE": "ftp://mock"}, "STRIPE_API_BASE"},
		{map[string]string{"STRIPE_GRACE_PERIOD": "soon"}, "STRIPE_GRACE_PERIOD"},
	} {
		if got := loadErr(t, tc.env); !strings.Contains(got, tc.want) {
			t.Errorf("%v: error %q, want one naming %s", tc.env, got, tc.want)
		}
	}
}
