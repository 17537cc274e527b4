package upstream

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// IsPrivate reports whether ip is loopback, private (RFC 1918, RFC 4193),
// link-local, unspecified or otherwise not a public internet address:
// where an admin-set base URL could reach the gateway's own network.
func IsPrivate(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT, often internal
}

// CheckPublicHost resolves host and refuses it if any address is private,
// for base URLs when the operator forbids private upstreams.
func CheckPublicHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if IsPrivate(a) {
			return fmt.Errorf("%s resolves to the private address %s, and private upstreams are not allowed (SLUICE_DENY_PRIVATE_UPSTREAMS)", host, a)
		}
	}
	return nil
}

// DenyPrivateDial is a net.Dialer Control function that refuses
// connections to private addresses at connect time, so that a host name
// which resolved to a public address when saved cannot later be pointed
// (DNS rebinding) at the internal network.
func DenyPrivateDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("upstream address %q: %w", address, err)
	}
	if IsPrivate(ap.Addr()) {
		return fmt.Errorf("upstream address %s is private, and private upstreams are not allowed", ap.Addr())
	}
	return nil
}
