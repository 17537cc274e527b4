// Package web serves the dashboard at /. The React app (built into dist/
// and embedded) replaces the placeholder page when it lands.
package web

import (
	_ "embed"
	"net/http"
)

//go:embed placeholder.html
var placeholder []byte

// Handler serves the dashboard.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(placeholder)
	})
}
