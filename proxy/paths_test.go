package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/providers"
)

// rawCall sends a request without following redirects, the key in the
// query and in x-goog-api-key, and returns the answer with its body.
func rawCall(t *testing.T, method, url, key string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"contents":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Goog-Api-Key", key)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestOddPathsNeverRedirectNorEchoKeys: paths ServeMux would clean or
// complete with a slash are answered 404 in the caller's shape, never a
// redirect (which repeated ?key= in Location and the body), and no answer
// repeats the client's key, wherever the client put it.
func TestOddPathsNeverRedirectNorEchoKeys(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("google", "gemini-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, `{}`) })
		_, key := f.addService(serviceSpec{name: "ge", provider: "google", baseURL: up.srv.URL, secret: "AIzaODDPATHS", models: []string{"gemini-test"}})
		oa, ge, co, an := providers.ProtocolOpenAI, providers.ProtocolGemini, providers.ProtocolCohere, providers.ProtocolAnthropic
		cases := []struct {
			method, path string
			status       int
			shape        providers.Protocol
		}{
			{"GET", "/v1beta/models/", 404, ge},
			{"GET", "/v1beta", 404, ge},
			{"GET", "/v1", 404, oa},
			{"GET", "/v2", 404, co},
			{"POST", "//v1/chat/completions", 404, oa},
			{"POST", "/v1/../v1/x", 404, oa},
			{"POST", "/v1/./messages", 404, an},
			{"POST", "/v1beta/models//gemini-test:generateContent", 404, ge},
			{"GET", "/v1/models/", 404, oa},
			{"POST", "/v1/" + key, 404, oa},
			{"POST", "/v1beta/models/" + key + ":generateContent", 403, ge},
			{"GET", "/v1beta/models/" + key + ":generateContent", 405, ge},
		}
		for _, tc := range cases {
			name := strings.ReplaceAll(tc.method+" "+tc.path, key, "KEY")
			t.Run(name, func(t *testing.T) {
				resp, body := rawCall(t, tc.method, f.srv.URL+tc.path+"?key="+key+"&alt=sse", key)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d; Location %q: %s", resp.StatusCode, tc.status, resp.Header.Get("Location"), body)
				}
				errorShape(t, tc.shape, tc.status, body)
				if strings.Contains(body, key) {
					t.Errorf("the answer repeats the client's key: %s", body)
				}
				for k, vv := range resp.Header {
					if strings.Contains(strings.Join(vv, ","), key) {
						t.Errorf("header %s repeats the client's key", k)
					}
				}
			})
		}
		if up.count() != 0 {
			t.Errorf("%d odd requests reached the upstream", up.count())
		}
	})
}

// TestMisplacedSDKPaths: an SDK whose base URL lacks (or doubles) the
// version gets a 404 in its own error shape saying what the base URL
// should be, and a wrong method gets a 405 in the shape, never the
// dashboard's text/plain.
func TestMisplacedSDKPaths(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: "http://127.0.0.1:1", secret: "sk-provider-MISPLACED", models: []string{"gpt-test"}})
		host := strings.TrimPrefix(f.srv.URL, "http://")
		oa, an, ge, co := providers.ProtocolOpenAI, providers.ProtocolAnthropic, providers.ProtocolGemini, providers.ProtocolCohere
		cases := []struct {
			method, path string
			status       int
			shape        providers.Protocol
			mention      string
		}{
			{"POST", "/chat/completions", 404, oa, "set your base URL to http://" + host + "/v1"},
			{"POST", "/completions", 404, oa, "under /v1"},
			{"POST", "/responses", 404, oa, "under /v1"},
			{"POST", "/embeddings", 404, oa, "under /v1"},
			{"GET", "/models", 404, oa, "under /v1"},
			{"POST", "/v1/v1/chat/completions", 404, oa, "not /v1/chat/completions"},
			{"POST", "/messages", 404, an, "without /v1"},
			{"POST", "/v1/v1/messages", 404, an, "set your base URL to http://" + host + ", without /v1"},
			{"POST", "/v1beta/v1beta/models/gemini-test:generateContent", 404, ge, "without /v1beta"},
			{"POST", "/v2/v2/chat", 404, co, "without /v2"},
			{"POST", "/chat", 404, co, "without /v2"},
			{"POST", "/v1/images/generations", 404, oa, "no route"},
			{"GET", "/v1/chat/completions", 405, oa, "takes POST"},
			{"DELETE", "/v1/messages", 405, an, "takes POST"},
			{"POST", "/v1/models", 405, oa, "takes GET"},
			{"POST", "/services", 405, oa, "takes GET"},
		}
		for _, tc := range cases {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				resp, body := f.call(tc.method, tc.path, key, `{"model":"gpt-test"}`)
				if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					t.Fatalf("status %d %q, want %d JSON: %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, body)
				}
				if msg := errorShape(t, tc.shape, tc.status, body); !strings.Contains(msg, tc.mention) {
					t.Errorf("message %q does not say %q", msg, tc.mention)
				}
			})
		}
	})
}

func TestRedactSluiceKeys(t *testing.T) {
	k := "sk_" + strings.Repeat("aZ9", 14) + "q" // 43 characters after sk_
	cases := []struct{ in, want string }{
		{"no key here", "no key here"},
		{"/v1/" + k + "/x", "/v1/sk_[redacted]/x"},
		{k + k, "sk_[redacted]sk_[redacted]"},
		{"sk_short and sk_", "sk_short and sk_"},
		{"model " + k[:20] + "-" + k[21:], "model " + k[:20] + "-" + k[21:]},
	}
	for _, tc := range cases {
		if got := redactSluiceKeys(tc.in); got != tc.want {
			t.Errorf("redactSluiceKeys(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWriteErrorSpeaksThePathsProtocol: a refusal made before the proxy's
// handler runs (a body that arrives too slowly) is in the error shape of
// the SDK the path belongs to, with its status.
func TestWriteErrorSpeaksThePathsProtocol(t *testing.T) {
	cases := []struct{ path, want string }{
		{"/v1/chat/completions", `{"error":{"message":"too slow","type":"invalid_request_error","param":null,"code":"request_body_timeout"}}`},
		{"/v1/messages", `{"type":"error","error":{"type":"invalid_request_error","message":"too slow"}}`},
		{"/v1beta/models/gemini-2.0-flash:generateContent", `{"error":{"code":408,"message":"too slow","status":"INVALID_ARGUMENT"}}`},
		{"/v2/chat", `{"message":"too slow"}`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest(http.MethodPost, c.path, nil), http.StatusRequestTimeout, "request_body_timeout", "too slow")
			if w.Code != http.StatusRequestTimeout || strings.TrimSpace(w.Body.String()) != c.want {
				t.Fatalf("%d %s, want 408 %s", w.Code, w.Body, c.want)
			}
		})
	}
}
