package proxy

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestBillingHeadersNotForwarded: a client cannot pick which of the
// operator's provider organizations or projects pays for its request, and
// does not learn the operator's account identity from the answer.
func TestBillingHeadersNotForwarded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, 200, openAIChatBody, "OpenAI-Organization", "org-operator", "OpenAI-Project", "proj_operator",
				"Anthropic-Organization-Id", "operator-org-uuid", "OpenAI-Processing-Ms", "12")
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-BILLING", models: []string{"gpt-test"}})

		resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","messages":[]}`,
			"OpenAI-Organization", "org-attacker", "OpenAI-Project", "proj_attacker", "X-Goog-User-Project", "attacker-gcp",
			"OpenAI-Beta", "assistants=v2")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		got := up.last(t).Header
		for _, h := range []string{"OpenAI-Organization", "OpenAI-Project", "X-Goog-User-Project"} {
			if v := got.Get(h); v != "" {
				t.Errorf("the upstream received the client's %s: %q", h, v)
			}
		}
		if got.Get("OpenAI-Beta") != "assistants=v2" {
			t.Error("a feature header that bills nobody was not forwarded")
		}
		for _, h := range []string{"OpenAI-Organization", "OpenAI-Project", "Anthropic-Organization-Id"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("the client received the operator's %s: %q", h, v)
			}
		}
		if resp.Header.Get("OpenAI-Processing-Ms") != "12" {
			t.Error("an ordinary upstream header was not relayed")
		}
	})
}

// TestUpstreamEchoedKeyMasked: an upstream that repeats the provider key
// in its error body or headers, in any spelling and split across writes,
// reaches the client with the key masked and a Content-Length that fits.
func TestUpstreamEchoedKeyMasked(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		f.price("google", "gemini-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		const oaSecret = "sk-proj-ECHOED+KEY/0123456789wxyz"
		const geSecret = "AIzaSy+ECHOED/geminiKEY-0123456789abcd"
		var answer func(w http.ResponseWriter, r *http.Request)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { answer(w, r) })
		_, oaKey := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: oaSecret, models: []string{"gpt-test"}})
		_, geKey := f.addService(serviceSpec{name: "ge", provider: "google", baseURL: up.srv.URL, secret: geSecret, models: []string{"gemini-test"}})

		oaChat := func() (*http.Response, string) {
			return f.call("POST", "/v1/chat/completions", oaKey, `{"model":"gpt-test","messages":[]}`)
		}
		cases := []struct {
			name   string
			status int
			answer func(w http.ResponseWriter, r *http.Request)
			call   func() (*http.Response, string)
			secret string
		}{
			{"401 echoing the bearer key", 401, func(w http.ResponseWriter, r *http.Request) {
				answerJSON(w, 401, `{"error":{"message":"Incorrect API key provided: `+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+`","type":"invalid_request_error","code":"invalid_api_key"}}`)
			}, oaChat, oaSecret},
			{"JSON-escaped echo in a 400", 400, func(w http.ResponseWriter, r *http.Request) {
				answerJSON(w, 400, `{"error":{"message":"bad key \"`+strings.ReplaceAll(oaSecret, "/", `\/`)+`\""}}`)
			}, oaChat, oaSecret},
			{"key split across writes, in a header too", 500, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Debug-Auth", "Bearer "+oaSecret)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(500)
				_, _ = io.WriteString(w, `{"error":{"message":"upstream saw `+oaSecret[:10])
				w.(http.Flusher).Flush()
				_, _ = io.WriteString(w, oaSecret[10:]+` and `+strings.Repeat("x", 9000)+oaSecret+`"}}`)
			}, oaChat, oaSecret},
			{"query key echoed percent-encoded", 400, func(w http.ResponseWriter, r *http.Request) {
				answerJSON(w, 400, `{"error":{"code":400,"message":"API key not valid: `+r.URL.RawQuery+`","status":"INVALID_ARGUMENT"}}`)
			}, func() (*http.Response, string) {
				return f.call("POST", "/v1beta/models/gemini-test:generateContent", geKey, `{}`)
			}, geSecret},
			{"error stream echoing the key", 503, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(503)
				_, _ = io.WriteString(w, "data: {\"error\":{\"message\":\"overloaded for key "+oaSecret+"\"}}\n\n")
			}, oaChat, oaSecret},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				answer = tc.answer
				resp, body := tc.call()
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				for _, form := range []string{tc.secret, url.QueryEscape(tc.secret), strings.ReplaceAll(tc.secret, "/", `\/`)} {
					if strings.Contains(body, form) {
						t.Errorf("the provider key reached the client in the body: %.200s", body)
					}
					for k, vv := range resp.Header {
						if strings.Contains(strings.Join(vv, ","), form) {
							t.Errorf("the provider key reached the client in header %s", k)
						}
					}
				}
				if !strings.Contains(body, keyMask(tc.secret)) {
					t.Errorf("no mask %q in %.300s", keyMask(tc.secret), body)
				}
				if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
					t.Errorf("Content-Length %s for a %d-byte body", cl, len(body))
				}
			})
		}
	})
}

// TestMaskReader: masking gives what replacing in the whole body would,
// however the body is cut into reads.
func TestMaskReader(t *testing.T) {
	const secret = "sk-live+KEY/abcdefgh1234"
	mask := keyMask(secret)
	cases := []struct{ name, in, want string }{
		{"no key", "nothing to see", "nothing to see"},
		{"empty", "", ""},
		{"key alone", secret, mask},
		{"key twice, adjacent", secret + secret, mask + mask},
		{"percent-encoded", "key=" + url.QueryEscape(secret) + "&x", "key=" + mask + "&x"},
		{"JSON-escaped", `"` + strings.ReplaceAll(secret, "/", `\/`) + `"`, `"` + mask + `"`},
		{"a prefix only", "sk-live+KEY/abc and more", "sk-live+KEY/abc and more"},
		{"long body, key at the end", strings.Repeat("y", 10_000) + secret, strings.Repeat("y", 10_000) + mask},
		{"overlapping start", "sk-live+" + secret + "sk-", "sk-live+" + mask + "sk-"},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":     func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	}
	for _, tc := range cases {
		for rname, rd := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				got, err := io.ReadAll(newMaskReader(rd(tc.in), secret))
				if err != nil || string(got) != tc.want {
					t.Errorf("got %q, %v; want %q", got, err, tc.want)
				}
			})
		}
	}
	t.Run("read error", func(t *testing.T) {
		r := newMaskReader(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(io.ErrUnexpectedEOF)), secret)
		got, err := io.ReadAll(r)
		if string(got) != "abc" || err != io.ErrUnexpectedEOF {
			t.Errorf("got %q, %v", got, err)
		}
	})
}

// TestDenyPrivateUpstreamsAtConnect: with private upstreams denied, a
// service whose base URL is on loopback (as a name rebound after its save
// would be) is never connected to, and the request fails as unreachable;
// allowed, it is answered.
func TestDenyPrivateUpstreamsAtConnect(t *testing.T) {
	for _, c := range []struct {
		name        string
		deny        bool
		wantStatus  int
		wantCalls   int
		wantFailure string
	}{
		{"deny private", true, http.StatusBadGateway, 0, FailureUnreachable},
		{"allow private", false, http.StatusOK, 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			testenv.Each(t, func(t *testing.T, db *database.DB) {
				f := newFixture(t, db, func(o *Options) { o.DenyPrivateUpstreams = c.deny })
				f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
				_, key := f.addService(serviceSpec{name: "local", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-LOCAL", models: []string{"gpt-test"}})

				resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","messages":[]}`)
				if resp.StatusCode != c.wantStatus {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.wantStatus, body)
				}
				if got := up.count(); got != c.wantCalls {
					t.Fatalf("the upstream received %d requests, want %d", got, c.wantCalls)
				}
				if got := f.lastFailure(); got != c.wantFailure {
					t.Fatalf("usage record failure %q, want %q", got, c.wantFailure)
				}
				f.checkNoSecrets("the answer", body)
			})
		})
	}
}
