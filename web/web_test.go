package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
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

// TestEmbeddedBuild checks the committed production builds of the
// dashboard and of the playground: each index.html loads its app, and
// every asset it names is embedded and served, scripts compressed.
func TestEmbeddedBuild(t *testing.T) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		index  string
		prefix string
		h      http.Handler
	}{
		{"index.html", "/", Handler()},
		{"playground/index.html", "/playground/", Playground()},
	}
	for _, c := range cases {
		index, err := fs.ReadFile(files, c.index)
		if err != nil {
			t.Fatalf("dist/%s is missing: run npm run build in web/: %v", c.index, err)
		}
		refs := regexp.MustCompile(`(?:src|href)="(`+regexp.QuoteMeta(c.prefix)+`assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
		if len(refs) == 0 {
			t.Fatalf("dist/%s names no assets:\n%s", c.index, index)
		}
		if regexp.MustCompile(`<script>|<style>| style="`).Match(index) {
			t.Errorf("dist/%s has inline script or style, which the CSP refuses", c.index)
		}
		for _, ref := range refs {
			rec := getWith(t, c.h, http.MethodGet, ref[1], map[string]string{"Accept-Encoding": "gzip, br"})
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Errorf("%s: status %d, %d bytes", ref[1], rec.Code, rec.Body.Len())
			}
			if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
				t.Errorf("%s: Cache-Control %q", ref[1], rec.Header().Get("Cache-Control"))
			}
			// The build compresses files of 1 KiB and more.
			if enc := rec.Header().Get("Content-Encoding"); strings.HasSuffix(ref[1], ".js") && enc != "br" && (enc != "" || rec.Body.Len() >= 1024) {
				t.Errorf("%s: Content-Encoding %q, want br", ref[1], rec.Header().Get("Content-Encoding"))
			}
		}
	}
}

// variantFS is a build with precompressed variants beside app.js, only a
// gzip one beside only-gz.css, and none beside plain.js.
func variantFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/app.js":         {Data: []byte("console.log('identity')")},
		"assets/app.js.br":      {Data: []byte("BROTLI")},
		"assets/app.js.gz":      {Data: []byte("GZIP")},
		"assets/only-gz.css":    {Data: []byte("body{color:red}")},
		"assets/only-gz.css.gz": {Data: []byte("GZIP-CSS")},
		"assets/plain.js":       {Data: []byte("plain()")},
	}
}

func getWith(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesPrecompressedVariants(t *testing.T) {
	h := newHandler(variantFS())
	cases := []struct {
		name, target, accept string
		encoding, body, typ  string
		vary                 bool
	}{
		{"br preferred", "/assets/app.js", "gzip, deflate, br", "br", "BROTLI", "text/javascript", true},
		{"br preferred over a higher gzip q", "/assets/app.js", "gzip;q=1, br;q=0.5", "br", "BROTLI", "text/javascript", true},
		{"gzip fallback", "/assets/app.js", "gzip, deflate", "gzip", "GZIP", "text/javascript", true},
		{"x-gzip is gzip", "/assets/app.js", "x-gzip", "gzip", "GZIP", "text/javascript", true},
		{"identity when none accepted", "/assets/app.js", "", "", "console.log('identity')", "text/javascript", true},
		{"identity when only others accepted", "/assets/app.js", "deflate, zstd", "", "console.log('identity')", "text/javascript", true},
		{"br;q=0 refused", "/assets/app.js", "br;q=0, gzip", "gzip", "GZIP", "text/javascript", true},
		{"both q=0 refused", "/assets/app.js", "br;q=0, gzip;q=0.000", "", "console.log('identity')", "text/javascript", true},
		{"wildcard", "/assets/app.js", "*", "br", "BROTLI", "text/javascript", true},
		{"wildcard minus br", "/assets/app.js", "*;q=0.5, br;q=0", "gzip", "GZIP", "text/javascript", true},
		{"case and spaces", "/assets/app.js", " BR ; Q=0.8 ", "br", "BROTLI", "text/javascript", true},
		{"missing br falls back to gzip", "/assets/only-gz.css", "br, gzip", "gzip", "GZIP-CSS", "text/css", true},
		{"missing gzip falls back to identity", "/assets/only-gz.css", "br", "", "body{color:red}", "text/css", true},
		{"no variants at all", "/assets/plain.js", "br, gzip", "", "plain()", "text/javascript", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := getWith(t, h, http.MethodGet, c.target, map[string]string{"Accept-Encoding": c.accept})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Encoding"); got != c.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, c.encoding)
			}
			if got := rec.Body.String(); got != c.body {
				t.Errorf("body %q, want %q", got, c.body)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, c.typ) {
				t.Errorf("Content-Type %q, want %q", got, c.typ)
			}
			if got := rec.Header().Get("Vary") == "Accept-Encoding"; got != c.vary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", rec.Header().Get("Vary"), c.vary)
			}
			if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(len(c.body)) {
				t.Errorf("Content-Length %q, want %d", got, len(c.body))
			}
		})
	}
}

// TestPrecompressedConditionalAndRange: each variant has its own ETag,
// conditional requests and ranges apply to the bytes sent, and HEAD sends
// the headers alone.
func TestPrecompressedConditionalAndRange(t *testing.T) {
	h := newHandler(variantFS())
	br := map[string]string{"Accept-Encoding": "br"}
	first := getWith(t, h, http.MethodGet, "/assets/app.js", br)
	etag := first.Header().Get("ETag")
	identity := getWith(t, h, http.MethodGet, "/assets/app.js", nil).Header().Get("ETag")
	if etag == "" || identity == "" || etag == identity || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETags br %q, identity %q: want two different strong ones", etag, identity)
	}
	cases := []struct {
		name, method string
		header       map[string]string
		status       int
		body         string
		encoding     string
	}{
		{"If-None-Match of the variant", http.MethodGet, map[string]string{"Accept-Encoding": "br", "If-None-Match": etag}, 304, "", "br"},
		{"If-None-Match of another variant", http.MethodGet, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}, 200, "GZIP", "gzip"},
		{"range of the variant", http.MethodGet, map[string]string{"Accept-Encoding": "br", "Range": "bytes=1-3"}, 206, "ROT", "br"},
		{"range of identity", http.MethodGet, map[string]string{"Range": "bytes=0-6"}, 206, "console", ""},
		{"If-Range of another variant sends it whole", http.MethodGet, map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-0", "If-Range": etag}, 200, "GZIP", "gzip"},
		{"HEAD", http.MethodHead, map[string]string{"Accept-Encoding": "br"}, 200, "", "br"},
		{"range past the variant's end", http.MethodGet, map[string]string{"Accept-Encoding": "br", "Range": "bytes=100-"}, 416, "invalid range: failed to overlap\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := getWith(t, h, c.method, "/assets/app.js", c.header)
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			if got := rec.Body.String(); got != c.body {
				t.Errorf("body %q, want %q", got, c.body)
			}
			if c.status != 304 {
				if got := rec.Header().Get("Content-Encoding"); got != c.encoding {
					t.Errorf("Content-Encoding %q, want %q", got, c.encoding)
				}
			}
		})
	}
	if rec := getWith(t, h, http.MethodHead, "/assets/app.js", br); rec.Header().Get("Content-Length") != "6" {
		t.Errorf("HEAD Content-Length %q, want 6", rec.Header().Get("Content-Length"))
	}
}

func TestAcceptable(t *testing.T) {
	cases := []struct {
		header string
		coding string
		want   bool
	}{
		{"", "br", false},
		{"br", "br", true},
		{"br;q=0", "br", false},
		{"br;q=0.001", "br", true},
		{"br;q=bogus", "br", false},
		{"gzip", "br", false},
		{"*", "gzip", true},
		{"*;q=0", "gzip", false},
		{"*, gzip;q=0", "gzip", false},
		{"identity", "gzip", false},
	}
	for _, c := range cases {
		if got := allows(acceptable(c.header), c.coding); got != c.want {
			t.Errorf("Accept-Encoding %q allows %s = %v, want %v", c.header, c.coding, got, c.want)
		}
	}
}

func TestPlaygroundHandler(t *testing.T) {
	h := newPlayground(fstest.MapFS{
		"index.html":         {Data: []byte(`<!doctype html><meta property="csp-nonce" nonce="SLUICE_CSP_NONCE"><div id=graphiql></div>`)},
		"assets/gql-1.js":    {Data: []byte("graphiql()")},
		"assets/gql-1.js.br": {Data: []byte("BR")},
	})
	cases := []struct {
		target, accept   string
		status           int
		cache, body, enc string
	}{
		{"/playground", "", 200, "no-cache", "<div id=graphiql>", ""},
		{"/playground/", "", 200, "no-cache", "<div id=graphiql>", ""},
		{"/playground/index.html", "", 200, "no-cache", "<div id=graphiql>", ""},
		{"/playground/assets/gql-1.js", "br", 200, "public, max-age=31536000, immutable", "BR", "br"},
		{"/playground/assets/gql-1.js", "gzip", 200, "public, max-age=31536000, immutable", "graphiql()", ""},
		{"/playground/assets/gone.js", "", 404, "no-store", "not found", ""},
		{"/playground/elsewhere", "", 404, "no-store", "not found", ""},
	}
	for _, c := range cases {
		rec := getWith(t, h, http.MethodGet, c.target, map[string]string{"Accept-Encoding": c.accept})
		if rec.Code != c.status || rec.Header().Get("Cache-Control") != c.cache || !strings.Contains(rec.Body.String(), c.body) ||
			rec.Header().Get("Content-Encoding") != c.enc {
			t.Errorf("%s (%s): %d %q %q %q, want %d %q %q %q", c.target, c.accept, rec.Code, rec.Header().Get("Cache-Control"),
				rec.Header().Get("Content-Encoding"), rec.Body.String(), c.status, c.cache, c.enc, c.body)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'self'; script-src 'self'; style-src 'self'") {
			t.Errorf("%s: CSP %q", c.target, csp)
		}
		if page := strings.Contains(rec.Body.String(), "graphiql>"); page != strings.Contains(csp, "'nonce-") {
			t.Errorf("%s: CSP %q: a nonce belongs on the page only", c.target, csp)
		}
	}
	if rec := get(t, h, http.MethodPost, "/playground"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /playground: status %d, want 405", rec.Code)
	}
}

// TestDashboardLeavesPlaygroundOut: the dashboard never serves the
// explorer's files, so that with the playground off they are not served.
func TestDashboardLeavesPlaygroundOut(t *testing.T) {
	h := newHandler(fstest.MapFS{
		"index.html":                 {Data: []byte("<div id=root>")},
		"playground/index.html":      {Data: []byte("<div id=graphiql>")},
		"playground/assets/gql-1.js": {Data: []byte("graphiql()")},
	})
	for target, want := range map[string]int{"/playground": 200, "/playground/index.html": 404, "/playground/assets/gql-1.js": 404} {
		rec := get(t, h, http.MethodGet, target)
		if rec.Code != want || strings.Contains(rec.Body.String(), "graphiql") {
			t.Errorf("%s: %d %q, want %d without the explorer", target, rec.Code, rec.Body.String(), want)
		}
	}
}

func TestPlaygroundCSPAllowsNothingFromOutside(t *testing.T) {
	for _, nonce := range []string{"", "abc"} {
		csp := playgroundCSP(nonce)
		for _, directive := range strings.Split(csp, ";") {
			for _, source := range strings.Fields(directive)[1:] {
				switch source {
				case "'self'", "'none'", "data:", "'nonce-" + nonce + "'":
				default:
					t.Errorf("directive %q allows %s", strings.TrimSpace(directive), source)
				}
			}
		}
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
	}
}

// TestPlaygroundNonce: each load of the page has its own nonce, in its CSP
// and in place of the build's placeholder.
func TestPlaygroundNonce(t *testing.T) {
	h := newPlayground(fstest.MapFS{"index.html": {Data: []byte(`<meta property="csp-nonce" nonce="SLUICE_CSP_NONCE">`)}})
	nonceIn := regexp.MustCompile(`'nonce-([A-Za-z0-9_-]{22})'`)
	seen := map[string]bool{}
	for range 3 {
		rec := get(t, h, http.MethodGet, "/playground")
		m := nonceIn.FindStringSubmatch(rec.Header().Get("Content-Security-Policy"))
		if m == nil {
			t.Fatalf("CSP %q has no nonce", rec.Header().Get("Content-Security-Policy"))
		}
		if want := `nonce="` + m[1] + `"`; !strings.Contains(rec.Body.String(), want) {
			t.Errorf("page %q lacks %s", rec.Body.String(), want)
		}
		if seen[m[1]] {
			t.Errorf("nonce %s used twice", m[1])
		}
		seen[m[1]] = true
	}
}

func TestUnbuiltPagesSayHowToBuild(t *testing.T) {
	for target, h := range map[string]http.Handler{"/": newHandler(fstest.MapFS{}), "/playground": newPlayground(fstest.MapFS{})} {
		rec := get(t, h, http.MethodGet, target)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "npm run build") {
			t.Errorf("%s: %d %q", target, rec.Code, rec.Body.String())
		}
	}
}
