package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The TOTP parameters authenticator apps assume (RFC 6238 with its
// defaults): HMAC-SHA-1, 30-second steps, 6 digits. A code of the step
// before or after the current one is accepted too, for clocks that drift.
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
	// totpSecretBytes is the secret's length: 160 bits, as RFC 4226
	// recommends for HMAC-SHA-1.
	totpSecretBytes = 20
	// totpIssuer names the account in authenticator apps.
	totpIssuer = "Sluice"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a random secret, base32 without padding as
// authenticator apps take it.
func newTOTPSecret() string {
	b := make([]byte, totpSecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base32NoPad.EncodeToString(b)
}

// totpStep is the step (RFC 6238's T) that t falls in.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the code of secret (raw bytes) for step: RFC 4226's HOTP
// with the step as its counter.
func totpCode(secret []byte, step int64) string {
	mac := hmac.New(sha1.New, secret)
	_ = binary.Write(mac, binary.BigEndian, step)
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, bin%1_000_000)
}

// matchTOTP returns the step whose code code is, among the steps at now
// and totpSkew either side, skipping every step up to lastUsed: a code of
// a step already used is refused, so a code works once.
func matchTOTP(secret string, code string, now time.Time, lastUsed int64) (int64, bool) {
	key, err := base32NoPad.DecodeString(secret)
	code = strings.TrimSpace(code)
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	cur := totpStep(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if s > lastUsed && subtle.ConstantTimeCompare([]byte(totpCode(key, s)), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// isTOTPCode reports whether code has the shape of a TOTP code (6
// digits); anything else is taken for a recovery code.
func isTOTPCode(code string) bool {
	code = strings.TrimSpace(code)
	if len(code) != totpDigits {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// totpURI is the otpauth:// URI authenticator apps read from a QR code.
func totpURI(username, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", totpIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + username, RawQuery: q.Encode()}
	return u.String()
}

// recoveryCodeCount is how many recovery codes a person gets at a time.
const recoveryCodeCount = 10

// newRecoveryCodes returns recoveryCodeCount codes of 80 random bits each,
// written as four groups of four base32 letters and digits, and their
// hashes to store.
func newRecoveryCodes() (codes, hashes []string) {
	for range recoveryCodeCount {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		s := strings.ToLower(base32NoPad.EncodeToString(b))
		code := s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		codes = append(codes, code)
		hashes = append(hashes, hashRecoveryCode(code))
	}
	return codes, hashes
}

// hashRecoveryCode is what is stored of a recovery code: SHA-256 of the
// code without dashes or spaces, in lower case, so that it matches however
// it is typed. 80 random bits need no slow hash.
func hashRecoveryCode(code string) string {
	c := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	return hashToken(c)
}

// TOTPCode is the code an authenticator app shows at t for a base32
// secret, as enrollment returns it: what a script or test signing in as
// the person computes.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := base32NoPad.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("two-factor secret is not base32: %w", err)
	}
	return totpCode(key, totpStep(t)), nil
}
