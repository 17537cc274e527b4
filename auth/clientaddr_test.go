package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	lb, err := ParseProxies("10.0.0.0/8, 192.0.2.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		proxies Proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies trusted: header ignored", nil, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"spoofed header from an untrusted peer", lb, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", lb, "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted peer without header", lb, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"client's own spoofed entry left of the real one", lb, "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", lb, "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1, 192.0.2.7, 10.9.9.9"}, "198.51.100.1"},
		{"chain over several headers", lb, "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1", "192.0.2.7"}, "198.51.100.1"},
		{"every entry trusted", lb, "10.1.2.3:4000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"IPv6 peer and client", lb, "[fd00::1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"untrusted IPv6 peer", lb, "[2001:db8::9]:4000", []string{"198.51.100.1"}, "2001:db8::9"},
		{"IPv4-mapped peer", lb, "[::ffff:10.1.2.3]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"entry with a port", lb, "10.1.2.3:4000", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"malformed rightmost entry: the peer", lb, "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"malformed entry behind a trusted hop: that hop", lb, "10.1.2.3:4000", []string{"garbage, 192.0.2.7"}, "192.0.2.7"},
		{"empty entry: the peer", lb, "10.1.2.3:4000", []string{"198.51.100.1, "}, "10.1.2.3"},
		{"unparseable peer kept as is", lb, "pipe", []string{"198.51.100.1"}, "pipe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := c.proxies.ClientIP(r); got != c.want {
				t.Fatalf("ClientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", bad)
		}
	}
	p, err := ParseProxies(" , 10.0.0.0/8 ,::1")
	if err != nil || len(p) != 2 {
		t.Fatalf("ParseProxies = %v, %v", p, err)
	}
}

// Behind a trusted load balancer each client has its own bucket; a
// client the balancer does not front cannot pick one by header.
func TestThrottleBehindTrustedProxy(t *testing.T) {
	lb, _ := ParseProxies("10.0.0.0/8")
	th := NewThrottle(0.001, 1)
	h := lb.Middleware(th.REST(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	status := func(peer, xff string) int {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		peer, xff string
		want      int
	}{
		{"10.0.0.1:1", "198.51.100.1", 200},
		{"10.0.0.1:1", "198.51.100.2", 200}, // another client, same balancer
		{"10.0.0.1:1", "198.51.100.1", 429},
		{"203.0.113.9:1", "198.51.100.3", 200},
		{"203.0.113.9:1", "198.51.100.4", 429}, // spoofed: counted under its peer
	} {
		if got := status(c.peer, c.xff); got != c.want {
			t.Fatalf("%s via %s: status %d, want %d", c.xff, c.peer, got, c.want)
		}
	}
}
