package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// encodings are the precompressed variants the build writes beside a file
// (web/precompress.ts), in the order they are preferred.
var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// acceptable reads Accept-Encoding: the q-value of each coding named, and
// of "*" for the ones not named.
func acceptable(header string) map[string]float64 {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = f
				} else {
					weight = 0
				}
			}
		}
		q[coding] = weight
	}
	return q
}

// allows says whether Accept-Encoding (read by acceptable) lets coding be
// sent: named with q > 0, or not named and "*" has q > 0. An x-gzip names
// gzip too.
func allows(q map[string]float64, coding string) bool {
	if w, ok := q[coding]; ok {
		return w > 0
	}
	if coding == "gzip" {
		if w, ok := q["x-gzip"]; ok {
			return w > 0
		}
	}
	w, ok := q["*"]
	return ok && w > 0
}

// assets serves files of a build, each in the best encoding the request
// accepts among those the build wrote for it.
type assets struct {
	files fs.FS
	etags sync.Map // file name → quoted strong ETag of its bytes
}

// hasVariants says whether the build wrote any compressed variant of name.
func (a *assets) hasVariants(name string) bool {
	for _, e := range encodings {
		if st, err := fs.Stat(a.files, name+e.ext); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

// serve writes the file name (which exists), or a compressed variant of
// it, with the original's Content-Type. Range and conditional requests
// apply to the bytes sent, each variant having its own ETag.
func (a *assets) serve(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	sent, coding := name, ""
	if a.hasVariants(name) {
		h.Add("Vary", "Accept-Encoding")
		q := acceptable(r.Header.Get("Accept-Encoding"))
		for _, e := range encodings {
			if !allows(q, e.name) {
				continue
			}
			if st, err := fs.Stat(a.files, name+e.ext); err == nil && !st.IsDir() {
				sent, coding = name+e.ext, e.name
				break
			}
		}
	}
	f, err := a.files.Open(sent)
	if err != nil {
		http.Error(w, "could not read the file", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "could not read the file", http.StatusInternalServerError)
		return
	}
	etag, err := a.etag(sent)
	if err != nil {
		http.Error(w, "could not read the file", http.StatusInternalServerError)
		return
	}
	typ := mime.TypeByExtension(path.Ext(name))
	if typ == "" && coding != "" {
		typ = "application/octet-stream" // not sniffed from compressed bytes
	}
	if typ != "" {
		h.Set("Content-Type", typ)
	}
	if coding != "" {
		h.Set("Content-Encoding", coding)
		// ServeContent leaves the length out once an encoding is set (for
		// writers that compress on the fly); these bytes are final.
		if st, err := f.Stat(); err == nil {
			h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, content)
}

// etag is the strong ETag of file name's bytes, hashed once: the files are
// embedded, so they never change while the process runs.
func (a *assets) etag(name string) (string, error) {
	if tag, ok := a.etags.Load(name); ok {
		return tag.(string), nil
	}
	data, err := fs.ReadFile(a.files, name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	a.etags.Store(name, tag)
	return tag, nil
}
