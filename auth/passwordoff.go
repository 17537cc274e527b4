package auth

import "github.com/sluicehq/sluice/usererr"

// ErrPasswordLoginOff is the answer to a password login when password
// login is turned off.
var ErrPasswordLoginOff = usererr.Errorf("FORBIDDEN", "password login is turned off on this server; sign in with single sign-on")

// ErrNoPassword is the answer to a password operation of a user who signs
// in with single sign-on and has no password.
var ErrNoPassword = usererr.Errorf("FORBIDDEN", "your account signs in with single sign-on and has no password to change")

// ErrInvitationNeedsSSO answers an invitation accepted without being
// signed in, when password login is off: an account made or proven with a
// password could never log in, so the person signs in with single sign-on
// first and accepts the invitation with that account.
var ErrInvitationNeedsSSO = usererr.Errorf("FORBIDDEN", "password login is turned off on this server: sign in with single sign-on first, then open the invitation again to join with that account")
