package auth

import "time"

// SetNow sets the authenticator's clock.
func (a *Authenticator) SetNow(now func() time.Time) { a.now = now }
