// Package clientkey is everything about the gateway's own API keys (sk_…) that
// needs no database: minting them, hashing them for storage, and finding one
// in a request. The plaintext is shown to the admin once and only its SHA-256
// is stored, so a database leak does not hand out working keys; a fast,
// unsalted hash is enough because the keys carry 256 bits of entropy and are
// looked up by hash on every proxied request.
package clientkey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

const (
	keyPrefix = "sk_"
	// bodyLen is the smallest base62 length that carries at least 32 bytes
	// (256 bits) of entropy: 43 × log2(62) ≈ 43 × 5.954 ≈ 256.03 bits.
	bodyLen  = 43
	keyLen   = len(keyPrefix) + bodyLen
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// acceptBelow is the largest multiple of 62 that fits in a byte (4 × 62).
	// Random bytes at or above it are thrown away, so that b % 62 is uniform:
	// keeping them would make the first eight characters more likely.
	acceptBelow = 248
	// displayLen is "sk_" plus four characters: enough for an admin to tell
	// keys apart in a list, far too little to guess the rest.
	displayLen = len(keyPrefix) + 4
)

// Generated carries everything the database stores about a new key alongside
// the one copy of the plaintext, so the caller can show the plaintext once and
// persist the rest without deriving anything itself.
type Generated struct {
	Plaintext string // shown to the admin once, never stored
	Hash      string // what the key is stored and looked up by
	Prefix    string // key_prefix, e.g. "sk_ab12", for recognising keys in lists
	LastFour  string // the other end, for the same reason
}

// New mints a key from crypto/rand. The error is kept for callers' sake
// although crypto/rand no longer fails on supported systems.
func New() (Generated, error) {
	var key [keyLen]byte
	copy(key[:], keyPrefix)
	// 64 random bytes usually fill all 43 characters in one read: about 97%
	// of bytes are accepted, so a second read is rare.
	var random [64]byte
	n := len(keyPrefix)
	for n < keyLen {
		if _, err := rand.Read(random[:]); err != nil {
			return Generated{}, fmt.Errorf("generate client key: %w", err)
		}
		for _, b := range random {
			if b >= acceptBelow {
				continue
			}
			key[n] = alphabet[b%62]
			n++
			if n == keyLen {
				break
			}
		}
	}
	plaintext := string(key[:])
	return Generated{
		Plaintext: plaintext,
		Hash:      Hash(plaintext),
		Prefix:    plaintext[:displayLen],
		LastFour:  plaintext[keyLen-4:],
	}, nil
}

// Hash is the only form of a client key the database holds, and the form the
// proxy looks keys up by; hex keeps it readable in SQL and comparable as text.
func Hash(plaintext string) string {
	// Every proxied request hashes its key, so a key-sized input is copied
	// through a stack buffer: converting the string directly would allocate
	// (the compiler only avoids that up to 32 bytes, and keys are 46).
	var buf [64]byte
	var sum [sha256.Size]byte
	if len(plaintext) <= len(buf) {
		sum = sha256.Sum256(append(buf[:0], plaintext...))
	} else {
		sum = sha256.Sum256([]byte(plaintext))
	}
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// FromRequest accepts the key wherever the SDKs Sluice stands in for put it:
// Authorization: Bearer (OpenAI and most others), X-API-Key (Anthropic, sent
// as x-api-key), x-goog-api-key and ?key= (Gemini). The first one present
// wins, in that order. An Authorization header with another scheme is passed
// over rather than refused, so a client that also sends, say, Basic auth to a
// proxy in front still gets through with its X-API-Key.
//
// It runs on every proxied request, so the common cases allocate nothing: the
// key returned is a slice of the header or query string, and the query string
// is only scanned when it contains "key=". Only the literal parameter name
// "key" counts; a percent-encoded name is not decoded.
func FromRequest(r *http.Request) (string, bool) {
	if k, ok := bearer(r.Header.Get("Authorization")); ok {
		return k, true
	}
	if k := strings.TrimSpace(r.Header.Get("X-Api-Key")); k != "" {
		return k, true
	}
	if k := strings.TrimSpace(r.Header.Get("X-Goog-Api-Key")); k != "" {
		return k, true
	}
	if r.URL == nil {
		return "", false
	}
	return fromQuery(r.URL.RawQuery)
}

// bearer reads a credential the way RFC 6750 sends it, with the scheme
// compared case-insensitively as RFC 9110 requires; clients do send "bearer".
func bearer(v string) (string, bool) {
	const scheme = "Bearer"
	v = strings.TrimSpace(v)
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	if c := v[len(scheme)]; c != ' ' && c != '\t' {
		return "", false
	}
	k := strings.TrimSpace(v[len(scheme):])
	return k, k != ""
}

// fromQuery gives what url.Values.Get("key") would (trimmed), including
// skipping the pairs url.ParseQuery rejects, without building the map. The
// two differ only when a parameter name is percent-encoded, which no SDK does.
func fromQuery(q string) (string, bool) {
	// A "key" without "=" has an empty value, so it could never be the answer.
	if !strings.Contains(q, "key=") {
		return "", false
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if strings.Contains(pair, ";") {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if name != "key" {
			continue
		}
		if strings.ContainsAny(value, "%+") {
			unescaped, err := url.QueryUnescape(value)
			if err != nil {
				continue
			}
			value = unescaped
		}
		value = strings.TrimSpace(value)
		return value, value != ""
	}
	return "", false
}

// LooksValid lets the proxy refuse obvious garbage (another provider's key
// pasted by mistake, a truncated copy) before spending a cache or database
// look-up on it, and keeps such strings out of the key cache.
func LooksValid(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, keyPrefix) {
		return false
	}
	for i := len(keyPrefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// Equal compares hashes in constant time, so that where a stored hash is
// checked against a computed one the time taken reveals nothing about how much
// of it matched. Lengths are not secret (every hash is 64 characters).
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// DisplayPrefix is the part of s a key's display prefix (key_prefix) can
// hold: s itself when shorter, so that a whole key pasted into a search
// finds its key by the prefix stored.
func DisplayPrefix(s string) string {
	if len(s) > displayLen {
		return s[:displayLen]
	}
	return s
}
