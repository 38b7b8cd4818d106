package httpapi_test

// badInputsAutomation extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area.
func badInputsAutomation() []badCase {
	return nil
}
