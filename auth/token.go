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
	Org     int `json:"org"`
	Session int `json:"sid"`
	jwt.RegisteredClaims
}

// Claims are what a verified token names: its user, organization and
// session.
type Claims struct {
	UserID, OrgID, SessionID int
}

const issuer = "sluice"

// Issue returns a token for session sessionID of user in organization org,
// expiring at exp.
func (t *Tokens) Issue(userID, orgID, sessionID int, exp time.Time) (string, error) {
	now := t.now()
	c := claims{Org: orgID, Session: sessionID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   strconv.Itoa(userID),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ErrBadToken is returned for any token that does not verify; the reason
// stays in the log, the caller learns only that it must log in again.
var ErrBadToken = errors.New("token is invalid or expired; log in again")

// Parse verifies a token and returns what it names. A token without a
// session (issued before sessions existed) is refused.
func (t *Tokens) Parse(token string) (Claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w (%v)", ErrBadToken, err)
	}
	uid, err := strconv.Atoi(c.Subject)
	if err != nil || c.Org == 0 || c.Session == 0 {
		return Claims{}, ErrBadToken
	}
	return Claims{UserID: uid, OrgID: c.Org, SessionID: c.Session}, nil
}
