package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// relayStream passes an SSE answer through event by event, each flushed as
// soon as its blank line arrives, while a meter reads its usage. The cost,
// known only at the end, is sent as the trailer X-Sluice-Cost-USD.
func (x *exchange) relayStream(ctx context.Context, status int, body io.Reader, stripUsage bool, o *outcome) {
	span := x.startStreamSpan(ctx)
	rd := readerPool.Get().(*sse.Reader)
	rd.Reset(body)
	defer func() { rd.Reset(nil); readerPool.Put(rd) }()
	s := streamRelay{x: x, rd: rd, meter: *usage.NewStreamMeter(string(x.upProto)), stripUsage: stripUsage, observe: x.recording()}
	if x.tr != nil {
		s.st = newStreamTranslator(x.tr)
	}
	s.begin(status, o)
	for !s.clientGone && s.step() {
	}
	s.end(status)
	cut := cutAtShutdown(x.r)
	if x.r.Context().Err() != nil && !cut {
		s.clientGone = true
	}
	s.endWithError(ctx, status, cut, o)
	s.charge(ctx, status, cut, o)
	span.end(o, s.events)
}

// streamRelay is the state of one SSE answer on its way to the client.
type streamRelay struct {
	x  *exchange
	rc *http.ResponseController
	rd *sse.Reader
	// meter is held by value: a pointer in the struct would put it on the
	// heap.
	meter usage.StreamMeter
	// st translates the events when the caller speaks another API.
	st         *streamTranslator
	stripUsage bool
	// late is the exchange's header timer until the first event is here.
	late *lateHeaders
	// upstreamErr is why the upstream's stream (or its translation) failed.
	upstreamErr error
	clientGone  bool
	// unflushed is set while events written to the client wait for a flush.
	unflushed bool
	// observe is set while the server span records: events counts the
	// events relayed, and each is read for the answer's model and finish
	// reasons.
	observe bool
	events  int
}

// begin sends the status and arms the header timer: the headers leave
// with the first event, in one write, unless that event is slow to come.
func (s *streamRelay) begin(status int, o *outcome) {
	x := s.x
	h := x.w.Header()
	h.Del("Content-Length")
	o.streamed = true
	o.priced = x.info.priced
	if o.priced {
		h.Set("Trailer", "X-Sluice-Cost-USD")
	}
	s.rc = http.NewResponseController(x.w)
	x.w.WriteHeader(status)
	s.late = &x.late
	s.late.start(s.rc)
	s.clientGone = x.r.Context().Err() != nil
}

// step relays the next event; false when the relay stops: at the end of
// the stream, when the upstream failed or when the client left.
func (s *streamRelay) step() bool {
	// Flush before waiting on the upstream, not after every event: each
	// flush is a write to the client's socket, and events that arrived in
	// one read (common under load) can share it. No event waits in the
	// buffer while the relay waits for the next one.
	if s.unflushed && !s.rd.Buffered() {
		if err := s.rc.Flush(); err != nil {
			s.clientGone = true
			return false
		}
		s.unflushed = false
	}
	ev, err := s.rd.Next()
	s.stopLate()
	if err != nil {
		if err != io.EOF {
			s.upstreamErr = err
		}
		return false
	}
	if s.clientGone {
		return false
	}
	if out := s.pass(ev); len(out) > 0 && !s.write(out) {
		return false
	}
	return s.upstreamErr == nil
}

// stopLate stops the header timer once the first event (or the end) is
// here: the headers go with it unless the timer sent them already.
func (s *streamRelay) stopLate() {
	if s.late != nil {
		if s.late.stop() != nil {
			s.clientGone = true
		}
		s.late = nil
	}
}

// pass meters ev and returns what the client gets of it: ev translated,
// nothing for a usage-only chunk to strip, else ev as it came.
func (s *streamRelay) pass(ev sse.Event) []byte {
	s.meter.Observe(ev)
	if s.observe {
		s.events++
		s.x.observe(ev.Data)
	}
	if s.st != nil {
		out, err := s.st.translate(ev)
		if err != nil {
			s.upstreamErr = err
		}
		return out
	}
	if s.stripUsage && s.meter.IsUsageOnlyChunk(ev) {
		return nil
	}
	return ev.Raw
}

// write sends b to the client, to be flushed later; false when the client
// is gone.
func (s *streamRelay) write(b []byte) bool {
	if _, err := s.x.w.Write(b); err != nil {
		s.clientGone = true
		return false
	}
	s.unflushed = true
	return true
}

// end closes a translated stream, stops the header timer if the client
// left before the first event, and flushes the rest.
func (s *streamRelay) end(status int) {
	if s.st != nil && s.upstreamErr == nil && !s.clientGone && !cutAtShutdown(s.x.r) {
		s.endTranslated(status)
	}
	if s.late != nil { // the client left before the loop began
		_ = s.late.stop()
	}
	if s.unflushed && !s.clientGone && s.rc.Flush() != nil {
		s.clientGone = true
	}
}

// endTranslated writes the caller's API's end of a translated stream, or,
// when the provider's stream stopped before its answer finished, takes
// that as the upstream's failure.
func (s *streamRelay) endTranslated(status int) {
	switch {
	case s.st.finished:
		if end := s.st.end(); len(end) > 0 { // nothing when the last event closed the stream
			s.write(end)
		}
	case s.x.r.Context().Err() == nil && status < 300:
		s.upstreamErr = errors.New("the provider's stream ended before the answer finished")
	}
}

// endWithError ends a stream the gateway's shutdown cut (cut), or whose
// upstream failed after the answer began, with an error event the client's
// SDK raises rather than a silent cut: no other target may take over now.
func (s *streamRelay) endWithError(ctx context.Context, status int, cut bool, o *outcome) {
	x := s.x
	var aerr *apiError
	switch {
	case s.clientGone:
		return
	case cut:
		aerr = refuse(http.StatusServiceUnavailable, "shutting_down", shutdownMessage)
	case s.upstreamErr != nil && status < 300:
		o.broke = true
		what := "the upstream stream failed after the answer began: " + x.scrub(s.upstreamErr)
		var ue *protocol.UpstreamError
		switch {
		case errors.Is(context.Cause(ctx), errStreamIdle):
			what = "the upstream stream went idle after the answer began and was cut"
		case errors.As(s.upstreamErr, &ue):
			what = fmt.Sprintf("the %s provider ended the stream with an error: %s", x.upProto, x.scrub(s.upstreamErr))
		}
		aerr = refuse(http.StatusBadGateway, "upstream_stream_failed", what+"; the answer is incomplete")
	default:
		return
	}
	if _, err := x.w.Write(x.streamError(aerr)); err == nil {
		_ = s.rc.Flush()
	}
}

// charge prices the stream's usage into o and sends the cost trailer. A
// stream without its usage (cut, failed, left or silent) is charged the
// tokens estimated from what was streamed, and o says why.
func (s *streamRelay) charge(ctx context.Context, status int, cut bool, o *outcome) {
	x := s.x
	u := s.meter.Usage()
	if status < 300 && s.meter.Partial() {
		o.partial = true
		if u.InputTokens == 0 {
			u.InputTokens = usage.EstimateInputTokens(x.body)
		}
		o.err, o.failure = s.whyPartial(ctx, cut)
	} else if status >= 300 {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	var note string
	o.usage, o.cost, note = x.charge(u)
	if note != "" {
		o.partial = true
		o.err = strings.TrimPrefix(o.err+"; "+note, "; ")
	}
	if o.priced && !s.clientGone {
		x.w.Header().Set("X-Sluice-Cost-USD", o.cost.Decimal())
	}
}

// whyPartial says why a stream's usage is estimated, and the failure
// class when the upstream is to blame.
func (s *streamRelay) whyPartial(ctx context.Context, cut bool) (why, failure string) {
	const estimated = "; tokens estimated from what was streamed"
	switch {
	case cut:
		return "stream cut at gateway shutdown" + estimated, ""
	case s.meter.Err() != nil:
		return s.meter.Err().Error() + estimated, ""
	case s.clientGone:
		return "client disconnected mid-stream" + estimated, ""
	case errors.Is(context.Cause(ctx), errStreamIdle):
		return "upstream stream went idle and was cut" + estimated, FailureStream
	case s.upstreamErr != nil:
		return "upstream stream failed: " + s.x.scrub(s.upstreamErr) + estimated, FailureStream
	}
	return "stream ended without reporting usage" + estimated, ""
}

// readerPool keeps SSE readers (and their 4 KiB buffers) across streams:
// Reset drops a buffer a huge event grew.
var readerPool = sync.Pool{New: func() any { return sse.NewReader(nil) }}

// headerFlushDelay is how long a stream's response headers may wait for
// its first event, so that both reach the client in one write (one syscall
// and one packet fewer per stream). Upstreams usually send the first event
// with their headers; one that takes longer still has its headers relayed
// this soon after they arrived.
const headerFlushDelay = 10 * time.Millisecond

// lateHeaders flushes a stream's response headers from a timer when the
// first event is slower than headerFlushDelay. The timer and the relay
// never use the ResponseWriter at once: the relay only reads the upstream
// until stop has returned.
type lateHeaders struct {
	mu   sync.Mutex
	rc   *http.ResponseController
	t    *time.Timer
	done bool  // flushed by the timer, or stopped
	err  error // of the timer's flush: the client is gone
}

// start arms the timer. h lives in the exchange, which is on the heap
// anyway, so only the timer is allocated per stream.
func (h *lateHeaders) start(rc *http.ResponseController) {
	h.rc = rc
	h.t = time.AfterFunc(headerFlushDelay, h.fire)
}

func (h *lateHeaders) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done {
		h.done = true
		h.err = h.rc.Flush()
	}
}

// stop cancels the timer, or waits for its flush to end; the caller owns
// the ResponseWriter again. The error is the timer's failed flush.
func (h *lateHeaders) stop() error {
	h.t.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	return h.err
}
