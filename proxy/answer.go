package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// relayBody passes a non-streamed answer of size bytes (-1: unknown)
// through. One smaller than MaxResponseBytes, when it fits in the first
// step or the buffer budget has room for it, is held whole so that its
// cost header can precede it; a larger one is relayed as it arrives by
// relayLarge.
func (x *exchange) relayBody(ctx context.Context, status int, body io.Reader, size int64, o *outcome) {
	buf := getBuffer()
	defer putBuffer(buf)
	var held int64
	var whole bool
	var err error
	if size < x.p.opts.MaxResponseBytes {
		held, whole, err = x.holdAnswer(buf, body, size, x.p.opts.MaxResponseBytes)
	}
	defer x.p.bufs.release(held)
	if err != nil {
		// The upstream answered and broke off (or the gateway's shutdown
		// cut it): its tokens were spent, so it is relayed and charged as
		// a cut answer, as one too large to hold would be.
		x.relayLarge(ctx, status, buf.Bytes(), failedReader{err}, o)
		return
	}
	if !whole {
		x.relayLarge(ctx, status, buf.Bytes(), body, o)
		return
	}
	h := x.w.Header()
	o.priced = x.info.priced
	if status < 300 {
		u, err := usage.FromBody(string(x.protocol), buf.Bytes())
		x.meterAnswer(u, err, false, o)
		if x.recording() {
			x.observe(buf.Bytes())
		}
	} else {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	if o.priced {
		h.Set("X-Sluice-Cost-USD", o.cost.Decimal())
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	x.w.WriteHeader(status)
	if _, err := x.w.Write(buf.Bytes()); err != nil {
		o.err = "client went away during the answer"
	}
}

// holdAnswer reads the answer (of size bytes, -1: unknown) into buf a
// step at a time while it is smaller than limit and the buffer
// budget has room; whole reports that buf holds all of it. held is the
// budget taken, to release after buf. The first step (up to bufferStep
// bytes, and one more to see the end) is held without the budget: most
// answers are that small, and the budget, which admits no one while
// anyone waits on it, must not under load strip them of their cost
// header. Each step is read into room grown for it beforehand, so a
// buffer never outgrows limit (and the pool keeps it) on the
// way to finding an answer too large to hold.
func (x *exchange) holdAnswer(buf *bytes.Buffer, body io.Reader, size, limit int64) (held int64, whole bool, err error) {
	if size >= 0 {
		buf.Grow(int(size) + 1) // one allocation, and room to see the end
	}
	for int64(buf.Len()) < limit {
		want := int64(bufferStep)
		if buf.Len() == 0 {
			want++ // the free first step
		} else {
			if !x.p.bufs.tryAcquire(bufferStep) {
				return held, false, nil
			}
			held += bufferStep
		}
		step := int(min(want, limit-int64(buf.Len())))
		buf.Grow(step)
		room := buf.AvailableBuffer()[:step]
		n, err := readFull(body, room)
		buf.Write(room[:n])
		switch {
		case err == io.EOF:
			return held, true, nil
		case err != nil:
			return held, false, err
		}
	}
	return held, false, nil
}

// readFull reads into p until it is full or r ends: io.EOF only at the
// answer's end. Unlike io.ReadFull it passes on io.ErrUnexpectedEOF, with
// which an HTTP body reports an answer cut short, as the failure it is.
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// failedReader is an answer whose reading failed with err.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// relayLarge passes on an answer, whose first bytes are in head, as it
// arrives, while a usage.BodyScanner reads its usage on the way: memory
// stays constant whatever the answer's size. The cost, known only at the
// end, is sent as the trailer X-Sluice-Cost-USD.
func (x *exchange) relayLarge(ctx context.Context, status int, head []byte, body io.Reader, o *outcome) {
	h := x.w.Header()
	h.Del("Content-Length")
	o.priced = x.info.priced
	if o.priced {
		h.Set("Trailer", "X-Sluice-Cost-USD")
	}
	x.w.WriteHeader(status)
	scanner := usage.NewBodyScanner(string(x.protocol))
	clientOK, readErr := x.copyAnswer(scanner, head, body)
	if status < 300 {
		u, err := scanner.Usage()
		x.meterAnswer(u, err, !clientOK || readErr != nil, o)
	} else {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	switch {
	case !clientOK:
		o.err = strings.TrimSuffix("client went away during the answer; "+o.err, "; ")
		return
	case readErr != nil && status < 300:
		// Too late for another target or a clean error: the client sees
		// the answer cut short.
		o.broke, o.failure, x.cut = true, FailureStream, true
		o.err = strings.TrimSuffix(x.whyCut(ctx, readErr)+"; "+o.err, "; ")
	}
	if o.priced {
		h.Set("X-Sluice-Cost-USD", o.cost.Decimal())
	}
}

// copyAnswer writes head and then the rest of body to the client, and
// each to scanner, until body ends or the client is gone (clientOK
// false). readErr is body's failure, if it broke off.
func (x *exchange) copyAnswer(scanner *usage.BodyScanner, head []byte, body io.Reader) (clientOK bool, readErr error) {
	relay := func(p []byte) bool {
		_, _ = scanner.Write(p)
		_, err := x.w.Write(p)
		return err == nil
	}
	chunk := copyPool.Get().(*[]byte)
	defer copyPool.Put(chunk)
	clientOK = relay(head)
	for clientOK {
		n, err := body.Read(*chunk)
		if n > 0 {
			clientOK = relay((*chunk)[:n])
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	return clientOK, readErr
}

// whyCut says why a non-streamed answer broke off after it had begun.
func (x *exchange) whyCut(ctx context.Context, readErr error) string {
	switch {
	case errors.Is(context.Cause(ctx), errStreamIdle):
		return "the upstream went idle during the answer and was cut"
	case cutAtShutdown(x.r):
		return "the gateway shut down during the answer and cut it"
	}
	return "the upstream failed during the answer: " + x.scrub(readErr)
}

// copyPool holds relayLarge's read buffers.
var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// meterAnswer prices a non-streamed answer's usage as read (u, err). An
// answer whose usage was there but could not be read (a count that is not
// one, members too large to keep), or that was cut before its usage, is
// charged the request's worst case, what its reservation held: the tokens
// were spent. A complete answer that reports no usage, or is not JSON, is
// the upstream's fault and is recorded with no charge, as it says.
func (x *exchange) meterAnswer(u usage.Usage, err error, cut bool, o *outcome) {
	if err == nil && u.Found {
		var note string
		o.usage, o.cost, note = x.charge(u)
		if note != "" {
			o.err, o.partial = note, true
		}
		return
	}
	why := "the answer reported no usage"
	switch {
	case errors.Is(err, usage.ErrUnreadableUsage):
		why = err.Error()
	case cut:
		why = "the answer was cut before its usage"
	case errors.Is(err, usage.ErrInvalidJSON):
		o.err = "could not read usage from the answer: " + err.Error()
		return
	case err != nil:
		why = "usage could not be read: " + err.Error()
	default:
		o.err = why
		return
	}
	o.usage = usage.Usage{Tokens: tokens.Tokens{InputTokens: x.worst.in, OutputTokens: x.worst.out}}
	o.cost = x.worst.cost
	o.partial = true
	o.err = why + "; charged the request's worst case"
}
