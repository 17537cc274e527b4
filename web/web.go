// Package web serves the dashboard at / and the GraphQL explorer at
// /playground: the production builds of the React app and of GraphiQL in
// web/ (npm run build writes dist/ and dist/playground/, which are
// committed so that a fresh clone builds the binary without Node),
// embedded into the binary.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy allows only the dashboard's own scripts, styles and
// API (same-origin /graphql, and its websocket for subscriptions), and no
// framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// playgroundDir is the explorer's build inside dist; the dashboard does
// not serve it.
const playgroundDir = "playground"

// Handler serves the dashboard: files of the build as they are, with
// long-lived caching for the content-hashed ones under assets/, and
// index.html for every other path so that the app's own routes
// (/services, /keys …) load on a reload or a shared link.
func Handler() http.Handler {
	return newHandler(builtFiles())
}

func builtFiles() fs.FS {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; it is always there
	}
	return files
}

// securityHeaders sets the headers every page and file of both apps carry.
func securityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// onlyGetAndHead answers other methods with 405 and reports whether the
// request may go on.
func onlyGetAndHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// readIndex is a build's index.html, or a page saying how to build it.
func readIndex(files fs.FS, title, what string) []byte {
	if index, err := fs.ReadFile(files, "index.html"); err == nil {
		return index
	}
	return []byte("<!doctype html><title>" + title + "</title><p>" + what +
		" is not built: run <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>.")
}

// serveIndex answers with a build's index.html, revalidated on each load.
func serveIndex(w http.ResponseWriter, r *http.Request, index []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
}

// serveFile answers with the file name of files, or a 404 when there is
// none: content-hashed files under assets/ are cached for good.
func serveFile(w http.ResponseWriter, r *http.Request, files *assets, name string) {
	if !isFile(files.files, name) {
		notFound(w, r)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	files.serve(w, r, name)
}

// notFound answers a missing file (an old asset after an upgrade) with a
// 404, not with the app: a script answered with HTML only confuses.
func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.NotFound(w, r)
}

// isFile says whether name is a file of files.
func isFile(files fs.FS, name string) bool {
	st, err := fs.Stat(files, name)
	return err == nil && !st.IsDir()
}

func newHandler(files fs.FS) http.Handler {
	index := readIndex(files, "Sluice", "The dashboard")
	built := &assets{files: files}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header(), ContentSecurityPolicy)
		if !onlyGetAndHead(w, r) {
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		// The explorer's build is served by Playground, or not at all.
		ownFile := name != playgroundDir && !strings.HasPrefix(name, playgroundDir+"/") && isFile(files, name)
		if name != "" && name != "index.html" {
			if ownFile {
				serveFile(w, r, built, name)
				return
			}
			if path.Ext(name) != "" {
				notFound(w, r)
				return
			}
		}
		serveIndex(w, r, index)
	})
}

// playgroundCSP is the explorer's policy: like the dashboard's, nothing
// from another origin. Beyond it, GraphiQL's stylesheet embeds its fonts
// as data: URLs, and its dialogs add <style> elements while open (to lock
// scrolling, with the scrollbar's width in them, so no fixed hash fits):
// those are admitted by a nonce fresh on each load of the page, given to
// the page's scripts in the HTML. Responses other than the page carry the
// policy without a nonce.
func playgroundCSP(nonce string) string {
	style := "style-src 'self'"
	if nonce != "" {
		style += " 'nonce-" + nonce + "'"
	}
	return "default-src 'self'; script-src 'self'; " + style + "; img-src 'self' data:; font-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// noncePlaceholder is what the explorer's build has where the page's
// nonce goes (html.cspNonce in web/vite.playground.config.ts).
const noncePlaceholder = "SLUICE_CSP_NONCE"

// newNonce is 128 random bits for a CSP nonce.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Playground serves the GraphQL explorer (GraphiQL, built into
// dist/playground/) at /playground, talking to the same origin's /graphql.
// Mount it at /playground and /playground/.
func Playground() http.Handler {
	files, err := fs.Sub(builtFiles(), playgroundDir)
	if err != nil {
		panic(err) // a constant, valid path
	}
	return newPlayground(files)
}

func newPlayground(files fs.FS) http.Handler {
	index := readIndex(files, "Sluice GraphQL", "The GraphQL playground")
	built := &assets{files: files}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == playgroundDir {
			name = ""
		}
		name = strings.TrimPrefix(name, playgroundDir+"/")
		page := name == "" || name == "index.html"
		nonce := ""
		if page {
			nonce = newNonce()
		}
		securityHeaders(w.Header(), playgroundCSP(nonce))
		if !onlyGetAndHead(w, r) {
			return
		}
		if page {
			serveIndex(w, r, bytes.ReplaceAll(index, []byte(noncePlaceholder), []byte(nonce)))
			return
		}
		serveFile(w, r, built, name)
	})
}
