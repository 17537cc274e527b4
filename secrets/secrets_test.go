package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// testKey returns a deterministic master key so failures are reproducible;
// the fill byte keeps keys distinct from each other.
func testKey(fill byte) []byte {
	return bytes.Repeat([]byte{fill}, MasterKeySize)
}

func mustKeyring(t *testing.T, primary []byte, old ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(primary, old...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

// assertNoLeak fails when an error message carries any of the secrets, in
// any of the encodings an operator or a provider would use for them.
func assertNoLeak(t *testing.T, err error, secrets ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		for _, form := range []string{
			string(s),
			hex.EncodeToString(s),
			base64.StdEncoding.EncodeToString(s),
			base64.RawURLEncoding.EncodeToString(s),
		} {
			if len(form) >= 4 && strings.Contains(msg, form) {
				t.Errorf("error %q reveals a secret (%q)", msg, form)
			}
		}
	}
}

func TestParseMasterKey(t *testing.T) {
	// 0xfb bytes encode to '+' and '/' in standard base64 and to '-' and '_'
	// in URL base64, so the two alphabets are really told apart.
	key := testKey(0xfb)
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{"std padded", base64.StdEncoding.EncodeToString(key), key, ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(key), key, ""},
		{"url padded", base64.URLEncoding.EncodeToString(key), key, ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(key), key, ""},
		{"hex lower", hex.EncodeToString(key), key, ""},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key)), key, ""},
		{"trailing newline", base64.StdEncoding.EncodeToString(key) + "\n", key, ""},
		{"surrounding spaces", "  " + hex.EncodeToString(key) + "\t", key, ""},
		{"empty", "", nil, "got an empty value"},
		{"only whitespace", " \n", nil, "got an empty value"},
		{"base64 of 16 bytes", base64.StdEncoding.EncodeToString(testKey(1)[:16]), nil, "got 16 bytes (base64)"},
		{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(testKey(1)[:31]), nil, "got 31 bytes (base64)"},
		{"base64 of 33 bytes", base64.StdEncoding.EncodeToString(append(testKey(1), 1)), nil, "got 33 bytes (base64)"},
		{"hex of 16 bytes", hex.EncodeToString(testKey(1)[:16]), nil, "got 16 bytes (hex)"},
		{"hex of 33 bytes", hex.EncodeToString(append(testKey(1), 1)), nil, "got 33 bytes (hex)"},
		{"passphrase", "correct horse battery staple!!", nil, "neither base64 nor hex"},
		{"mixed alphabets", "ab+c-d" + strings.Repeat("A", 38), nil, "neither base64 nor hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseMasterKey() = %x, want error containing %q", got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), MasterKeyEnv) {
					t.Errorf("error %q, want it to contain %q and %q", err, tt.wantErr, MasterKeyEnv)
				}
				if v := strings.TrimSpace(tt.in); v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error %q echoes the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMasterKey: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("ParseMasterKey() = %x, want %x", got, tt.want)
			}
		})
	}
}

func FuzzParseMasterKey(f *testing.F) {
	key := testKey(0xfb)
	for _, seed := range []string{
		"", "=", "==", "\n", "zz",
		base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		hex.EncodeToString(key),
		hex.EncodeToString(key)[:63],
		base64.StdEncoding.EncodeToString(key)[:43] + "\r\n=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseMasterKey(in)
		if err != nil {
			if got != nil {
				t.Errorf("ParseMasterKey(%q) returned %x with error %v", in, got, err)
			}
			// Short inputs can appear in the message by coincidence ("1"
			// inside "got 1 bytes"); a value long enough to be a key cannot.
			if trimmed := strings.TrimSpace(in); len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
				t.Errorf("error %q echoes the value", err)
			}
			return
		}
		if len(got) != MasterKeySize {
			t.Errorf("ParseMasterKey(%q) returned %d bytes", in, len(got))
		}
	})
}

func TestGenerateMasterKey(t *testing.T) {
	a, err := GenerateMasterKey()
	if err != nil {
		t.Fatalf("GenerateMasterKey: %v", err)
	}
	b, err := GenerateMasterKey()
	if err != nil {
		t.Fatalf("GenerateMasterKey: %v", err)
	}
	if a == b {
		t.Fatal("two generated master keys are equal")
	}
	for _, s := range []string{a, b} {
		if _, err := ParseMasterKey(s); err != nil {
			t.Errorf("generated key does not parse back: %v", err)
		}
	}
}

func TestKeyID(t *testing.T) {
	counting := make([]byte, MasterKeySize)
	for i := range counting {
		counting[i] = byte(i)
	}
	// Known answers: stored rows name their key by this id, so a change in
	// the derivation would strand every existing ciphertext.
	tests := []struct {
		name string
		key  []byte
		want string
	}{
		{"zeros", testKey(0), "ede1f46b"},
		{"counting", counting, "400e95da"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyID(tt.key); got != tt.want {
				t.Errorf("KeyID() = %q, want %q", got, tt.want)
			}
			if hexKey := hex.EncodeToString(tt.key); strings.Contains(hexKey, tt.want) {
				t.Errorf("KeyID %q is a substring of the key itself", tt.want)
			}
		})
	}
	if KeyID(testKey(1)) == KeyID(testKey(2)) {
		t.Error("different keys share a key id")
	}
}

func TestNewKeyring(t *testing.T) {
	tests := []struct {
		name    string
		primary []byte
		old     [][]byte
		wantErr string
	}{
		{"primary only", testKey(1), nil, ""},
		{"with old keys", testKey(1), [][]byte{testKey(2), testKey(3)}, ""},
		{"same key twice", testKey(1), [][]byte{testKey(1)}, ""},
		{"short primary", testKey(1)[:16], nil, "primary master key must be 32 bytes; got 16"},
		{"nil primary", nil, nil, "primary master key must be 32 bytes; got 0"},
		{"long old key", testKey(1), [][]byte{testKey(2), append(testKey(3), 3)}, "old master key 2 must be 32 bytes; got 33"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeyring(tt.primary, tt.old...)
			assertNoLeak(t, err, append([][]byte{tt.primary}, tt.old...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewKeyring() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewKeyring: %v", err)
			}
			if got, want := k.PrimaryID(), KeyID(tt.primary); got != want {
				t.Errorf("PrimaryID() = %q, want %q", got, want)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	tests := []struct {
		name      string
		plaintext string
		aad       string
	}{
		{"provider key", "sk-proj-abcdefghijklmnop1234", "provider_credential:42"},
		{"empty plaintext", "", "provider_credential:1"},
		{"empty aad", "AIzaSyExample", ""},
		{"non-ASCII", "clé-secrète-✓", "provider_credential:7"},
		{"long", strings.Repeat("x", 4096), "service:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := k.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if s.KeyID != k.PrimaryID() {
				t.Errorf("sealed KeyID = %q, want the primary %q", s.KeyID, k.PrimaryID())
			}
			if len(tt.plaintext) >= 4 && bytes.Contains(s.Ciphertext, []byte(tt.plaintext)) {
				t.Error("ciphertext contains the plaintext")
			}
			got, err := k.Open(s, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.plaintext {
				t.Errorf("Open() = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestOpenFails(t *testing.T) {
	const plaintext = "sk-live-provider-secret-value"
	const aad = "provider_credential:1"
	key, other := testKey(1), testKey(2)
	k := mustKeyring(t, key)
	otherRing := mustKeyring(t, other)
	sealed, err := k.Seal(plaintext, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	flip := func(i int) Sealed {
		c := bytes.Clone(sealed.Ciphertext)
		c[i] ^= 0x01
		return Sealed{KeyID: sealed.KeyID, Ciphertext: c}
	}
	tests := []struct {
		name    string
		ring    *Keyring
		s       Sealed
		aad     string
		wantErr string
	}{
		{"unknown key id", otherRing, sealed, aad, "sealed with master key " + KeyID(key) + ", which is not configured"},
		// The id is forged so the other key is really tried, not just looked up.
		{"wrong key", otherRing, Sealed{KeyID: otherRing.PrimaryID(), Ciphertext: sealed.Ciphertext}, aad, "message authentication failed"},
		{"different aad", k, sealed, "provider_credential:2", "message authentication failed"},
		{"tampered nonce", k, flip(0), aad, "message authentication failed"},
		{"tampered body", k, flip(len(sealed.Ciphertext) / 2), aad, "message authentication failed"},
		{"tampered tag", k, flip(len(sealed.Ciphertext) - 1), aad, "message authentication failed"},
		{"truncated", k, Sealed{KeyID: sealed.KeyID, Ciphertext: sealed.Ciphertext[:len(sealed.Ciphertext)-1]}, aad, "message authentication failed"},
		{"shorter than overhead", k, Sealed{KeyID: sealed.KeyID, Ciphertext: sealed.Ciphertext[:27]}, aad, "shorter than the 28-byte"},
		{"empty ciphertext", k, Sealed{KeyID: sealed.KeyID}, aad, "shorter than the 28-byte"},
		{"no key id", k, Sealed{Ciphertext: sealed.Ciphertext}, aad, "names no master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.s, tt.aad)
			if err == nil {
				t.Fatalf("Open() = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open() error = %q, want it to contain %q", err, tt.wantErr)
			}
			assertNoLeak(t, err, []byte(plaintext), key, other)
		})
	}
}

func FuzzOpen(f *testing.F) {
	k, err := NewKeyring(testKey(1))
	if err != nil {
		f.Fatal(err)
	}
	s, err := k.Seal("seed secret", "row:1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.Ciphertext, "row:1")
	f.Add([]byte{}, "")
	f.Add(make([]byte, 28), "row:1")
	f.Fuzz(func(t *testing.T, ciphertext []byte, aad string) {
		// Database contents are not trusted: anything but a genuine seal must
		// fail cleanly, never panic or decrypt to garbage. Fuzz workers are
		// separate processes that each seal their own copy of the seed (with
		// another nonce), so "genuine" means "opens to what was sealed".
		got, err := k.Open(Sealed{KeyID: k.PrimaryID(), Ciphertext: ciphertext}, aad)
		if err == nil && (got != "seed secret" || aad != "row:1") {
			t.Errorf("forged ciphertext opened to %q", got)
		}
	})
}

func TestSealNoncesDiffer(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	const n = 200
	nonces := make(map[string]bool, n)
	for range n {
		s, err := k.Seal("same plaintext", "same row")
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		nonce := string(s.Ciphertext[:12])
		if nonces[nonce] {
			t.Fatalf("nonce %x repeated", nonce)
		}
		nonces[nonce] = true
	}
}

func TestRotation(t *testing.T) {
	const aad = "provider_credential:5"
	oldKey, newKey := testKey(1), testKey(2)
	before := mustKeyring(t, oldKey)
	during := mustKeyring(t, newKey, oldKey)
	after := mustKeyring(t, newKey)

	sealedOld, err := before.Seal("old secret", aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	sealedNew, err := during.Seal("new secret", aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if sealedNew.KeyID != KeyID(newKey) {
		t.Fatalf("new value sealed under %q, want the new primary %q", sealedNew.KeyID, KeyID(newKey))
	}

	tests := []struct {
		name        string
		s           Sealed
		want        string
		wantChanged bool
	}{
		{"sealed by the old key", sealedOld, "old secret", true},
		{"sealed by the new key", sealedNew, "new secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := during.Open(tt.s, aad); err != nil || got != tt.want {
				t.Fatalf("Open() during rotation = %q, %v; want %q", got, err, tt.want)
			}
			resealed, changed, err := during.Reseal(tt.s, aad)
			if err != nil {
				t.Fatalf("Reseal: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("Reseal() changed = %v, want %v", changed, tt.wantChanged)
			}
			if !changed && !bytes.Equal(resealed.Ciphertext, tt.s.Ciphertext) {
				t.Error("Reseal rewrote a value that was already under the primary key")
			}
			if got, err := after.Open(resealed, aad); err != nil || got != tt.want {
				t.Errorf("Open() with only the new key = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	t.Run("wrong aad", func(t *testing.T) {
		if _, _, err := during.Reseal(sealedOld, "provider_credential:6"); err == nil {
			t.Error("Reseal with another row's aad succeeded")
		}
	})
	t.Run("old key missing", func(t *testing.T) {
		_, _, err := after.Reseal(sealedOld, aad)
		if err == nil || !strings.Contains(err.Error(), KeyID(oldKey)+", which is not configured") {
			t.Errorf("Reseal() error = %v, want it to name the missing key", err)
		}
		assertNoLeak(t, err, oldKey, newKey, []byte("old secret"))
	})
}

func TestSealWithoutKeyring(t *testing.T) {
	var k Keyring
	if _, err := k.Seal("secret", "row"); err == nil {
		t.Error("Seal on a zero Keyring succeeded")
	}
}

func TestLastFour(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"abc", ""},
		{"abcd", "abcd"},
		{"sk-proj-1234", "1234"},
		{"clé✓✓✓", "é✓✓✓"},
		{"✓✓✓", ""},
	}
	for _, tt := range tests {
		if got := LastFour(tt.in); got != tt.want {
			t.Errorf("LastFour(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/…"},
		{"https://example.com/hook?token=abc", "https://example.com/…"},
		{"https://user:pass@example.com:8443/", "https://example.com:8443"},
		{"http://example.com", "http://example.com"},
		{"http://example.com/#frag", "http://example.com/…"},
		{"not a url", "…"},
		{"", "…"},
	} {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
