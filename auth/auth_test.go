package auth

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=7168,t=5,p=1$") || strings.Contains(h, "s3cret") {
		t.Fatalf("hash %q is not an argon2id PHC string or contains the password", h)
	}
	h2, _ := HashPassword("s3cret pass")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	cases := []struct {
		hash, pw string
		want     bool
	}{
		{h, "s3cret pass", true},
		{h, "s3cret pas", false},
		{h, "", false},
		{"", "s3cret pass", false},
		{"$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "x", false},
		{strings.Replace(h, "t=5", "t=0", 1), "s3cret pass", false},
		{h[:len(h)-4], "s3cret pass", false},
	}
	for i, c := range cases {
		if got := CheckPassword(c.hash, c.pw); got != c.want {
			t.Errorf("case %d: CheckPassword = %v, want %v", i, got, c.want)
		}
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password hashed")
	}
}

// TestDummyHashMatchesTheParameters: the written-out dummy hash must cost
// what a real check costs, so its parameters follow the constants.
func TestDummyHashMatchesTheParameters(t *testing.T) {
	real, err := HashPassword("anything")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if params(dummyHash) != params(real) {
		t.Fatalf("dummyHash has parameters %s, a new hash %s: write out HashPassword(\"sluice-no-such-user\") again", params(dummyHash), params(real))
	}
	if !CheckPassword(dummyHash, "sluice-no-such-user") || CheckPassword(dummyHash, "") {
		t.Fatal("dummyHash is not the hash of its documented password")
	}
}

func TestTokens(t *testing.T) {
	tok, err := NewTokens("0123456789abcdef0123456789abcdef", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tok.now = func() time.Time { return now }
	s, err := tok.Issue(7, 9, 11, now.Add(time.Hour))
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if c, err := tok.Parse(s); err != nil || c != (Claims{UserID: 7, OrgID: 9, SessionID: 11}) {
		t.Fatalf("Parse = %+v %v", c, err)
	}
	other, _ := NewTokens("another-secret-another-secret!!", time.Hour)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims{Org: 9, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "7", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512 := jwt.NewWithClaims(jwt.SigningMethodHS512, claims{Org: 9, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "7", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	wrongAlg, _ := hs512.SignedString(tok.secret)
	signedByOther, _ := other.Issue(7, 9, 11, now.Add(time.Hour))
	noSession := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{Org: 9, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: "7", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	withoutSession, _ := noSession.SignedString(tok.secret)
	cases := map[string]string{
		"alg none":     unsigned,
		"alg HS512":    wrongAlg,
		"other secret": signedByOther,
		"garbage":      "a.b.c",
		"tampered":     s[:len(s)-2] + "xx",
		"no session":   withoutSession,
	}
	for name, bad := range cases {
		if _, err := tok.Parse(bad); err == nil {
			t.Errorf("%s: token accepted", name)
		}
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := tok.Parse(s); err == nil {
		t.Error("expired token accepted")
	}
	if _, err := NewTokens("short", time.Hour); err == nil {
		t.Error("short secret accepted")
	}
}

// TestLimiterForgetsExpiredKeys: invented usernames do not pile up.
func TestLimiterForgetsExpiredKeys(t *testing.T) {
	l := NewLimiter("test", 5, time.Minute)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i <= sweepAt; i++ {
		l.Take(ctx, "user:"+strconv.Itoa(i))
	}
	now = now.Add(2 * time.Minute)
	l.Take(ctx, "user:new")
	if len(l.fails) != 1 {
		t.Fatalf("%d keys kept after their failures expired, want 1", len(l.fails))
	}
}
