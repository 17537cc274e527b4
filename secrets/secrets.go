// Package secrets keeps provider API keys unreadable at rest: they are sealed
// with AES-256-GCM under a master key that lives only in the environment, so a
// copy of the database alone reveals nothing.
//
// Every sealed value names the master key that sealed it (KeyID), which is what
// makes rotation possible: a Keyring holds the new primary key plus the old
// ones, opens whatever it is given, and Reseal moves old values to the primary
// one row at a time (sluice rotate-master-key) while the gateway keeps serving.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MasterKeyEnv is named here so that the server reading the variable and the
// errors telling an operator how to fix it cannot disagree about its name.
const MasterKeyEnv = "SLUICE_MASTER_KEY"

// MasterKeySize is fixed at 32 bytes because that is what selects AES-256;
// accepting shorter keys would silently weaken every stored secret.
const MasterKeySize = 32

// keyIDContext separates key ids from any other SHA-256 of the same bytes, so a
// key id can never be mistaken for (or used to look up) some other digest of
// the master key. Changing it orphans every stored ciphertext: never do that.
const keyIDContext = "sluice/master-key-id/v1\x00"

// ParseMasterKey accepts the encodings operators actually produce
// (`openssl rand -base64 32`, `openssl rand -hex 32`, URL-safe base64 from
// other tools, with or without padding or a trailing newline) so that setting
// up Sluice does not hinge on one exact format. Its errors give the decoded
// length but never the value, because they end up in logs.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%s must be %d bytes, base64 or hex encoded; got an empty value", MasterKeyEnv, MasterKeySize)
	}
	if isHex(s) && len(s)%2 == 0 {
		// Hex first: 64 hex characters are also valid base64 (of 48 bytes),
		// and a short hex key is better reported by its hex length.
		if len(s) == 2*MasterKeySize {
			return hex.DecodeString(s)
		}
		return nil, badMasterKey(len(s)/2, "hex")
	}
	decoded := -1
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) == MasterKeySize {
			return b, nil
		}
		decoded = len(b)
	}
	if decoded >= 0 {
		return nil, badMasterKey(decoded, "base64")
	}
	return nil, fmt.Errorf("%s must be %d bytes, base64 or hex encoded; got %d characters that are neither base64 nor hex",
		MasterKeyEnv, MasterKeySize, len(s))
}

func badMasterKey(n int, encoding string) error {
	return fmt.Errorf("%s must be %d bytes, base64 or hex encoded; got %d bytes (%s)",
		MasterKeyEnv, MasterKeySize, n, encoding)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// GenerateMasterKey exists so that first start and `sluice rotate-master-key`
// can offer the operator a correctly sized key instead of leaving them to pick
// one by hand. The error is kept for callers' sake although crypto/rand no
// longer fails on supported systems.
func GenerateMasterKey() (string, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// KeyID lets a stored ciphertext say which master key sealed it without
// revealing anything usable about that key: 32 bits of a domain-separated
// SHA-256 are enough to tell a handful of configured keys apart. Stored rows
// depend on it, so its output for a given key must never change.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte(keyIDContext))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// Sealed is what gets stored for a secret. KeyID travels beside the ciphertext
// so that a rotation can tell which rows still need resealing and an
// unconfigured key is reported by name rather than as a generic failure.
// Ciphertext is the random 12-byte nonce followed by the GCM output.
type Sealed struct {
	KeyID      string
	Ciphertext []byte
}

// Keyring holds every master key the gateway may meet in the database, so
// rotation needs no downtime: new values are sealed under the primary while
// values sealed under older keys still open.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// NewKeyring takes the old keys as extra arguments because they are only ever
// needed for reading, during and after a rotation. Giving the same key twice is
// harmless; two different keys with the same id are refused because the
// ciphertexts they sealed could not be told apart.
func NewKeyring(primary []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(old))}
	seen := make(map[string][]byte, 1+len(old))
	for i, key := range append([][]byte{primary}, old...) {
		which := "primary master key"
		if i > 0 {
			which = fmt.Sprintf("old master key %d", i)
		}
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("%s must be %d bytes; got %d", which, MasterKeySize, len(key))
		}
		id := KeyID(key)
		if i == 0 {
			k.primary = id
		}
		if prev, ok := seen[id]; ok {
			if !bytes.Equal(prev, key) {
				return nil, fmt.Errorf("%s has key id %s, the same as another, different master key; generate a new key", which, id)
			}
			continue
		}
		seen[id] = key
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", which, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", which, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// PrimaryID is what the rotation command compares stored key ids against, and
// what start-up logs so operators can see which key is in use without seeing
// the key.
func (k *Keyring) PrimaryID() string { return k.primary }

// Seal encrypts under the primary key with a fresh random nonce.
//
// aad is authenticated but not stored: Open must be given the same string. It
// binds a ciphertext to the row it belongs to, so copying one row's sealed key
// into another row (another organization's credential, say) makes it fail to
// open instead of quietly lending the key. Use a value that never changes for
// the life of the row, such as "provider_credential:<id>"; if the value is not
// known before the row is written, use a fixed string per column instead.
func (k *Keyring) Seal(plaintext string, aad string) (Sealed, error) {
	aead := k.aeads[k.primary]
	if aead == nil {
		return Sealed{}, errors.New("seal secret: keyring has no primary master key; build it with NewKeyring")
	}
	return Sealed{
		KeyID:      k.primary,
		Ciphertext: aead.Seal(nil, nil, []byte(plaintext), []byte(aad)),
	}, nil
}

// Open fails rather than guessing when a value was sealed under a key the
// keyring lacks, naming that key's id so the operator knows which old key to
// add back. Authentication failures cover a wrong key, a tampered ciphertext
// and a different aad alike; GCM cannot tell them apart and neither can we.
func (k *Keyring) Open(s Sealed, aad string) (string, error) {
	if s.KeyID == "" {
		return "", errors.New("open secret: sealed value names no master key")
	}
	aead := k.aeads[s.KeyID]
	if aead == nil {
		return "", fmt.Errorf("open secret: sealed with master key %s, which is not configured", s.KeyID)
	}
	if len(s.Ciphertext) < aead.Overhead() {
		return "", fmt.Errorf("open secret sealed with master key %s: ciphertext is %d bytes, shorter than the %d-byte nonce and tag",
			s.KeyID, len(s.Ciphertext), aead.Overhead())
	}
	plaintext, err := aead.Open(nil, nil, s.Ciphertext, []byte(aad))
	if err != nil {
		return "", fmt.Errorf("open secret sealed with master key %s (wrong key, altered ciphertext, or sealed for another row): %w", s.KeyID, err)
	}
	return string(plaintext), nil
}

// Reseal lets the rotation command walk every row and rewrite only those still
// under an old key; the bool says whether the row needs writing back. Values
// already under the primary key are returned as they are, unverified, to keep
// a repeated rotation cheap; Open is what checks them.
func (k *Keyring) Reseal(s Sealed, aad string) (Sealed, bool, error) {
	if s.KeyID == k.primary {
		return s, false, nil
	}
	plaintext, err := k.Open(s, aad)
	if err != nil {
		return Sealed{}, false, fmt.Errorf("reseal: %w", err)
	}
	out, err := k.Seal(plaintext, aad)
	if err != nil {
		return Sealed{}, false, fmt.Errorf("reseal: %w", err)
	}
	return out, true, nil
}

// LastFour is the only part of a provider key the API ever returns
// (apiKeyLastFour), enough for an admin to recognise which key is stored. Keys
// shorter than four characters get "" because showing them would show them
// whole. It counts characters, not bytes, so a non-ASCII key is not cut inside
// a character.
func LastFour(key string) string {
	if utf8.RuneCountInString(key) < 4 {
		return ""
	}
	i := len(key)
	for n := 0; n < 4; n++ {
		_, size := utf8.DecodeLastRuneInString(key[:i])
		i -= size
	}
	return key[i:]
}

// MaskURL is the only part of a URL that may carry a secret in its path or
// query (a webhook's) that the API returns: its scheme and host, then "/…"
// when anything followed them. A URL that cannot be read is "…" whole.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "…"
	}
	masked := u.Scheme + "://" + u.Host
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		masked += "/…"
	}
	return masked
}
