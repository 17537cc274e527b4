package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHandlerServesFilesWithCaching(t *testing.T) {
	h := newHandler(fstest.MapFS{
		"index.html":          {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/app-abc1.js":  {Data: []byte("console.log(1)")},
		"assets/app-abc1.css": {Data: []byte("body{}")},
		"favicon.svg":         {Data: []byte("<svg/>")},
	})
	cases := []struct {
		target           string
		status           int
		cache, typ, body string
	}{
		{"/", 200, "no-cache", "text/html", "<div id=root>"},
		{"/index.html", 200, "no-cache", "text/html", "<div id=root>"},
		{"/services", 200, "no-cache", "text/html", "<div id=root>"},
		{"/keys/123?x=1", 200, "no-cache", "text/html", "<div id=root>"},
		{"/assets/app-abc1.js", 200, "public, max-age=31536000, immutable", "javascript", "console.log"},
		{"/assets/app-abc1.css", 200, "public, max-age=31536000, immutable", "text/css", "body{}"},
		{"/favicon.svg", 200, "no-cache", "image/svg+xml", "<svg/>"},
		{"/assets/gone-0000.js", 404, "no-store", "text/plain", "not found"},
		{"/../../etc/passwd", 200, "no-cache", "text/html", "<div id=root>"},
	}
	for _, c := range cases {
		rec := get(t, h, http.MethodGet, c.target)
		if got := rec.Code; got != c.status {
			t.Errorf("%s: status %d, want %d", c.target, got, c.status)
		}
		if got := rec.Header().Get("Cache-Control"); got != c.cache {
			t.Errorf("%s: Cache-Control %q, want %q", c.target, got, c.cache)
		}
		if got := rec.Header().Get("Content-Type"); !strings.Contains(got, c.typ) {
			t.Errorf("%s: Content-Type %q, want %q", c.target, got, c.typ)
		}
		if !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: body %q, want it to contain %q", c.target, rec.Body.String(), c.body)
		}
		for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
			if rec.Header().Get(hdr) == "" {
				t.Errorf("%s: no %s header", c.target, hdr)
			}
		}
	}
	if rec := get(t, h, http.MethodPost, "/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", rec.Code)
	}
	if rec := get(t, h, http.MethodHead, "/services"); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /services: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestSecurityHeaders(t *testing.T) {
	rec := get(t, newHandler(fstest.MapFS{"index.html": {Data: []byte("x")}}), http.MethodGet, "/")
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
}

// TestEmbeddedBuild checks the committed production build: index.html
// loads the app, and every asset it names is embedded and served.
func TestEmbeddedBuild(t *testing.T) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		t.Fatalf("dist/index.html is missing: run npm run build in web/: %v", err)
	}
	refs := regexp.MustCompile(`(?:src|href)="/(assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) == 0 {
		t.Fatalf("dist/index.html names no assets:\n%s", index)
	}
	if regexp.MustCompile(`<script>|<style>| style="`).Match(index) {
		t.Errorf("dist/index.html has inline script or style, which the CSP refuses")
	}
	h := Handler()
	for _, ref := range refs {
		rec := get(t, h, http.MethodGet, "/"+ref[1])
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("/%s: status %d, %d bytes", ref[1], rec.Code, rec.Body.Len())
		}
		if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("/%s: Cache-Control %q", ref[1], rec.Header().Get("Cache-Control"))
		}
	}
}
