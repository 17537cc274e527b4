package gcpace

import "time"

// SetQuietEvery shortens the quiet check for tests; it returns the restore.
func SetQuietEvery(d time.Duration) func() {
	old := quietEvery
	quietEvery = d
	return func() { quietEvery = old }
}
