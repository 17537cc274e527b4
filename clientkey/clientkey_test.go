package clientkey

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const sampleKey = "sk_Ab12cd34EF56gh78IJ90kl12MN34op56QR78st90UVw"

var validKey = regexp.MustCompile(`^sk_[0-9A-Za-z]{43}$`)

func TestNew(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	hashes := make(map[string]bool, n)
	used := make(map[rune]bool)
	for range n {
		g, err := New()
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if !validKey.MatchString(g.Plaintext) || !LooksValid(g.Plaintext) {
			t.Fatalf("New() plaintext %q is not sk_ plus 43 base62 characters", g.Plaintext)
		}
		if seen[g.Plaintext] || hashes[g.Hash] {
			t.Fatalf("New() repeated a key or hash after %d keys", len(seen))
		}
		seen[g.Plaintext], hashes[g.Hash] = true, true
		if g.Hash != Hash(g.Plaintext) {
			t.Errorf("Hash field %q, want Hash(plaintext) %q", g.Hash, Hash(g.Plaintext))
		}
		if want := g.Plaintext[:7]; g.Prefix != want {
			t.Errorf("Prefix = %q, want %q", g.Prefix, want)
		}
		if want := g.Plaintext[len(g.Plaintext)-4:]; g.LastFour != want {
			t.Errorf("LastFour = %q, want %q", g.LastFour, want)
		}
		for _, c := range g.Plaintext[3:] {
			used[c] = true
		}
	}
	// 2000 keys draw 86,000 characters; with a uniform pick each of the 62
	// appears about 1,400 times, so a missing one means a broken alphabet.
	for _, c := range alphabet {
		if !used[c] {
			t.Errorf("character %q never appeared in %d keys", c, n)
		}
	}
	if len(used) != len(alphabet) {
		t.Errorf("keys used %d distinct characters, want %d", len(used), len(alphabet))
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		// Known answer for the empty string, pinning hex SHA-256 of the input.
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{sampleKey, sha256Hex(sampleKey)},
		{"longer than the stack buffer " + strings.Repeat("k", 100), sha256Hex("longer than the stack buffer " + strings.Repeat("k", 100))},
	}
	for _, tt := range tests {
		if got := Hash(tt.in); got != tt.want {
			t.Errorf("Hash(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestEqual(t *testing.T) {
	h := Hash(sampleKey)
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", h, Hash(sampleKey), true},
		{"different", h, Hash(sampleKey + "x"), false},
		{"prefix only", h, h[:32], false},
		{"both empty", "", "", true},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: Equal() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// request builds a request the way net/http's server would hand it over:
// canonical header names, the query string left raw.
func request(headers map[string]string, rawQuery string) *http.Request {
	r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/v1/chat/completions", RawQuery: rawQuery}}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

func TestFromRequest(t *testing.T) {
	const other = "sk_other"
	tests := []struct {
		name     string
		headers  map[string]string
		rawQuery string
		want     string
		wantOK   bool
	}{
		{"bearer", map[string]string{"Authorization": "Bearer " + sampleKey}, "", sampleKey, true},
		{"lowercase bearer", map[string]string{"Authorization": "bearer " + sampleKey}, "", sampleKey, true},
		{"shouting bearer", map[string]string{"Authorization": "BEARER " + sampleKey}, "", sampleKey, true},
		{"bearer extra spaces", map[string]string{"Authorization": "  Bearer    " + sampleKey + "  "}, "", sampleKey, true},
		{"bearer tab", map[string]string{"Authorization": "Bearer\t" + sampleKey}, "", sampleKey, true},
		{"bearer without token", map[string]string{"Authorization": "Bearer   "}, "", "", false},
		{"bearer glued to token", map[string]string{"Authorization": "Bearer" + sampleKey}, "", "", false},
		{"basic auth passed over", map[string]string{"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": sampleKey}, "", sampleKey, true},
		{"x-api-key", map[string]string{"X-API-Key": sampleKey}, "", sampleKey, true},
		{"x-api-key lowercase name", map[string]string{"x-api-key": sampleKey}, "", sampleKey, true},
		{"x-api-key padded", map[string]string{"X-API-Key": " " + sampleKey + " "}, "", sampleKey, true},
		{"x-goog-api-key", map[string]string{"x-goog-api-key": sampleKey}, "", sampleKey, true},
		{"query key", nil, "key=" + sampleKey, sampleKey, true},
		{"query key among others", nil, "alt=sse&key=" + sampleKey + "&x=1", sampleKey, true},
		{"query key escaped", nil, "key=sk_a%2Bb+c", "sk_a+b c", true},
		{"query first key wins", nil, "key=" + sampleKey + "&key=" + other, sampleKey, true},
		{"query empty first key", nil, "key=&key=" + other, "", false},
		{"query key without value", nil, "key", "", false},
		{"query bad escape skipped", nil, "key=%zz&key=" + other, other, true},
		{"query semicolon pair skipped", nil, "key=a;b&key=" + other, other, true},
		{"query name containing key", nil, "apikey=" + sampleKey + "&monkey=1", "", false},
		{"precedence bearer over all", map[string]string{"Authorization": "Bearer " + sampleKey, "X-API-Key": other, "X-Goog-Api-Key": other}, "key=" + other, sampleKey, true},
		{"precedence x-api-key over goog and query", map[string]string{"X-API-Key": sampleKey, "X-Goog-Api-Key": other}, "key=" + other, sampleKey, true},
		{"precedence goog over query", map[string]string{"X-Goog-Api-Key": sampleKey}, "key=" + other, sampleKey, true},
		{"empty header falls through", map[string]string{"X-API-Key": "  "}, "key=" + sampleKey, sampleKey, true},
		{"missing", nil, "", "", false},
		{"missing with other query", nil, "alt=sse", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromRequest(request(tt.headers, tt.rawQuery))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("FromRequest() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	t.Run("nil URL", func(t *testing.T) {
		if got, ok := FromRequest(&http.Request{Header: http.Header{}}); ok {
			t.Errorf("FromRequest() = %q, true; want no key", got)
		}
	})
}

func FuzzFromRequest(f *testing.F) {
	f.Add("Bearer "+sampleKey, "", "", "")
	f.Add("bearer  x ", "", "", "")
	f.Add("Basic abc", sampleKey, "", "")
	f.Add("", "", sampleKey, "")
	f.Add("", "", "", "key="+sampleKey)
	f.Add("", "", "", "a=1&key=%41+b&key=c")
	f.Add("", "", "", "key=a;b&key=%zz&key")
	f.Add("", "", "", "k%65y=a&key=b")
	f.Fuzz(func(t *testing.T, auth, apiKey, googKey, rawQuery string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{RawQuery: rawQuery}}
		for name, v := range map[string]string{"Authorization": auth, "X-Api-Key": apiKey, "X-Goog-Api-Key": googKey} {
			if v != "" {
				r.Header[name] = []string{v}
			}
		}
		got, ok := FromRequest(r)
		if ok != (got != "") {
			t.Fatalf("FromRequest() = %q, %v: ok must say whether a key was found", got, ok)
		}
		if got != strings.TrimSpace(got) {
			t.Errorf("FromRequest() = %q, not trimmed", got)
		}
		if strings.TrimSpace(auth) == "" && strings.TrimSpace(apiKey) == "" && strings.TrimSpace(googKey) == "" && !nameEscaped(rawQuery) {
			// Only the query string is in play: it must read as net/url does.
			want := strings.TrimSpace(url.Values(mustParseQuery(rawQuery)).Get("key"))
			if got != want {
				t.Errorf("FromRequest() with query %q = %q, url.ParseQuery says %q", rawQuery, got, want)
			}
		}
	})
}

// nameEscaped reports whether any parameter name is percent-encoded, the one
// case where FromRequest knowingly reads the query differently from net/url.
func nameEscaped(q string) bool {
	for pair := range strings.SplitSeq(q, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if strings.Contains(name, "%") {
			return true
		}
	}
	return false
}

func mustParseQuery(q string) url.Values {
	v, _ := url.ParseQuery(q) // the valid pairs are kept even on error
	return v
}

func TestLooksValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"sample", sampleKey, true},
		{"all digits", "sk_" + strings.Repeat("7", 43), true},
		{"empty", "", false},
		{"prefix only", "sk_", false},
		{"one short", sampleKey[:len(sampleKey)-1], false},
		{"one long", sampleKey + "a", false},
		{"openai key", "sk-" + sampleKey[3:], false},
		{"upper prefix", "SK_" + sampleKey[3:], false},
		{"dash in body", sampleKey[:10] + "-" + sampleKey[11:], false},
		{"underscore in body", sampleKey[:10] + "_" + sampleKey[11:], false},
		{"space in body", sampleKey[:10] + " " + sampleKey[11:], false},
		{"non-ASCII in body", sampleKey[:10] + "é" + sampleKey[12:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksValid(tt.in); got != tt.want {
				t.Errorf("LooksValid(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzLooksValid(f *testing.F) {
	for _, seed := range []string{"", "sk_", sampleKey, sampleKey + "=", "sk-" + sampleKey[3:], sampleKey[:45] + "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := LooksValid(s), validKey.MatchString(s); got != want {
			t.Errorf("LooksValid(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkFromRequest(b *testing.B) {
	cases := []struct {
		name string
		r    *http.Request
	}{
		{"bearer", request(map[string]string{"Authorization": "Bearer " + sampleKey}, "")},
		{"x-api-key", request(map[string]string{"X-API-Key": sampleKey}, "")},
		{"query", request(nil, "alt=sse&key="+sampleKey)},
		{"missing with query", request(nil, "alt=sse&foo=bar")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := FromRequest(c.r); !ok && c.name != "missing with query" {
					b.Fatal("no key found")
				}
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Hash(sampleKey)
	}
}
