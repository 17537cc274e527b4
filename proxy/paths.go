package proxy

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/providers"
)

// CanonicalPaths wraps the gateway's mux so that it never redirects a
// request whose path is not canonical (repeated slashes, dot segments):
// http.ServeMux would answer with the cleaned path and the whole query in
// Location and in the body, and Gemini SDKs send their key in the query.
// Such a request is answered 404 in the error shape its path suggests,
// naming the path to call instead.
func CanonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if r.Method == http.MethodConnect || canonical(p) {
			next.ServeHTTP(w, r)
			return
		}
		clean := cleanPath(p)
		w.Header().Set("X-Request-Id", requestID(r))
		writeRefusal(w, r, shapeOf(clean), refuse(http.StatusNotFound, "unknown_route",
			fmt.Sprintf("the path %s has empty or dot segments, which Sluice does not resolve: call %s", p, clean)))
	})
}

// canonical reports whether ServeMux would leave p as it is. Most paths
// are decided without building the cleaned one.
func canonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return true
	}
	return cleanPath(p) == p
}

// cleanPath is ServeMux's cleaning: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// shapeOf is the protocol whose error shape suits a path: the SDK that
// called it is the best guess.
func shapeOf(p string) providers.Protocol {
	switch {
	case strings.HasSuffix(p, "/messages"):
		return providers.ProtocolAnthropic
	case p == "/v1beta" || strings.HasPrefix(p, "/v1beta/") || strings.Contains(p, ":generateContent") || strings.Contains(p, ":streamGenerateContent"):
		return providers.ProtocolGemini
	case p == "/v2" || strings.HasPrefix(p, "/v2/") || p == "/chat" || p == "/embed":
		return providers.ProtocolCohere
	}
	return providers.ProtocolOpenAI
}

// sdkTails are the paths the providers' SDKs append to their base URL, and
// the protocol each belongs to. A request that ends in one but missed its
// route came from an SDK whose base URL is set wrong.
var sdkTails = []struct {
	tail  string
	proto providers.Protocol
}{
	{"/chat/completions", providers.ProtocolOpenAI},
	{"/completions", providers.ProtocolOpenAI},
	{"/responses", providers.ProtocolOpenAI},
	{"/embeddings", providers.ProtocolOpenAI},
	{"/models", providers.ProtocolOpenAI},
	{"/messages", providers.ProtocolAnthropic},
	{"/chat", providers.ProtocolCohere},
	{"/embed", providers.ProtocolCohere},
	{":generateContent", providers.ProtocolGemini},
	{":streamGenerateContent", providers.ProtocolGemini},
}

// rootTails are the SDK paths registered at the root, so that an SDK whose
// base URL lacks its version is told so instead of reaching the dashboard.
var rootTails = []string{"/chat/completions", "/completions", "/responses", "/embeddings", "/models", "/messages", "/chat", "/embed"}

// unknownRoute answers a path under the proxy's prefixes (or an SDK path
// at the root) that no route serves: 404 in the caller's error shape,
// saying how to set the base URL when the path shows an SDK's is wrong.
func unknownRoute(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", requestID(r))
	p := r.URL.Path
	proto := shapeOf(p)
	msg := fmt.Sprintf("Sluice has no route %s %s; it serves %s, GET /v1/models and GET /services", r.Method, p, allRoutes())
	if hint, ok := baseURLHint(r, p); ok {
		proto, msg = hint.proto, hint.message
	}
	writeRefusal(w, r, proto, refuse(http.StatusNotFound, "unknown_route", msg))
}

type hint struct {
	proto   providers.Protocol
	message string
}

// baseURLHint recognises a path an SDK built from a wrong base URL and
// says what the base URL should be. Gemini's own /v1beta/models (its
// model list) is not one: that base URL is right.
func baseURLHint(r *http.Request, p string) (hint, bool) {
	if strings.HasPrefix(p, "/v1beta/models") && !strings.Contains(p, ":") {
		return hint{}, false
	}
	for _, t := range sdkTails {
		if !strings.HasSuffix(p, t.tail) {
			continue
		}
		base := origin(r)
		var m string
		switch t.proto {
		case providers.ProtocolOpenAI:
			m = fmt.Sprintf("this gateway serves the OpenAI API under /v1: set your base URL to %s/v1 (this request went to %s, not /v1%s)", base, p, t.tail)
		case providers.ProtocolAnthropic:
			m = fmt.Sprintf("this gateway serves the Anthropic API at /v1/messages: set your base URL to %s, without /v1 (the SDK adds /v1/messages; this request went to %s)", base, p)
		case providers.ProtocolGemini:
			m = fmt.Sprintf("this gateway serves the Gemini API at /v1beta/models/{model}:generateContent: set your base URL to %s, without /v1beta (this request went to %s)", base, p)
		case providers.ProtocolCohere:
			m = fmt.Sprintf("this gateway serves the Cohere API at /v2/chat and /v2/embed: set your base URL to %s, without /v2 (this request went to %s)", base, p)
		}
		return hint{proto: t.proto, message: m}, true
	}
	return hint{}, false
}

// origin is the scheme and host the client called, for base URL hints.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeRefusal writes e in proto's shape, without any API key (see redacted).
func writeRefusal(w http.ResponseWriter, r *http.Request, proto providers.Protocol, e *apiError) {
	writeError(w, proto, redacted(r, e))
}

// redacted is e with every API key taken out of its message: refusals
// quote the paths and model names a client sent, where it may have put
// its key, and no answer or record repeats a key. e itself is never
// changed (it may be shared: a key entry's misconfiguration).
func redacted(r *http.Request, e *apiError) *apiError {
	msg := redactSluiceKeys(e.message)
	if k, ok := clientkey.FromRequest(r); ok && len(k) >= minMaskedKey {
		msg = strings.ReplaceAll(msg, k, "[redacted]")
	}
	if msg == e.message {
		return e
	}
	c := *e
	c.message = msg
	return &c
}

// redactSluiceKeys replaces every Sluice key (sk_ and 43 base62
// characters) in s.
func redactSluiceKeys(s string) string {
	const prefix, body = "sk_", 43
	i := strings.Index(s, prefix)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		n := 0
		for j := i + len(prefix); j < len(s) && n < body && isBase62(s[j]); j++ {
			n++
		}
		end := i + len(prefix)
		if n == body {
			b.WriteString(s[:i])
			b.WriteString("sk_[redacted]")
			end += body
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
		i = strings.Index(s, prefix)
	}
	b.WriteString(s)
	return b.String()
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// WriteError answers r with status, code and message in the error shape of
// the protocol its path suggests, for refusals made before the proxy's
// own handler runs (a request body that arrives too slowly, say).
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeRefusal(w, r, shapeOf(r.URL.Path), refuse(status, code, message))
}
