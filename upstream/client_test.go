package upstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientPolicy: with DenyPrivate a client never connects to a loopback
// server, and reaches it without.
func TestClientPolicy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, c := range []struct {
		name     string
		policy   Policy
		wantErr  string
		wantHits int32
	}{
		{"deny private", Policy{DenyPrivate: true, ConnectTimeout: time.Second}, "private upstreams are not allowed", 0},
		{"allow private", Policy{ConnectTimeout: time.Second}, "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			hits.Store(0)
			resp, err := NewClient(c.policy, 5*time.Second).Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if c.wantErr == "" && err != nil {
				t.Fatalf("get %s: %v", srv.URL, err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("get %s: error %v, want one saying %q", srv.URL, err, c.wantErr)
			}
			if got := hits.Load(); got != c.wantHits {
				t.Fatalf("the server was reached %d times, want %d", got, c.wantHits)
			}
		})
	}
}

func TestNewTransportDefaultsConnectTimeout(t *testing.T) {
	if got := NewTransport(Policy{}).TLSHandshakeTimeout; got != DefaultConnectTimeout {
		t.Fatalf("TLS handshake timeout without a connect timeout = %v, want %v", got, DefaultConnectTimeout)
	}
	if got := NewTransport(Policy{ConnectTimeout: 3 * time.Second}).TLSHandshakeTimeout; got != 3*time.Second {
		t.Fatalf("TLS handshake timeout = %v, want the connect timeout 3s", got)
	}
}
