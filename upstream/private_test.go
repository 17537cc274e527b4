package upstream

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestIsPrivate(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"::1": true, "fd00::1": true, "fe80::1": true, "0.0.0.0": true, "100.64.1.1": true, "::ffff:10.0.0.1": true,
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700:4700::1111": false,
	} {
		if got := IsPrivate(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPrivate(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestDenyPrivateDial(t *testing.T) {
	d := net.Dialer{Control: DenyPrivateDial, Timeout: time.Second}
	_, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "private upstreams are not allowed") {
		t.Fatalf("dial to loopback: %v", err)
	}
	if err := CheckPublicHost(context.Background(), "localhost"); err == nil {
		t.Fatal("localhost passed as public")
	}
}
