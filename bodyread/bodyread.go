// Package bodyread bounds how request bodies are received: each must
// arrive within a time limit and, after a grace period, at a minimum rate,
// and the bytes of bodies held by requests in flight share one budget. A
// client trickling a body, or thousands of them stalling bodies, then
// cannot hold connections and memory for ever. Only the reading of the
// body is bounded: writing the answer, such as a stream of minutes, is not.
package bodyread

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Options are the bounds; a zero field is no bound.
type Options struct {
	// Timeout is how long after its headers a whole body may take.
	Timeout time.Duration
	// MinRate is the slowest a body may arrive, in bytes a second on
	// average, once Grace has passed since the handler's first read (what
	// the handler does before reading is not the client's slowness).
	MinRate int64
	Grace   time.Duration
	// MaxInFlight bounds the bytes of request bodies read by requests in
	// flight. A body of known length takes its whole length from it at its
	// first read, all or nothing; one of unknown length (chunked) takes
	// what each read brings. A read that would pass it waits for others to
	// finish, within Timeout; the request is then refused with 503. A body
	// longer than MaxInFlight is refused with 413 at once.
	MaxInFlight int64
	// Refuse writes the answer to a body cut short: status is 408 (too
	// slow) or 503 (no room), message says why. Nil writes plain text.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, message string)
}

// Limiter applies Options to the requests of a handler.
type Limiter struct {
	opts   Options
	budget *semaphore.Weighted
}

// New returns a limiter of o.
func New(o Options) *Limiter {
	l := &Limiter{opts: o}
	if o.MaxInFlight > 0 {
		l.budget = semaphore.NewWeighted(o.MaxInFlight)
	}
	if l.opts.Refuse == nil {
		l.opts.Refuse = func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			http.Error(w, msg, status)
		}
	}
	return l
}

// Handler bounds the body of each request to next. When a body is cut, the
// answer next writes is replaced by the refusal, and the connection is
// closed after it.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		g := &guard{ResponseWriter: w, r: r, refuse: l.opts.Refuse}
		b := &body{rc: r.Body, ctl: http.NewResponseController(w), l: l, ctx: r.Context(), length: r.ContentLength, g: g}
		if l.opts.Timeout > 0 {
			b.deadline = time.Now().Add(l.opts.Timeout)
		}
		defer b.release()
		r.Body = b
		next.ServeHTTP(g, r)
		g.finish()
		b.bound()
	})
}

// bound keeps the bounds on what the server reads of a body its handler
// left unread (it drains some of it to reuse the connection), which would
// otherwise be read without any.
func (b *body) bound() {
	if b.err != nil {
		return
	}
	if b.start.IsZero() {
		b.start = time.Now()
	}
	if d := b.due(); !d.IsZero() {
		_ = b.ctl.SetReadDeadline(d)
	}
}

// cut is why a body was cut short.
type cut struct {
	status int
	msg    string
}

func (c *cut) Error() string { return c.msg }

// body reads a request body within the bounds: before each read it moves
// the connection's read deadline to when the body would fall behind, and
// after it takes what was read from the shared budget.
type body struct {
	rc       io.ReadCloser
	ctl      *http.ResponseController
	l        *Limiter
	ctx      context.Context
	length   int64     // Content-Length; -1 unknown
	start    time.Time // of the first read; the rate clock's start
	deadline time.Time // zero: no overall limit
	g        *guard

	got, held int64
	whole     bool  // the whole length is held from the budget
	err       error // sticky: io.EOF once read whole, or the cut
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.start.IsZero() {
		if err := b.begin(); err != nil {
			return 0, err
		}
	}
	if d := b.due(); !d.IsZero() {
		// Not every connection supports deadlines (an HTTP/2 stream may
		// not); the bounds then fall to the server's own timeouts.
		_ = b.ctl.SetReadDeadline(d)
	}
	n, err := b.rc.Read(p)
	b.got += int64(n)
	if n > 0 && b.l.budget != nil && !b.whole {
		if aerr := b.take(int64(n)); aerr != nil {
			return n, aerr
		}
	}
	switch {
	case err == io.EOF:
		// From here net/http reads the connection in the background to
		// notice a client leaving, with the deadline lifted: the answer,
		// a stream of minutes included, is not bound by it. No read may
		// set it again.
		b.err = io.EOF
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = b.fail(http.StatusRequestTimeout, b.slowMessage())
	}
	return n, err
}

// begin starts reading the body. A body of known length first takes its
// whole length from the budget at once: bodies each holding part of theirs
// and waiting for the rest could otherwise stall one another until their
// deadlines. The rate clock starts after that, at the first read, so that
// neither the handler's work before reading (authenticating, looking up)
// nor the wait for the budget counts as the client's slowness.
func (b *body) begin() error {
	if b.length > 0 && b.l.budget != nil {
		if b.length > b.l.opts.MaxInFlight {
			return b.fail(http.StatusRequestEntityTooLarge, fmt.Sprintf(
				"the request body of %d bytes is larger than the %d bytes the gateway holds of bodies at once; send a smaller one", b.length, b.l.opts.MaxInFlight))
		}
		if err := b.take(b.length); err != nil {
			return err
		}
		b.whole = true
	}
	b.start = time.Now()
	return nil
}

// due is when the next byte must have arrived: the overall deadline, or
// earlier when the body falls below the minimum rate after the grace.
func (b *body) due() time.Time {
	d := b.deadline
	if o := b.l.opts; o.MinRate > 0 {
		behind := b.start.Add(o.Grace + time.Duration(float64(b.got)/float64(o.MinRate)*float64(time.Second)))
		if d.IsZero() || behind.Before(d) {
			d = behind
		}
	}
	return d
}

func (b *body) slowMessage() string {
	o := b.l.opts
	return fmt.Sprintf("the request body arrived too slowly: it must arrive within %s, at %d bytes a second or more after the first %s; %d bytes came in %s",
		o.Timeout, o.MinRate, o.Grace, b.got, time.Since(b.start).Round(time.Millisecond))
}

// take holds n more bytes of the shared budget, waiting within the body's
// deadline for others to release theirs.
func (b *body) take(n int64) error {
	ctx := b.ctx
	if !b.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, b.deadline)
		defer cancel()
	}
	if err := b.l.budget.Acquire(ctx, n); err != nil {
		return b.fail(http.StatusServiceUnavailable, "the gateway is receiving too many request bodies at once; retry in a moment")
	}
	b.held += n
	return nil
}

func (b *body) fail(status int, msg string) error {
	c := &cut{status: status, msg: msg}
	b.err = c
	b.g.cut(c)
	return c
}

func (b *body) Close() error { return b.rc.Close() }

// release returns the request's bytes to the budget once its handler is
// done with them.
func (b *body) release() {
	if b.held > 0 {
		b.l.budget.Release(b.held)
		b.held = 0
	}
}

// guard passes the handler's answer through until the body is cut; from
// then on it writes the refusal instead and drops what the handler writes.
type guard struct {
	http.ResponseWriter
	r      *http.Request
	refuse func(w http.ResponseWriter, r *http.Request, status int, message string)

	mu      sync.Mutex
	cutBy   *cut
	started bool // the handler's answer began before any cut
	refused bool // the refusal is written
	dropped http.Header
}

func (g *guard) cut(c *cut) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cutBy == nil {
		g.cutBy = c
	}
}

// refusing reports whether the handler's output is to be dropped, writing
// the refusal first if it is not written yet.
func (g *guard) refusing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cutBy == nil || g.started {
		g.started = true
		return false
	}
	if !g.refused {
		g.refused = true
		h := g.ResponseWriter.Header()
		h.Del("Content-Length")
		h.Set("Connection", "close")
		if g.cutBy.status == http.StatusServiceUnavailable {
			h.Set("Retry-After", strconv.Itoa(1))
		}
		g.refuse(g.ResponseWriter, g.r, g.cutBy.status, g.cutBy.msg)
	}
	return true
}

func (g *guard) Header() http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cutBy != nil && !g.started {
		if g.dropped == nil {
			g.dropped = http.Header{}
		}
		return g.dropped
	}
	return g.ResponseWriter.Header()
}

func (g *guard) WriteHeader(status int) {
	if !g.refusing() {
		g.ResponseWriter.WriteHeader(status)
	}
}

func (g *guard) Write(p []byte) (int, error) {
	if g.refusing() {
		return 0, g.cutBy
	}
	return g.ResponseWriter.Write(p)
}

// Flush lets streaming handlers flush through the guard.
func (g *guard) Flush() {
	if !g.refusing() {
		_ = http.NewResponseController(g.ResponseWriter).Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (g *guard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// finish writes the refusal if the handler wrote nothing after the cut.
func (g *guard) finish() {
	g.mu.Lock()
	pending := g.cutBy != nil && !g.started && !g.refused
	g.mu.Unlock()
	if pending {
		g.refusing()
	}
}
