package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// minMaskedKey is the shortest provider key masked in relayed answers: a
// shorter "key" (a test's "x") would mask ordinary words.
const minMaskedKey = 8

// keyMask is what replaces a provider key in a relayed answer: its last
// four characters, which the dashboard shows too, and nothing more.
func keyMask(secret string) string {
	if len(secret) < 16 {
		return "[redacted]"
	}
	return "[redacted …" + secret[len(secret)-4:] + "]"
}

// keyForms are the spellings of a provider key an upstream may echo: as
// sent, percent-encoded (a key sent in the query) and JSON-escaped (with
// "/" escaped too, as some encoders do).
func keyForms(secret string) [][]byte {
	forms := [][]byte{[]byte(secret)}
	add := func(s string) {
		for _, f := range forms {
			if string(f) == s {
				return
			}
		}
		forms = append(forms, []byte(s))
	}
	add(url.QueryEscape(secret))
	if b, err := json.Marshal(secret); err == nil {
		add(string(b[1 : len(b)-1]))
		add(strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`))
	}
	return forms
}

// maskHeaders replaces the provider key in every value of h: an upstream
// that echoes the request's credential in a header must not hand it to
// the client. Only values holding the key are rewritten.
func maskHeaders(h http.Header, secret string) {
	if len(secret) < minMaskedKey {
		return
	}
	for k, vv := range h {
		for i, v := range vv {
			if strings.Contains(v, secret) {
				if i == 0 {
					vv = append([]string(nil), vv...) // the upstream's slice may be shared
					h[k] = vv
				}
				vv[i] = strings.ReplaceAll(v, secret, keyMask(secret))
			}
		}
	}
}

// maskReader relays src with every form of a provider key replaced by its
// mask. It holds back at most the longest form's length less one byte
// between reads, so memory stays bounded whatever the body's size; only
// answers that are not successes pass through it (an error body is where
// providers echo what they were sent).
type maskReader struct {
	src   io.Reader
	forms [][]byte
	mask  []byte
	keep  int    // bytes held back: a form may begin in them
	in    []byte // read, not yet masked
	out   []byte // masked, not yet returned
	err   error  // of src, returned once in and out are drained
}

func newMaskReader(src io.Reader, secret string) io.Reader {
	if len(secret) < minMaskedKey {
		return src
	}
	m := &maskReader{src: src, forms: keyForms(secret), mask: []byte(keyMask(secret))}
	for _, f := range m.forms {
		m.keep = max(m.keep, len(f)-1)
	}
	return m
}

func (m *maskReader) Read(p []byte) (int, error) {
	for len(m.out) == 0 {
		if m.err != nil {
			m.out = m.masked(true)
			if len(m.out) == 0 {
				return 0, m.err
			}
			break
		}
		var chunk [4096]byte
		n, err := m.src.Read(chunk[:])
		m.in = append(m.in, chunk[:n]...)
		m.err = err
		if err == nil {
			m.out = m.masked(false)
		}
	}
	n := copy(p, m.out)
	m.out = m.out[n:]
	return n, nil
}

// masked takes from in every byte that can be released: all of it at the
// end, else all but the last keep bytes, where a form may be only begun.
// A form found whole is masked wherever it lies.
func (m *maskReader) masked(final bool) []byte {
	var out []byte
	for {
		at, form := -1, 0
		for _, f := range m.forms {
			if i := bytes.Index(m.in, f); i >= 0 && (at < 0 || i < at) {
				at, form = i, len(f)
			}
		}
		if at < 0 {
			break
		}
		out = append(out, m.in[:at]...)
		out = append(out, m.mask...)
		m.in = m.in[at+form:]
	}
	release := len(m.in)
	if !final {
		release = max(0, len(m.in)-m.keep)
	}
	out = append(out, m.in[:release]...)
	m.in = append(m.in[:0:0], m.in[release:]...)
	return out
}
