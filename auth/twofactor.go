package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/loginchallenge"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/recoverycode"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/tenant"
	"github.com/sluicehq/sluice/usererr"
)

// challengeTTL is how long the second step of a login waits for its code.
const challengeTTL = 5 * time.Minute

// Challenge is the second step of a login of a user with two-factor on:
// its token, sent back with a code to LoginWithCode, works once until
// Expires. It is not a session.
type Challenge struct {
	Token   string
	Expires time.Time
}

// ErrWrongCode answers a two-factor or recovery code that is wrong or was
// already used; it counts as a failed login.
var ErrWrongCode = errors.New("wrong two-factor code, or one already used")

// ErrChallengeEnded answers a login challenge that expired, was used, or
// never existed: the password step must be done again.
var ErrChallengeEnded = errors.New("this login step expired or was already used; log in again with your password")

// EnrollmentRequiredError refuses the token of a person whose organization
// requires two-factor and who has not turned it on. Viewer is that person:
// such a login may only enroll (and log out) until two-factor is on.
type EnrollmentRequiredError struct{ Viewer *Viewer }

func (e *EnrollmentRequiredError) Error() string {
	return "your organization requires two-factor sign-in: turn it on under My account (enrollTwoFactor, then confirmTwoFactor) before anything else"
}

type enrollingKey struct{}

// withEnrolling returns ctx carrying a person whose login may only enroll,
// scoped to that person's organization.
func withEnrolling(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(tenant.WithOrg(ctx, v.OrgID), enrollingKey{}, v)
}

// EnrollingViewerFrom returns the viewer of ctx, else the person whose
// login may only enroll, else nil: who may turn two-factor on.
func EnrollingViewerFrom(ctx context.Context) *Viewer {
	if v := ViewerFrom(ctx); v != nil {
		return v
	}
	v, _ := ctx.Value(enrollingKey{}).(*Viewer)
	return v
}

// mustEnroll reports whether u, a member of org, may only enroll: org
// requires two-factor, u has not turned it on, and u can log in with a
// password. Someone who can only sign in through single sign-on (no
// password of their own, or password login turned off) answers to their
// identity provider's second factor, which a code here would not add to.
func (a *Authenticator) mustEnroll(u *ent.User, org *ent.Organization) bool {
	return RequiresTwoFactor(org) && u.TotpEnabledAt == nil && u.PasswordHash != "" && !a.PasswordLoginOff
}

// RequiresTwoFactor reports whether org requires two-factor of its members.
func RequiresTwoFactor(org *ent.Organization) bool {
	return org != nil && org.RequireTwoFactor != nil && *org.RequireTwoFactor
}

// hasSecret reports whether u has a two-factor secret, enrolled or on
// (a NULL column reads as a pointer to an empty slice).
func hasSecret(u *ent.User) bool { return u.TotpCiphertext != nil && len(*u.TotpCiphertext) > 0 }

func totpAAD(userID int) string { return fmt.Sprintf("user_totp:%d", userID) }

// beginChallenge stores a challenge for u's login to orgID (0: the one
// last used) and returns its token.
func (a *Authenticator) beginChallenge(ctx context.Context, u *ent.User, orgID int) (*Challenge, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := "lc_" + base64.RawURLEncoding.EncodeToString(b)
	now := a.now().UTC()
	exp := now.Add(challengeTTL)
	if err := a.Client.LoginChallenge.Create().SetTokenHash(hashToken(token)).SetUserID(u.ID).
		SetOrganizationID(orgID).SetCreatedAt(now).SetExpiresAt(exp).Exec(ctx); err != nil {
		return nil, fmt.Errorf("start login challenge: %w", err)
	}
	if _, err := a.Client.LoginChallenge.Delete().Where(loginchallenge.ExpiresAtLT(now)).Exec(ctx); err != nil {
		a.Log.WarnContext(ctx, "could not delete expired login challenges", "err", err)
	}
	return &Challenge{Token: token, Expires: exp}, nil
}

// CodeRequest is the second step of a login: the challenge the password
// step returned and a code from the authenticator app or a recovery code.
type CodeRequest struct {
	Challenge, Code string
	Client
}

// LoginWithCode completes a login begun by Login: with the right code the
// challenge is used up and a session starts. Wrong codes count against the
// login limits as wrong passwords do. The user is returned whenever the
// challenge named one, for the audit log, even when the code was wrong.
func (a *Authenticator) LoginWithCode(ctx context.Context, req CodeRequest) (*Session, *ent.User, error) {
	ch, err := a.Client.LoginChallenge.Query().
		Where(loginchallenge.TokenHash(hashToken(req.Challenge)), loginchallenge.ExpiresAtGT(a.now().UTC())).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, ErrChallengeEnded
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up login challenge: %w", err)
	}
	u, err := a.Client.User.Get(ctx, ch.UserID)
	if ent.IsNotFound(err) {
		return nil, nil, ErrChallengeEnded
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up user: %w", err)
	}
	if u.TotpEnabledAt == nil {
		return nil, u, ErrChallengeEnded // two-factor was reset since the password step
	}
	if err := a.checkCode(ctx, u, req.Code, req.IP); err != nil {
		return nil, u, err
	}
	n, err := a.Client.LoginChallenge.Delete().Where(loginchallenge.ID(ch.ID)).Exec(ctx)
	if err != nil {
		return nil, u, fmt.Errorf("use login challenge: %w", err)
	}
	if n == 0 {
		return nil, u, ErrChallengeEnded
	}
	var m *ent.Membership
	if ch.OrganizationID != 0 {
		m, err = a.membership(ctx, u.ID, ch.OrganizationID)
	} else {
		m, err = a.lastMembership(ctx, u)
	}
	if err != nil {
		return nil, u, err
	}
	s, err := a.startSession(ctx, u, m, req.Client)
	return s, u, err
}

// checkCode checks a code of u, counted against the login limits like a
// password: ErrWrongCode when it is wrong or already used.
func (a *Authenticator) checkCode(ctx context.Context, u *ent.User, code, clientIP string) error {
	tickets, err := a.takeLogin(ctx, loginKeys(u.Username, clientIP))
	if err != nil {
		return err
	}
	c, wait, err := a.Codes.Take(ctx, "user:"+strings.ToLower(u.Username))
	if err == nil && wait > 0 {
		err = &LoginLimitedError{RetryAfter: wait}
	}
	if err != nil {
		a.returnTickets(ctx, tickets) // not a guess: the code was not checked
		if _, limited := err.(*LoginLimitedError); !limited {
			err = fmt.Errorf("count two-factor attempt: %w", err)
		}
		return err
	}
	tickets = append(tickets, c)
	ok, err := a.useCode(ctx, u, code)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongCode
	}
	a.returnTickets(ctx, tickets)
	return nil
}

// useCode uses up code if it is u's: a TOTP code of a step after the last
// one used, or (once two-factor is on) an unused recovery code.
func (a *Authenticator) useCode(ctx context.Context, u *ent.User, code string) (bool, error) {
	if !isTOTPCode(code) {
		if u.TotpEnabledAt == nil {
			return false, nil
		}
		n, err := a.Client.RecoveryCode.Delete().
			Where(recoverycode.UserID(u.ID), recoverycode.CodeHash(hashRecoveryCode(code))).Exec(ctx)
		if err != nil {
			return false, fmt.Errorf("use recovery code: %w", err)
		}
		return n == 1, nil
	}
	secret, err := a.openSecret(u)
	if err != nil {
		return false, err
	}
	var last int64
	if u.TotpLastStep != nil {
		last = *u.TotpLastStep
	}
	step, ok := matchTOTP(secret, code, a.now(), last)
	if !ok {
		return false, nil
	}
	// Of two requests with the same code, one moves the last step.
	n, err := a.Client.User.Update().
		Where(user.ID(u.ID), user.Or(user.TotpLastStepIsNil(), user.TotpLastStepLT(step))).
		SetTotpLastStep(step).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("note used code: %w", err)
	}
	return n == 1, nil
}

func (a *Authenticator) openSecret(u *ent.User) (string, error) {
	if !hasSecret(u) || u.TotpKeyID == nil {
		return "", errors.New("open two-factor secret: none is stored")
	}
	if a.Keyring == nil {
		return "", errors.New("open two-factor secret: no master key configured")
	}
	return a.Keyring.Open(secrets.Sealed{KeyID: *u.TotpKeyID, Ciphertext: *u.TotpCiphertext}, totpAAD(u.ID))
}

// Enrollment is a new two-factor secret, shown once: as text and as the
// otpauth:// URI an authenticator app reads from a QR code.
type Enrollment struct {
	Secret, URI string
}

var errTwoFactorOn = &usererr.Error{Code: usererr.CodeConflict, Message: "two-factor is already on; turn it off first to use another authenticator"}

// EnrollTwoFactor gives the user a new secret, sealed at rest, replacing
// one not yet confirmed. Two-factor is on only once ConfirmTwoFactor gets
// a first code.
func (a *Authenticator) EnrollTwoFactor(ctx context.Context, v *Viewer) (*Enrollment, error) {
	u, err := a.person(ctx, v)
	if err != nil {
		return nil, err
	}
	if u.TotpEnabledAt != nil {
		return nil, errTwoFactorOn
	}
	if a.Keyring == nil {
		return nil, errors.New("enroll two-factor: no master key configured")
	}
	secret := newTOTPSecret()
	sealed, err := a.Keyring.Seal(secret, totpAAD(u.ID))
	if err != nil {
		return nil, err
	}
	n, err := a.Client.User.Update().Where(user.ID(u.ID), user.TotpEnabledAtIsNil()).
		SetTotpCiphertext(sealed.Ciphertext).SetTotpKeyID(sealed.KeyID).ClearTotpLastStep().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("store two-factor secret: %w", err)
	}
	if n == 0 {
		return nil, errTwoFactorOn
	}
	return &Enrollment{Secret: secret, URI: totpURI(u.Username, secret)}, nil
}

// ConfirmTwoFactor turns two-factor on with a first code of the enrolled
// secret and returns the recovery codes, shown once.
func (a *Authenticator) ConfirmTwoFactor(ctx context.Context, v *Viewer, code, clientIP string) ([]string, error) {
	u, err := a.person(ctx, v)
	if err != nil {
		return nil, err
	}
	switch {
	case u.TotpEnabledAt != nil:
		return nil, errTwoFactorOn
	case !hasSecret(u):
		return nil, &usererr.Error{Code: usererr.CodeConflict, Message: "enroll first (enrollTwoFactor), then confirm with a code from the authenticator app"}
	}
	if err := a.checkCode(ctx, u, code, clientIP); err != nil {
		return nil, codeError(err)
	}
	return a.replaceRecoveryCodes(ctx, u.ID, func(tx *ent.Tx) error {
		n, err := tx.User.Update().Where(user.ID(u.ID), user.TotpEnabledAtIsNil()).SetTotpEnabledAt(a.now().UTC()).Save(ctx)
		if err == nil && n == 0 {
			return errTwoFactorOn
		}
		return err
	})
}

// RegenerateRecoveryCodes replaces the user's recovery codes, after a
// code, and returns the new ones, shown once.
func (a *Authenticator) RegenerateRecoveryCodes(ctx context.Context, v *Viewer, code, clientIP string) ([]string, error) {
	u, err := a.enabledPerson(ctx, v)
	if err != nil {
		return nil, err
	}
	if err := a.checkCode(ctx, u, code, clientIP); err != nil {
		return nil, codeError(err)
	}
	return a.replaceRecoveryCodes(ctx, u.ID, nil)
}

// DisableTwoFactor turns the user's two-factor off after the password and
// a code, both counted as login attempts.
func (a *Authenticator) DisableTwoFactor(ctx context.Context, v *Viewer, password, code, clientIP string) error {
	u, err := a.enabledPerson(ctx, v)
	if err != nil {
		return err
	}
	if err := a.checkPassword(ctx, u, password, clientIP); err != nil {
		if errors.Is(err, ErrLoginFailed) {
			return usererr.FieldErrorf("password", "the password is wrong")
		}
		return err
	}
	if err := a.checkCode(ctx, u, code, clientIP); err != nil {
		return codeError(err)
	}
	return a.clearTwoFactor(ctx, u.ID)
}

// ResetTwoFactor turns another person's two-factor off, for a lost
// authenticator, under the rules of resetting a password; the person
// enrolls again. One's own two-factor is turned off with DisableTwoFactor.
func (a *Authenticator) ResetTwoFactor(ctx context.Context, v *Viewer, userID int) (*ent.User, error) {
	if userID == v.UserID {
		return nil, usererr.Errorf("FORBIDDEN", "turn your own two-factor off under My account, with your password and a code")
	}
	u, err := a.memberToReset(ctx, v, userID, "two-factor")
	if err != nil {
		return nil, err
	}
	if !hasSecret(u) {
		return nil, &usererr.Error{Code: usererr.CodeConflict, Field: "userId", Message: "this person has no two-factor to reset"}
	}
	return u, a.clearTwoFactor(ctx, u.ID)
}

// SetRequireTwoFactor sets whether the viewer's organization requires
// two-factor of its members. A person may require it only with two-factor
// on, so as not to be limited to enrolling by their own setting; a
// management key, which two-factor never limits, may set it either way.
func (a *Authenticator) SetRequireTwoFactor(ctx context.Context, v *Viewer, required bool) (*ent.Organization, error) {
	if required && v.UserID != 0 {
		u, err := a.person(ctx, v)
		if err != nil {
			return nil, err
		}
		if u.TotpEnabledAt == nil {
			return nil, &usererr.Error{Code: usererr.CodeConflict, Field: "required",
				Message: "turn on two-factor for yourself first (My account): requiring it without would limit your own login to enrolling"}
		}
	}
	org, err := a.Client.Organization.UpdateOneID(v.OrgID).SetRequireTwoFactor(required).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("set two-factor requirement: %w", err)
	}
	return org, nil
}

// TwoFactorState is what a person's two-factor is: when it was turned on
// (nil: off), whether a secret awaits its first code, and how many
// recovery codes are left.
type TwoFactorState struct {
	EnabledAt         *time.Time
	Pending           bool
	RecoveryCodesLeft int
}

// TwoFactorOf returns the state of the user's two-factor.
func (a *Authenticator) TwoFactorOf(ctx context.Context, userID int) (TwoFactorState, error) {
	u, err := a.Client.User.Get(ctx, userID)
	if err != nil {
		return TwoFactorState{}, fmt.Errorf("look up user: %w", err)
	}
	st := TwoFactorState{EnabledAt: u.TotpEnabledAt, Pending: u.TotpEnabledAt == nil && hasSecret(u)}
	if u.TotpEnabledAt != nil {
		if st.RecoveryCodesLeft, err = a.Client.RecoveryCode.Query().Where(recoverycode.UserID(u.ID)).Count(ctx); err != nil {
			return TwoFactorState{}, fmt.Errorf("count recovery codes: %w", err)
		}
	}
	return st, nil
}

// person is the viewer's user row; a management key has none.
func (a *Authenticator) person(ctx context.Context, v *Viewer) (*ent.User, error) {
	if v.UserID == 0 {
		return nil, usererr.Errorf("FORBIDDEN", "a management key has no two-factor; log in as a user")
	}
	u, err := a.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	return u, nil
}

// enabledPerson is person, refusing a user whose two-factor is off.
func (a *Authenticator) enabledPerson(ctx context.Context, v *Viewer) (*ent.User, error) {
	u, err := a.person(ctx, v)
	if err == nil && u.TotpEnabledAt == nil {
		err = &usererr.Error{Code: usererr.CodeConflict, Message: "two-factor is off"}
	}
	return u, err
}

// codeError presents a wrong code as an error of the input field code.
func codeError(err error) error {
	if errors.Is(err, ErrWrongCode) {
		return usererr.FieldErrorf("code", "%s", ErrWrongCode.Error())
	}
	return err
}

// replaceRecoveryCodes stores new recovery codes for the user in place of
// the old ones, in one transaction with also (when not nil), and returns
// them.
func (a *Authenticator) replaceRecoveryCodes(ctx context.Context, userID int, also func(*ent.Tx) error) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := database.InTx(ctx, a.Client, func(tx *ent.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		creates := make([]*ent.RecoveryCodeCreate, len(hashes))
		for i, h := range hashes {
			creates[i] = tx.RecoveryCode.Create().SetUserID(userID).SetCodeHash(h)
		}
		if err := tx.RecoveryCode.CreateBulk(creates...).Exec(ctx); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// clearTwoFactor turns the user's two-factor off: secret, recovery codes
// and pending login challenges go.
func (a *Authenticator) clearTwoFactor(ctx context.Context, userID int) error {
	return database.InTx(ctx, a.Client, func(tx *ent.Tx) error { return clearTwoFactorIn(ctx, tx, userID) })
}

// clearTwoFactorIn is clearTwoFactor's work, in tx.
func clearTwoFactorIn(ctx context.Context, tx *ent.Tx, userID int) error {
	if err := tx.User.UpdateOneID(userID).ClearTotpCiphertext().ClearTotpKeyID().ClearTotpEnabledAt().
		ClearTotpLastStep().Exec(ctx); err != nil {
		return fmt.Errorf("turn two-factor off: %w", err)
	}
	if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
		return fmt.Errorf("delete recovery codes: %w", err)
	}
	if _, err := tx.LoginChallenge.Delete().Where(loginchallenge.UserID(userID)).Exec(ctx); err != nil {
		return fmt.Errorf("delete login challenges: %w", err)
	}
	return nil
}

// ResetTwoFactorNamed turns off the two-factor of the user named username,
// for a person who lost their second factor and recovery codes, as the
// command line does it: two-factor is cleared, every session of the user
// ends, and each organization of the user gets an audit event by the
// system actor named actor, all in one transaction.
func ResetTwoFactorNamed(ctx context.Context, client *ent.Client, username, actor string) (*ent.User, error) {
	u, err := client.User.Query().Where(user.Username(username)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no user named %q", username)
	}
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", username, err)
	}
	if !hasSecret(u) {
		return nil, fmt.Errorf("user %q has no two-factor to reset", username)
	}
	err = database.InTx(ctx, client, func(tx *ent.Tx) error {
		if err := clearTwoFactorIn(ctx, tx, u.ID); err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx.Session, time.Now(), session.UserID(u.ID)); err != nil {
			return err
		}
		orgs, err := tx.Membership.Query().Where(membership.UserID(u.ID)).Select(membership.FieldOrganizationID).Ints(ctx)
		if err != nil {
			return fmt.Errorf("look up memberships: %w", err)
		}
		for _, orgID := range orgs {
			if err := tx.AuditEvent.Create().SetOrganizationID(orgID).SetActorType(auditevent.ActorTypeSystem).
				SetActorName(actor).SetAction("resetTwoFactor").SetTargetType("User").
				SetTargetID(strconv.Itoa(u.ID)).SetTargetName(u.Username).
				SetOutcome(auditevent.OutcomeSuccess).Exec(ctx); err != nil {
				return fmt.Errorf("write audit event: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reset two-factor of %q: %w", username, err)
	}
	return u, nil
}

// ResealTwoFactor re-seals every stored two-factor secret still under an
// old master key with the keyring's primary one, and returns how many it
// rewrote: the master key rotation's share of the users table.
func ResealTwoFactor(ctx context.Context, client *ent.Client, kr *secrets.Keyring) (int, error) {
	us, err := client.User.Query().Where(user.TotpCiphertextNotNil()).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list two-factor secrets: %w", err)
	}
	n := 0
	for _, u := range us {
		if !hasSecret(u) || u.TotpKeyID == nil {
			continue
		}
		sealed, changed, err := kr.Reseal(secrets.Sealed{KeyID: *u.TotpKeyID, Ciphertext: *u.TotpCiphertext}, totpAAD(u.ID))
		if err != nil {
			return n, fmt.Errorf("two-factor secret of user %d: %w", u.ID, err)
		}
		if !changed {
			continue
		}
		if err := client.User.UpdateOneID(u.ID).SetTotpCiphertext(sealed.Ciphertext).SetTotpKeyID(sealed.KeyID).Exec(ctx); err != nil {
			return n, fmt.Errorf("two-factor secret of user %d: write re-sealed secret: %w", u.ID, err)
		}
		n++
	}
	return n, nil
}
