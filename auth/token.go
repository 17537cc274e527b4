package auth

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and checks login tokens: HS256 JWTs signed with the
// server's secret. The algorithm is pinned when parsing, so a token with
// alg "none" or an asymmetric algorithm is refused.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewTokens returns a token issuer. ttl is how long a login lasts.
func NewTokens(secret string, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 16 {
		return nil, errors.New("JWT secret must be at least 16 characters")
	}
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	return &Tokens{secret: []byte(secret), ttl: ttl, now: time.Now}, nil
}

// TTL is how long issued tokens last.
func (t *Tokens) TTL() time.Duration { return t.ttl }

type claims struct {
	Org int `json:"org"`
	jwt.RegisteredClaims
}

const issuer = "sluice"

// Issue returns a token for user in organization org and when it expires.
func (t *Tokens) Issue(userID, orgID int) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	c := claims{Org: orgID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   strconv.Itoa(userID),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// ErrBadToken is returned for any token that does not verify; the reason
// stays in the log, the caller learns only that it must log in again.
var ErrBadToken = errors.New("token is invalid or expired; log in again")

// Parse verifies a token and returns the user and organization it names.
func (t *Tokens) Parse(token string) (userID, orgID int, err error) {
	var c claims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return 0, 0, fmt.Errorf("%w (%v)", ErrBadToken, err)
	}
	uid, err := strconv.Atoi(c.Subject)
	if err != nil || c.Org == 0 {
		return 0, 0, ErrBadToken
	}
	return uid, c.Org, nil
}
