package worker

import "time"

// SetFileRetryBase sets the wait after a first failure to delete a
// provider batch's files (tests make it 0 to try again at once).
func SetFileRetryBase(p *BatchPass, d time.Duration) { p.fileRetryBase = d }
