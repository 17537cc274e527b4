package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/upstream"
)

// newTransport is the one pooled transport every upstream call shares,
// connecting under the outbound policy (private addresses, connect
// timeout) every outbound client of Sluice follows. Compression is off:
// the proxy reads usage out of bodies and streams SSE event by event,
// which a gzip layer would hide and delay, and LLM upstreams are
// CPU-bound, not bandwidth-bound.
func newTransport(o Options) *http.Transport {
	t := upstream.NewTransport(upstream.Policy{DenyPrivate: o.DenyPrivateUpstreams, ConnectTimeout: o.ConnectTimeout})
	t.MaxIdleConns = o.MaxIdleConnsPerHost * 4
	t.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	t.ResponseHeaderTimeout = o.FirstByteTimeout
	t.DisableCompression = true
	return t
}

// hopHeaders are meaningful only on one connection (RFC 9110 §7.6.1), as
// net/http/httputil.ReverseProxy removes them.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// dropRequest are client headers never forwarded: every way a client may
// carry its Sluice key or session (the upstream gets the provider key
// instead), what the transport sets itself, Sluice's own headers, and
// the headers that choose which of the provider account's organizations
// or projects a request is billed to (OpenAI's organization and project,
// Google's quota project): the operator's credential decides that, not
// the client. Services have no setting to forward them.
var dropRequest = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "X-Goog-Api-Key": true, "Cookie": true,
	"Host": true, "Content-Length": true, "Accept-Encoding": true, "X-Request-Id": true,
	"Openai-Organization": true, "Openai-Project": true, "X-Goog-User-Project": true,
}

// dropResponse are upstream headers not passed back: cookies belong to the
// gateway's connection, the length may change, X-Request-Id is the
// gateway's (the upstream's moves to X-Upstream-Request-Id), and the
// provider account's identity (OpenAI's organization and project,
// Anthropic's organization ID) is the operator's, not the client's.
var dropResponse = map[string]bool{
	"Set-Cookie": true, "Content-Length": true, "X-Request-Id": true,
	"Openai-Organization": true, "Openai-Project": true, "Anthropic-Organization-Id": true,
}

// copyRequestHeaders copies the client's headers that may reach the
// upstream into dst.
func copyRequestHeaders(dst, src http.Header) {
	for k, vv := range src {
		if dropRequest[k] || isHop(k, src) || strings.HasPrefix(k, "X-Sluice-") || strings.HasPrefix(k, "Proxy-") {
			continue
		}
		dst[k] = vv
	}
}

// copyTranslatedHeaders copies the client's headers that may reach an
// upstream of another API: those of copyRequestHeaders less the ones that
// belong to the caller's API (Anthropic's versions and betas, OpenAI's
// and Google's own headers) and its content negotiation.
func copyTranslatedHeaders(dst, src http.Header) {
	for k, vv := range src {
		if dropRequest[k] || isHop(k, src) || strings.HasPrefix(k, "X-Sluice-") || strings.HasPrefix(k, "Proxy-") ||
			strings.HasPrefix(k, "Anthropic-") || strings.HasPrefix(k, "Openai-") || strings.HasPrefix(k, "X-Goog-") ||
			k == "Accept" || k == "Content-Type" {
			continue
		}
		dst[k] = vv
	}
}

// copyResponseHeaders copies the upstream's headers that may reach the
// client into dst, with the provider key secret masked in them. The
// provider's rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*)
// describe the operator's provider account, not the caller's limits: they
// stay with the gateway (live usage shows them to admins).
func copyResponseHeaders(dst, src http.Header, secret string) {
	for k, vv := range src {
		if dropResponse[k] || isHop(k, src) || strings.HasPrefix(k, "Proxy-") || isProviderRateLimit(k) {
			continue
		}
		dst[k] = vv
	}
	if id := src.Get("X-Request-Id"); id != "" {
		dst.Set("X-Upstream-Request-Id", id)
	}
	maskHeaders(dst, secret)
}

// isProviderRateLimit reports whether the canonical header name k is one
// of the providers' rate-limit headers.
func isProviderRateLimit(k string) bool {
	return strings.HasPrefix(k, "X-Ratelimit-") || strings.HasPrefix(k, "Anthropic-Ratelimit-")
}

// isHop reports whether k is a hop-by-hop header, standard or named by the
// Connection header of h.
func isHop(k string, h http.Header) bool {
	for _, hop := range hopHeaders {
		if k == hop {
			return true
		}
	}
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) == k {
				return true
			}
		}
	}
	return false
}

// upstreamRequest builds the request to the provider: base URL plus path,
// the client's query without its key, the provider's auth per the API
// standard, and the client's headers minus everything dropped above.
func upstreamRequest(ctx context.Context, r *http.Request, proto providers.Protocol, up *upstreamConf, call upstreamCall) (*http.Request, error) {
	u := *up.base
	u.Path = up.base.Path + call.path
	h := make(http.Header, len(r.Header)+2)
	if call.translated {
		u.RawQuery = call.query
		copyTranslatedHeaders(h, r.Header)
		for k, v := range call.header {
			h.Set(k, v)
		}
	} else {
		u.RawQuery = forwardQuery(r.URL.RawQuery, call.query)
		copyRequestHeaders(h, r.Header)
	}
	upstream.Auth{Method: string(up.method), Field: up.field, Key: up.secret}.Apply(h, &u)
	if proto == providers.ProtocolAnthropic && h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", "2023-06-01")
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Host:          u.Host,
		ContentLength: int64(len(call.body)),
		Body:          io.NopCloser(bytes.NewReader(call.body)),
		GetBody: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(call.body)), nil
		},
	}
	return req.WithContext(ctx), nil
}

// forwardQuery is the client's raw query without any "key" parameter (a
// Gemini SDK's Sluice key), plus extra.
func forwardQuery(raw, extra string) string {
	if raw == "" {
		return extra
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if name == "key" || name == "" {
			continue
		}
		if un, err := url.QueryUnescape(name); err == nil && un == "key" {
			continue
		}
		if extra != "" && name == "alt" {
			continue // the proxy sets alt=sse itself
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	if extra != "" {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(extra)
	}
	return b.String()
}

// idleBody fails a read that waits longer than idle for the upstream's
// next bytes: a stream that stalls is cut, not held open forever.
type idleBody struct {
	io.ReadCloser
	timer *time.Timer
	idle  time.Duration
}

func newIdleBody(rc io.ReadCloser, idle time.Duration, cancel context.CancelCauseFunc) *idleBody {
	return &idleBody{ReadCloser: rc, idle: idle, timer: time.AfterFunc(idle, func() { cancel(errStreamIdle) })}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.ReadCloser.Close()
}
