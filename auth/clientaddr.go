package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the peers trusted to name the client in X-Forwarded-For:
// the load balancers in front of the gateway. Empty trusts nobody, and
// every limit keyed on the caller's address uses the TCP peer.
type Proxies []netip.Prefix

// ParseProxies reads a comma-separated list of CIDRs and addresses
// ("10.0.0.0/8, 192.0.2.7, fd00::/8").
func ParseProxies(s string) (Proxies, error) {
	var p Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			pre, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: use a CIDR such as 10.0.0.0/8 or an address such as 192.0.2.7", f)
			}
			p = append(p, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: use a CIDR such as 10.0.0.0/8 or an address such as 192.0.2.7", f)
		}
		a = a.Unmap().WithZone("")
		p = append(p, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Address is the client's address for a request from peer (host or
// host:port) carrying the X-Forwarded-For values xff. From a peer that is
// not trusted it is the peer, whatever the header says: anyone can send
// one. From a trusted peer it is the rightmost X-Forwarded-For entry that
// is not itself a trusted proxy, walking from the right, since each proxy
// appends the peer it saw and only entries written by trusted proxies can
// be believed. A malformed entry stops the walk at the last trusted
// address, so a sender can never choose the address it is counted under.
func (p Proxies) Address(peer string, xff []string) string {
	client, ok := parseHost(peer)
	if !ok {
		return peer
	}
	if !p.trusts(client) {
		return client.String()
	}
	entries := strings.Split(strings.Join(xff, ","), ",")
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		a, ok := parseHost(e)
		if !ok {
			break
		}
		client = a
		if !p.trusts(a) {
			break
		}
	}
	return client.String()
}

// ClientIP is the request's client address under p.
func (p Proxies) ClientIP(r *http.Request) string {
	return p.Address(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// Middleware records the client address under p in the request context,
// where ClientIP and ClientIPFrom read it.
func (p Proxies) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithClientIP(r.Context(), p.ClientIP(r))))
	})
}

// ClientIP is the request's client address: the one Proxies.Middleware
// recorded, or else the TCP peer (forwarded headers are then ignored,
// since anyone can send them and limits must not be sidestepped by
// inventing addresses).
func ClientIP(r *http.Request) string {
	if ip := ClientIPFrom(r.Context()); ip != "" {
		return ip
	}
	return Proxies(nil).ClientIP(r)
}

// parseHost reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:80", "[2001:db8::1]:80", "2001:db8::1"), IPv4-mapped IPv6
// addresses as IPv4.
func parseHost(s string) (netip.Addr, bool) {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
