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
	h := x.w.Header()
	h.Del("Content-Length")
	o.streamed = true
	o.priced = x.info.priced
	if o.priced {
		h.Set("Trailer", "X-Sluice-Cost-USD")
	}
	rc := http.NewResponseController(x.w)
	x.w.WriteHeader(status)
	// The headers leave with the first event, in one write, unless that
	// event is slow to come.
	late := &x.late
	late.start(rc)
	clientGone := x.r.Context().Err() != nil
	rd := readerPool.Get().(*sse.Reader)
	rd.Reset(body)
	defer func() { rd.Reset(nil); readerPool.Put(rd) }()
	meter := usage.NewStreamMeter(string(x.upProto))
	var st *streamTranslator
	if x.tr != nil {
		st = newStreamTranslator(x.tr)
	}
	var upstreamErr error
	unflushed := false
	for !clientGone {
		// Flush before waiting on the upstream, not after every event: each
		// flush is a write to the client's socket, and events that arrived
		// in one read (common under load) can share it. No event waits in
		// the buffer while the relay waits for the next one.
		if unflushed && !rd.Buffered() {
			if err := rc.Flush(); err != nil {
				clientGone = true
				break
			}
			unflushed = false
		}
		ev, err := rd.Next()
		if late != nil {
			// The first event (or the end) is here; the headers go with it
			// unless the timer sent them already.
			clientGone = late.stop() != nil
			late = nil
		}
		if err != nil {
			if err != io.EOF {
				upstreamErr = err
			}
			break
		}
		if clientGone {
			break
		}
		meter.Observe(ev)
		out := ev.Raw
		if st != nil {
			var terr error
			if out, terr = st.translate(ev); terr != nil {
				upstreamErr = terr
			}
		} else if stripUsage && meter.IsUsageOnlyChunk(ev) {
			continue
		}
		if len(out) > 0 {
			if _, err := x.w.Write(out); err != nil {
				clientGone = true
				break
			}
			unflushed = true
		}
		if upstreamErr != nil {
			break
		}
	}
	if st != nil && upstreamErr == nil && !clientGone && !cutAtShutdown(x.r) {
		if st.finished {
			if _, err := x.w.Write(st.end()); err != nil {
				clientGone = true
			}
			unflushed = true
		} else if x.r.Context().Err() == nil && status < 300 {
			upstreamErr = errors.New("the provider's stream ended before the answer finished")
		}
	}
	if late != nil { // the client left before the loop began
		_ = late.stop()
	}
	if unflushed && !clientGone && rc.Flush() != nil {
		clientGone = true
	}
	u := meter.Usage()
	cut := cutAtShutdown(x.r)
	if x.r.Context().Err() != nil && !cut {
		clientGone = true
	}
	if cut && !clientGone {
		// The upstream read ended because the gateway is shutting down:
		// the client is told why its answer stops here.
		if _, err := x.w.Write(x.streamError(refuse(http.StatusServiceUnavailable, "shutting_down", shutdownMessage))); err == nil {
			_ = rc.Flush()
		}
	} else if upstreamErr != nil && !clientGone && status < 300 {
		// The answer has begun, so no other target may take over: end the
		// stream with an error the client's SDK raises, not a silent cut.
		o.broke = true
		what := "the upstream stream failed after the answer began: " + x.scrub(upstreamErr)
		var ue *protocol.UpstreamError
		switch {
		case errors.Is(context.Cause(ctx), errStreamIdle):
			what = "the upstream stream went idle after the answer began and was cut"
		case errors.As(upstreamErr, &ue):
			what = fmt.Sprintf("the %s provider ended the stream with an error: %s", x.upProto, x.scrub(upstreamErr))
		}
		if _, err := x.w.Write(x.streamError(refuse(http.StatusBadGateway, "upstream_stream_failed", what+"; the answer is incomplete"))); err == nil {
			_ = rc.Flush()
		}
	}
	if status < 300 && meter.Partial() {
		o.partial = true
		if u.InputTokens == 0 {
			u.InputTokens = usage.EstimateInputTokens(x.body)
		}
		switch {
		case cut:
			o.err = "stream cut at gateway shutdown; tokens estimated from what was streamed"
		case meter.Err() != nil:
			o.err = meter.Err().Error() + "; tokens estimated from what was streamed"
		case clientGone:
			o.err = "client disconnected mid-stream; tokens estimated from what was streamed"
		case errors.Is(context.Cause(ctx), errStreamIdle):
			o.err, o.failure = "upstream stream went idle and was cut; tokens estimated from what was streamed", FailureStream
		case upstreamErr != nil:
			o.err, o.failure = "upstream stream failed: "+x.scrub(upstreamErr)+"; tokens estimated from what was streamed", FailureStream
		default:
			o.err = "stream ended without reporting usage; tokens estimated from what was streamed"
		}
	} else if status >= 300 {
		o.err, o.failure = "upstream answered "+strconv.Itoa(status), statusFailure(status)
	}
	var note string
	o.usage, o.cost, note = x.charge(u)
	if note != "" {
		o.partial = true
		o.err = strings.TrimPrefix(o.err+"; "+note, "; ")
	}
	if o.priced && !clientGone {
		h.Set("X-Sluice-Cost-USD", usd(o.cost))
	}
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
