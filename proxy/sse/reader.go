// Package sse reads a Server-Sent Events stream one event at a time while
// keeping every upstream byte, so the proxy can forward each event to the
// client unchanged (and flush it) the moment its blank line arrives, and still
// look inside it for token usage.
package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventSize bounds one event when NewReader is used. Provider events
// are a few hundred bytes; a megabyte leaves room for large tool-call or
// image chunks while stopping a broken upstream from growing the buffer
// without end.
const DefaultMaxEventSize = 1 << 20

// ErrEventTooLarge is wrapped by the error Next returns when an event grows
// past the maximum size without its terminating blank line, so callers can
// tell a misbehaving upstream apart from a network failure with errors.Is.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one blank-line-terminated block of the stream.
//
// Data and Raw point into the Reader's buffers and are valid only until the
// next call to Next; copy them to keep them longer.
type Event struct {
	// Name is the value of the last "event:" field, or "" when the event had
	// none (browsers dispatch those as "message").
	Name string
	// Data is the "data:" field values joined with "\n". It is nil when the
	// event had no data field at all (a comment-only keep-alive, a stray
	// blank line), which a browser would not dispatch, and non-nil but empty
	// for a bare "data:" line, which it would.
	Data []byte
	// Raw is the exact bytes of the event as received, including its
	// terminating blank line, so concatenating Raw over all events yields the
	// stream byte for byte. When an event ends with a bare CR that turns out
	// to be the first half of a CRLF, the LF is the first byte of the next
	// event's Raw: the event was returned without waiting for that byte.
	Raw []byte
}

// Reader splits an io.Reader into events. It never asks the underlying reader
// for more bytes while a complete event is already buffered, so an upstream
// that sends one event and then waits is not stalled behind a read.
type Reader struct {
	r   io.Reader
	max int

	buf        []byte
	start, end int  // buf[start:end] is not yet returned
	scan       int  // first line of the pending event not yet known to be terminated
	skipLF     bool // the last event ended on a bare CR that may be half a CRLF
	owed       bool // the pending event starts with the LF of that CRLF
	eof        bool
	started    bool // a line has been parsed (the UTF-8 BOM is only skipped before)
	err        error

	data []byte // joins multi-line data
	name string // reused when the next event has the same name, to avoid allocating it again
}

// NewReader returns a Reader with DefaultMaxEventSize.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, DefaultMaxEventSize)
}

// NewReaderSize returns a Reader that fails with ErrEventTooLarge once one
// event exceeds maxEventSize bytes (its Raw length). A size of zero or less
// means DefaultMaxEventSize.
func NewReaderSize(r io.Reader, maxEventSize int) *Reader {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	n := 4096
	if maxEventSize < n {
		n = maxEventSize + 1
	}
	return &Reader{r: r, max: maxEventSize, buf: make([]byte, n)}
}

// maxKeptBuffer is the largest buffer Reset keeps: a stream with a huge event
// should not pin its buffer in a pool.
const maxKeptBuffer = 64 << 10

// Reset makes r read a new stream from rd with the same maximum event size,
// keeping its buffers unless an event grew them past 64 KiB, so that a pool
// of Readers allocates nothing per stream. Reset(nil) drops the reference to
// the previous stream before r goes back to a pool.
func (r *Reader) Reset(rd io.Reader) {
	buf, data := r.buf, r.data[:0]
	if len(buf) > maxKeptBuffer {
		buf = make([]byte, min(4096, r.max+1))
	}
	if cap(data) > maxKeptBuffer {
		data = nil
	}
	*r = Reader{r: rd, max: r.max, buf: buf, data: data}
}

// Next returns the next event as soon as its terminating blank line has been
// read. Every block is returned, comment-only keep-alives and stray blank
// lines included (with nil Data), so forwarding each Raw reproduces the
// stream and keeps the client's idle timers fed. A last event that ends at
// EOF without a blank line is returned too; after it, Next returns io.EOF.
// Errors, io.EOF included, are sticky.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	for {
		end, ok := r.findEnd()
		if ok {
			return r.emit(end)
		}
		if r.end-r.start > r.max {
			return Event{}, r.fail(r.tooLarge())
		}
		if r.eof {
			if r.start == r.end {
				r.err = io.EOF
				return Event{}, io.EOF
			}
			return r.emit(r.end)
		}
		if err := r.fill(); err != nil {
			return Event{}, r.fail(err)
		}
	}
}

// Buffered reports whether Next would return without reading from the
// underlying reader: a whole event, the stream's end or an error is already
// buffered. A relay uses it to flush once per burst instead of once per
// event: events that arrived together leave together, and nothing waits in
// the relay's buffer while the relay waits on the upstream.
func (r *Reader) Buffered() bool {
	if r.err != nil || r.eof {
		return true
	}
	_, ok := r.findEnd()
	return ok
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

func (r *Reader) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes without a blank line", ErrEventTooLarge, r.max)
}

// findEnd looks for the blank line that ends the pending event and returns
// the offset just past it.
func (r *Reader) findEnd() (int, bool) {
	if r.scan == r.start && r.skipLF && r.start < r.end {
		// The previous event ended on a bare CR; an LF here completes that
		// CRLF and is not a line of its own.
		r.skipLF = false
		if r.buf[r.start] == '\n' {
			r.scan++
			r.owed = true
		}
	}
	for {
		i := lineEnd(r.buf[r.scan:r.end])
		if i < 0 {
			return 0, false
		}
		p := r.scan + i
		blank := i == 0
		next := p + 1
		if r.buf[p] == '\r' {
			switch {
			case p+1 < r.end:
				if r.buf[p+1] == '\n' {
					next = p + 2
				}
			case blank && !r.eof:
				// Whether an LF follows is unknown, and waiting for it could
				// block on an upstream that ends lines with CR alone.
				r.skipLF = true
			case !r.eof:
				// The event is not complete anyway: read on, then look again.
				return 0, false
			}
		}
		if blank {
			return next, true
		}
		r.scan = next
	}
}

// lineEnd returns the index of the first CR or LF in b, or -1.
func lineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	lim := b
	if n >= 0 {
		lim = b[:n]
	}
	if c := bytes.IndexByte(lim, '\r'); c >= 0 {
		return c
	}
	return n
}

// emit parses buf[r.start:end] into an Event and consumes it.
func (r *Reader) emit(end int) (Event, error) {
	if end-r.start > r.max {
		return Event{}, r.fail(r.tooLarge())
	}
	raw := r.buf[r.start:end:end]
	r.start, r.scan = end, end

	body := raw
	if r.owed {
		r.owed = false
		body = body[1:]
	}
	ev := Event{Raw: raw}
	var first []byte
	lines := 0
	for len(body) > 0 {
		i := lineEnd(body)
		line := body
		if i >= 0 {
			line = body[:i]
			if body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
			body = body[i+1:]
		} else {
			body = nil
		}
		if !r.started {
			r.started = true
			line = bytes.TrimPrefix(line, bom)
		}
		if len(line) == 0 {
			break
		}
		field, value := line, []byte(nil)
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			field, value = line[:c], line[c+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			ev.Name = r.intern(value)
		case "data":
			lines++
			switch lines {
			case 1:
				first = value[:len(value):len(value)]
				if first == nil {
					first = []byte{}
				}
			case 2:
				r.data = append(append(append(r.data[:0], first...), '\n'), value...)
			default:
				r.data = append(append(r.data, '\n'), value...)
			}
		}
	}
	switch {
	case lines == 1:
		ev.Data = first
	case lines > 1:
		ev.Data = r.data[:len(r.data):len(r.data)]
	}
	return ev, nil
}

var bom = []byte("\xEF\xBB\xBF")

// intern returns the event name as a string, reusing the previous one when it
// is the same so a stream of identically named events allocates once.
func (r *Reader) intern(b []byte) string {
	if string(b) != r.name {
		r.name = string(b)
	}
	return r.name
}

// fill reads more bytes after moving the pending event to the front of the
// buffer, growing the buffer up to the maximum event size.
func (r *Reader) fill() error {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.scan -= r.start
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		n := 2 * len(r.buf)
		if n > r.max+1 {
			n = r.max + 1
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err == io.EOF {
			r.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}
