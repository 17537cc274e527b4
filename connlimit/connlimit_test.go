package connlimit_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/connlimit"
)

// TestCap: connections past the cap read a 503 and are closed without
// being handed to the server; closing an accepted connection, however
// often, frees exactly one place.
func TestCap(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := connlimit.Wrap(tcp, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	next := func() net.Conn {
		select {
		case c := <-accepted:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	dial()
	first := next()
	dial()
	next()
	over := dial()
	over.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(over)
	if !strings.HasPrefix(string(got), "HTTP/1.1 503 Service Unavailable\r\n") || !strings.HasSuffix(string(got), "retry shortly\n") {
		t.Fatalf("over the cap: %q", got)
	}
	if ln.Active() != 2 || ln.Refused() != 1 {
		t.Fatalf("active %d refused %d, want 2 and 1", ln.Active(), ln.Refused())
	}
	first.Close()
	first.Close()
	if ln.Active() != 1 {
		t.Fatalf("after closing one twice, active %d, want 1", ln.Active())
	}
	dial()
	next()
	if ln.Active() != 2 {
		t.Fatalf("active %d, want 2", ln.Active())
	}
}
