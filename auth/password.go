// Package auth decides who is calling the admin API: passwords, login
// tokens, management keys, the viewer in a request's context, the
// failed-login limiter, and the first admin at bootstrap.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: one of OWASP's equivalent settings, 7 MiB and 5
// passes, 1 lane. It costs an attacker the same as 19 MiB and 2 passes
// while keeping the gateway's memory peak at login small. Login is also
// rate-limited, so these only have to make an offline attack on a stolen
// database expensive.
const (
	argonTime    = 5
	argonMemory  = 7 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns an argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), which carries its parameters so
// they can be raised later without breaking stored hashes.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("password is empty")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	releaseArgonMemory()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches encoded, in constant time
// with respect to the hash.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil || threads == 0 || iter == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	releaseArgonMemory()
	return subtle.ConstantTimeCompare(got, want) == 1
}

// releaseQueued is set from a releaseArgonMemory until its release starts.
var releaseQueued atomic.Bool

// releaseArgonMemory hands the memory of the argon2 computation that just
// ended back to the OS, in the background. Each hash fills a fresh 7 MiB
// block that is garbage at once, but the Go runtime would keep those pages
// (and the heap goal they raised) for minutes: an idle gateway sat 6 MB
// higher after one admin login. Logins are rare and rate-limited, and a
// burst of them shares one release, so the extra garbage collection costs
// little next to the hash itself. A hash that ends while a release runs
// queues another, since that collection may not count its block as garbage.
func releaseArgonMemory() {
	if releaseQueued.CompareAndSwap(false, true) {
		go func() {
			releaseQueued.Store(false)
			debug.FreeOSMemory()
		}()
	}
}

// dummyHash is checked against when a username does not exist, so that a
// wrong username costs as much time as a wrong password and the two cannot
// be told apart. It is HashPassword("sluice-no-such-user") written out:
// computing it at package init cost every command, --help included, 57 ms
// and a 7 MiB peak. TestDummyHashMatchesTheParameters keeps its parameters
// those of a real hash.
const dummyHash = "$argon2id$v=19$m=7168,t=5,p=1$TzecX5EBUWatNknyi5fB6Q$nz8m97N7rvEp1ZUZMv5C36ZPDpBM04R97krDz/pHrtU"

// GeneratePassword returns a random password of 24 base62-ish characters
// (about 143 bits) for the bootstrap admin and password resets.
func GeneratePassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
