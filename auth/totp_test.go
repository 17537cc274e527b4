package auth

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/ent"
)

// TestTOTPCodeRFC6238: the codes are RFC 6238's test vectors for SHA-1,
// cut to 6 digits.
func TestTOTPCodeRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	cases := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, c := range cases {
		if got := totpCode(key, totpStep(time.Unix(c.unix, 0))); got != c.want {
			t.Errorf("code at %d = %s, want %s", c.unix, got, c.want)
		}
	}
}

// TestMatchTOTP: a code of the current step or one either side is
// accepted once; older or newer ones, wrong ones, malformed ones and any
// of a step already used are refused.
func TestMatchTOTP(t *testing.T) {
	secret := newTOTPSecret()
	key, err := base32NoPad.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0)
	cur := totpStep(now)
	at := func(step int64) string { return totpCode(key, step) }
	wrong := func() string {
		for n := 0; ; n++ {
			c := strings.Repeat("0", 5) + string(rune('0'+n))
			if c != at(cur-1) && c != at(cur) && c != at(cur+1) {
				return c
			}
		}
	}()
	cases := []struct {
		name     string
		code     string
		lastUsed int64
		want     int64 // 0: refused
	}{
		{"current step", at(cur), 0, cur},
		{"one step behind (clock drift)", at(cur - 1), 0, cur - 1},
		{"one step ahead (clock drift)", at(cur + 1), 0, cur + 1},
		{"two steps behind", at(cur - 2), 0, 0},
		{"two steps ahead", at(cur + 2), 0, 0},
		{"replay of the step last used", at(cur), cur, 0},
		{"a step before the one last used", at(cur - 1), cur, 0},
		{"the next step after the one last used", at(cur + 1), cur, cur + 1},
		{"wrong code", wrong, 0, 0},
		{"surrounding spaces are ignored", " " + at(cur) + " ", 0, cur},
		{"five digits", at(cur)[:5], 0, 0},
		{"letters", "abcdef", 0, 0},
		{"empty", "", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step, ok := matchTOTP(secret, c.code, now, c.lastUsed)
			if ok != (c.want != 0) || step != c.want {
				t.Fatalf("matchTOTP(%q, last %d) = %d, %v; want %d", c.code, c.lastUsed, step, ok, c.want)
			}
		})
	}
	if _, ok := matchTOTP("not base32!", at(cur), now, 0); ok {
		t.Fatal("a secret that is not base32 matched")
	}
}

func TestTOTPSecretAndURI(t *testing.T) {
	s := newTOTPSecret()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(b) != totpSecretBytes {
		t.Fatalf("secret %q decodes to %d bytes (%v), want %d", s, len(b), err, totpSecretBytes)
	}
	if s == newTOTPSecret() {
		t.Fatal("two secrets are equal")
	}
	uri := totpURI("ada lovelace", s)
	for _, want := range []string{"otpauth://totp/Sluice:ada%20lovelace?", "secret=" + s, "issuer=Sluice", "algorithm=SHA1", "digits=6", "period=30"} {
		if !strings.Contains(uri, want) {
			t.Errorf("URI %s lacks %s", uri, want)
		}
	}
}

// TestRecoveryCodes: ten distinct codes of 80 bits, hashed so that they
// match however they are typed, and no other code matches.
func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	if len(codes) != recoveryCodeCount || len(hashes) != recoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] {
			t.Fatalf("code %q is malformed or repeated", c)
		}
		seen[c] = true
		if hashes[i] != hashRecoveryCode(c) || strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) {
			t.Fatalf("hash of %q is not its SHA-256", c)
		}
		if isTOTPCode(c) {
			t.Fatalf("recovery code %q looks like a TOTP code", c)
		}
	}
	c := codes[0]
	cases := []struct {
		typed string
		match bool
	}{
		{c, true},
		{strings.ToUpper(c), true},
		{strings.ReplaceAll(c, "-", ""), true},
		{" " + strings.ReplaceAll(c, "-", " ") + " ", true},
		{codes[1], false},
		{c[:len(c)-1], false},
	}
	for _, tc := range cases {
		if got := hashRecoveryCode(tc.typed) == hashes[0]; got != tc.match {
			t.Errorf("%q matches %v, want %v", tc.typed, got, tc.match)
		}
	}
}

// TestMustEnroll: an organization's two-factor requirement holds back
// the people who can log in with a password and have not turned it on,
// never those who can only sign in through single sign-on.
func TestMustEnroll(t *testing.T) {
	on, required, free := time.Now(), true, false
	strict := &ent.Organization{RequireTwoFactor: &required}
	for _, tc := range []struct {
		name         string
		org          *ent.Organization
		passwordHash string
		enabled      *time.Time
		passwordOff  bool
		mustEnroll   bool
	}{
		{"password account without two-factor", strict, "hash", nil, false, true},
		{"password account with two-factor", strict, "hash", &on, false, false},
		{"organization not requiring it", &ent.Organization{RequireTwoFactor: &free}, "hash", nil, false, false},
		{"organization never set", &ent.Organization{}, "hash", nil, false, false},
		{"single sign-on account, no password", strict, "", nil, false, false},
		{"password login turned off", strict, "hash", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Authenticator{PasswordLoginOff: tc.passwordOff}
			u := &ent.User{PasswordHash: tc.passwordHash, TotpEnabledAt: tc.enabled}
			if got := a.mustEnroll(u, tc.org); got != tc.mustEnroll {
				t.Fatalf("mustEnroll = %v, want %v", got, tc.mustEnroll)
			}
		})
	}
}
