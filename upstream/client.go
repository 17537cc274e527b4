package upstream

import (
	"net"
	"net/http"
	"time"
)

// Policy is how Sluice connects out: to providers (the proxy and the
// live-usage probe) and to the budget alert webhooks. Every outbound client
// is built from one, so that an operator's setting holds on every path.
type Policy struct {
	// DenyPrivate refuses, when connecting, every address IsPrivate
	// reports: the check runs on the address actually dialled, so a name
	// that resolved to a public address when it was saved cannot be
	// rebound to the internal network, and a redirect cannot lead there
	// either. Behind an HTTP proxy from the environment it applies to the
	// proxy's address.
	DenyPrivate bool
	// ConnectTimeout bounds dialing and the TLS handshake; zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// DefaultConnectTimeout is a Policy's connect timeout when it sets none.
const DefaultConnectTimeout = 10 * time.Second

// NewTransport returns a pooled transport that connects as p says. Callers
// may tune what p does not cover (idle pool sizes, header timeouts,
// compression) on the result.
func NewTransport(p Policy) *http.Transport {
	connect := p.ConnectTimeout
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	if p.DenyPrivate {
		d.Control = DenyPrivateDial
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
	}
}

// NewClient returns a client over NewTransport(p) whose requests, answer
// included, take at most timeout (zero: no limit beyond p's).
func NewClient(p Policy, timeout time.Duration) *http.Client {
	return &http.Client{Transport: NewTransport(p), Timeout: timeout}
}
