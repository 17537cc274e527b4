// Package accesslog writes one JSON line per proxied request: who (the
// key's and the service's names, never the key), what (protocol, endpoint,
// model), how it went (status, failure kind, tokens, cost, latency) and
// the request id to find its usage record by. Never a key, a body or an
// error message, which can quote either.
//
// Lines are formatted and written by one goroutine, off the request path:
// a request only copies its Entry into a bounded queue, and when the
// queue is full (the output cannot keep up) the line is dropped and
// counted rather than slowing requests down.
package accesslog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/traceid"
)

// Entry is what one line says of a request.
type Entry struct {
	At        time.Time
	RequestID string
	// TraceID is the request's W3C trace id; zero writes none.
	TraceID        traceid.ID
	OrganizationID int
	// Service and Key are names, never the key itself.
	Service, Key              string
	Protocol, Endpoint, Model string
	Status                    int
	// Failure is the failure kind of a failed request (the metrics').
	Failure string
	tokens.Tokens
	// Cost is written only when Priced.
	Cost              money.Micros
	Priced            bool
	Latency, TTFB     time.Duration
	Streamed, Partial bool
}

// DefaultQueue is how many lines may wait to be written.
const DefaultQueue = 4096

// Writer writes lines to an io.Writer. A nil *Writer writes nothing, so
// callers need not check whether the access log is on.
type Writer struct {
	queue chan Entry
	out   *bufio.Writer
	// dropped counts lines lost: to a full queue, to a closed writer, or
	// to a failed write.
	dropped atomic.Uint64
	closed  atomic.Bool
	quit    chan struct{} // closed by Close; the queue itself never is
	done    chan struct{}
	close   sync.Once
}

// New starts a writer to out with room for queue waiting lines (0 takes
// DefaultQueue).
func New(out io.Writer, queue int) *Writer {
	if queue <= 0 {
		queue = DefaultQueue
	}
	w := &Writer{queue: make(chan Entry, queue), out: bufio.NewWriterSize(out, 64<<10),
		quit: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Add queues e's line without waiting; a full queue or a closed writer
// drops it. It is safe to call at any time, during and after Close too,
// since requests a shutdown cut short may still finish after it.
func (w *Writer) Add(e Entry) {
	if w == nil {
		return
	}
	if w.closed.Load() {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- e:
	default:
		w.dropped.Add(1)
	}
}

// Dropped is how many lines were lost (see Writer.dropped).
func (w *Writer) Dropped() uint64 {
	if w == nil {
		return 0
	}
	return w.dropped.Load()
}

// Close writes the lines queued and stops, waiting at most until ctx ends:
// an output that no longer drains (a stalled pipe) must not hold the
// process's exit.
func (w *Writer) Close(ctx context.Context) error {
	if w == nil {
		return nil
	}
	w.close.Do(func() {
		w.closed.Store(true)
		close(w.quit)
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("access log: lines still queued at shutdown: %w", ctx.Err())
	}
}

// run writes each line, flushing whenever the queue runs empty: a burst
// is one write, and a quiet line is not held back. Once closed it writes
// what is queued and stops.
func (w *Writer) run() {
	defer close(w.done)
	var line []byte
	unflushed := 0
	write := func(e *Entry) {
		line = AppendLine(line[:0], e)
		if _, err := w.out.Write(line); err != nil {
			w.dropped.Add(1)
			return
		}
		unflushed++
	}
	flush := func() {
		if err := w.out.Flush(); err != nil {
			w.dropped.Add(uint64(unflushed))
		}
		unflushed = 0
	}
	for {
		select {
		case e := <-w.queue:
			write(&e)
			if len(w.queue) == 0 {
				flush()
			}
		case <-w.quit:
			for {
				select {
				case e := <-w.queue:
					write(&e)
				default:
					flush()
					return
				}
			}
		}
	}
}

// AppendLine appends e's JSON line, newline included.
func AppendLine(b []byte, e *Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendString(b, "request_id", e.RequestID)
	if !e.TraceID.IsZero() {
		b = append(b, `,"trace_id":"`...)
		b = hexAppend(b, e.TraceID[:])
		b = append(b, '"')
	}
	b = appendInt(b, "organization_id", int64(e.OrganizationID))
	b = appendString(b, "service", e.Service)
	b = appendString(b, "key_name", e.Key)
	b = appendString(b, "protocol", e.Protocol)
	b = appendString(b, "endpoint", e.Endpoint)
	b = appendString(b, "model", e.Model)
	b = appendInt(b, "status", int64(e.Status))
	if e.Failure != "" {
		b = appendString(b, "failure", e.Failure)
	}
	b = appendInt(b, "input_tokens", e.InputTokens)
	b = appendInt(b, "output_tokens", e.OutputTokens)
	if e.CachedInputTokens != 0 {
		b = appendInt(b, "cached_input_tokens", e.CachedInputTokens)
	}
	if e.CacheWriteTokens != 0 {
		b = appendInt(b, "cache_write_tokens", e.CacheWriteTokens)
	}
	if e.Priced {
		// Dollars with all six decimals: exact, as the cost header.
		b = append(b, `,"cost_usd":`...)
		b = append(b, e.Cost.Decimal()...)
	}
	b = appendMillis(b, "latency_ms", e.Latency)
	if e.TTFB > 0 {
		b = appendMillis(b, "ttfb_ms", e.TTFB)
	}
	if e.Streamed {
		b = append(b, `,"streamed":true`...)
	}
	if e.Partial {
		b = append(b, `,"partial":true`...)
	}
	return append(b, "}\n"...)
}

func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

// appendMillis writes d in milliseconds with microsecond precision.
func appendMillis(b []byte, name string, d time.Duration) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
}

const hex = "0123456789abcdef"

// hexAppend appends src in lowercase hex.
func hexAppend(b, src []byte) []byte {
	for _, c := range src {
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return b
}

// appendString writes a JSON string member. Values a client chose (the
// model) are escaped fully; invalid UTF-8 becomes U+FFFD, so every line
// is valid JSON.
func appendString(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, v[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
