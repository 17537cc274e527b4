// Package connlimit caps the connections a listener holds open at once.
// Past the cap a new connection is answered 503 and closed at once, rather
// than left waiting in the kernel's queue or allowed to use up the
// process's file descriptors, which the gateway also needs for its
// database, its upstream calls and the connections it already serves.
package connlimit

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Listener is a net.Listener serving at most Max connections at once.
type Listener struct {
	net.Listener
	max     int64
	active  atomic.Int64
	refused atomic.Uint64
}

// Wrap caps ln at max open connections; max of zero or less is no cap.
func Wrap(ln net.Listener, max int) *Listener {
	return &Listener{Listener: ln, max: int64(max)}
}

// busy is what a connection over the cap reads before it is closed: a
// whole HTTP answer, so that a client sees why.
var busy = func() []byte {
	const msg = "the gateway has too many connections open; retry shortly\n"
	return []byte("HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Retry-After: 1\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(msg)) + "\r\n\r\n" + msg)
}()

// Accept returns the next connection under the cap, answering and closing
// those over it.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.max <= 0 {
			return c, nil
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			l.refused.Add(1)
			// A fresh socket's send buffer takes the answer without
			// waiting; the deadline only guards against the improbable.
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Write(busy)
			_ = c.Close()
			continue
		}
		return &conn{Conn: c, l: l}, nil
	}
}

// Active is the number of connections open now.
func (l *Listener) Active() int64 { return l.active.Load() }

// Refused is the number of connections refused over the cap so far.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

// conn gives its place back when closed, once however often Close is
// called.
type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.active.Add(-1) })
	return err
}

const (
	// fallback is Default where the descriptor limit cannot be read.
	fallback = 10_000
	// maxDefault bounds Default on hosts with a huge descriptor limit.
	maxDefault = 100_000
)
