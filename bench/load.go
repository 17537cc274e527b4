package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one closed-loop step: Concurrency workers each send a request,
// wait for the whole answer, and send the next.
type loadSpec struct {
	URL    string
	Header http.Header
	Body   []byte
	// Stream reads the answer as SSE: time to first event is recorded and an
	// answer that does not end with "data: [DONE]" counts as an error.
	Stream      bool
	Concurrency int
	// Warmup requests fill the connection pool and the target's caches and
	// are not recorded.
	Warmup time.Duration
	// Duration is the measured window. When Requests is set instead, the
	// step measures exactly that many requests.
	Duration time.Duration
	Requests int
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
	// CPU, when set, reads the target process's CPU time; it is read when the
	// measured window opens and when it closes.
	CPU func() (time.Duration, error)
	// DBCPU, when set, reads the CPU time of the target's database server,
	// at the same moments.
	DBCPU func() (time.Duration, error)
}

// loadResult is what one step measured. Latencies and TTFB are sorted and
// hold successful requests only; Requests counts errors too.
type loadResult struct {
	Requests   int
	Errors     int
	FirstError string
	Elapsed    time.Duration
	Latencies  []time.Duration
	TTFB       []time.Duration
	// CPU is the target's CPU time over the window, zero without spec.CPU.
	CPU    time.Duration
	CPUErr error
	// DBCPU is its database server's CPU time over the window, zero
	// without spec.DBCPU.
	DBCPU time.Duration
}

// RPS is the measured requests per second, errors included (an error that
// answers fast must not look like throughput, so check Errors too).
func (r *loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// CPUPerRequest is the target's CPU time per request over the window.
func (r *loadResult) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// DBCPUPerRequest is the database server's CPU time per request.
func (r *loadResult) DBCPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.DBCPU / time.Duration(r.Requests)
}

// P is the p-th percentile latency (0 < p ≤ 100).
func (r *loadResult) P(p float64) time.Duration { return percentile(r.Latencies, p) }

// TTFBP is the p-th percentile time to the first SSE event.
func (r *loadResult) TTFBP(p float64) time.Duration { return percentile(r.TTFB, p) }

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest value that at least p% of the samples do not exceed. It never
// interpolates, so every reported latency is one a request really had.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// mergeLoad joins two measurements of the same step on the same target
// (turns of a round-robin) into one, as if measured in one window: counts,
// time and CPU add up, and the latencies are merged in order. a may be nil.
func mergeLoad(a, b *loadResult) *loadResult {
	if a == nil {
		return b
	}
	m := &loadResult{
		Requests:   a.Requests + b.Requests,
		Errors:     a.Errors + b.Errors,
		FirstError: cmp.Or(a.FirstError, b.FirstError),
		Elapsed:    a.Elapsed + b.Elapsed,
		Latencies:  mergeSorted(a.Latencies, b.Latencies),
		TTFB:       mergeSorted(a.TTFB, b.TTFB),
		CPU:        a.CPU + b.CPU,
		CPUErr:     cmp.Or(a.CPUErr, b.CPUErr),
		DBCPU:      a.DBCPU + b.DBCPU,
	}
	return m
}

// mergeSorted merges two ascending slices into a new ascending one.
func mergeSorted(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// newLoadTransport returns the keep-alive transport of one step, shared by
// all its workers, with an idle pool as large as the step's concurrency so
// that no request pays for a new connection once warm.
func newLoadTransport(concurrency int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency + 16,
		MaxIdleConnsPerHost: concurrency + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// runLoad runs one closed-loop step and returns its measurements. It fails
// only when the step cannot run at all; request failures are counted.
func runLoad(ctx context.Context, spec loadSpec) (*loadResult, error) {
	if spec.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency %d: need at least 1 worker", spec.Concurrency)
	}
	if spec.Duration <= 0 && spec.Requests <= 0 {
		return nil, errors.New("a step needs a duration or a request count")
	}
	if spec.Timeout <= 0 {
		spec.Timeout = 30 * time.Second
	}
	tr := newLoadTransport(spec.Concurrency)
	defer tr.CloseIdleConnections()

	start := time.Now()
	measureFrom := start.Add(spec.Warmup)
	var measureTo time.Time // zero in request-count mode
	if spec.Requests <= 0 {
		measureTo = measureFrom.Add(spec.Duration)
	}

	res := &loadResult{}
	var cpuStart, dbStart time.Duration
	var dbErr error
	var cpuOnce sync.Once
	openWindow := func() {
		cpuOnce.Do(func() {
			if spec.CPU != nil {
				cpuStart, res.CPUErr = spec.CPU()
			}
			if spec.DBCPU != nil {
				dbStart, dbErr = spec.DBCPU()
			}
		})
	}
	windowTimer := time.AfterFunc(spec.Warmup, openWindow)
	defer windowTimer.Stop()

	var tickets atomic.Int64 // request-count mode: measured requests claimed
	workers := make([]*worker, spec.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{spec: &spec, client: tr, header: spec.Header.Clone(), buf: make([]byte, 16<<10)}
		if w.header == nil {
			w.header = http.Header{}
		}
		w.header.Set("Content-Type", "application/json")
		workers[i] = w
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				measured := !t0.Before(measureFrom)
				if measured && spec.Requests > 0 && tickets.Add(1) > int64(spec.Requests) {
					return
				}
				if measured && spec.Requests <= 0 && !t0.Before(measureTo) {
					return
				}
				lat, ttfb, err := w.do(ctx)
				if !measured {
					continue
				}
				w.record(lat, ttfb, err)
			}
		})
	}
	var closeOnce sync.Once
	var cpuEnd, dbEnd time.Duration
	var cpuEndErr, dbEndErr error
	closeWindow := func() {
		closeOnce.Do(func() {
			if spec.CPU != nil {
				cpuEnd, cpuEndErr = spec.CPU()
			}
			if spec.DBCPU != nil {
				dbEnd, dbEndErr = spec.DBCPU()
			}
		})
	}
	if spec.Requests <= 0 {
		endTimer := time.AfterFunc(time.Until(measureTo), closeWindow)
		defer endTimer.Stop()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("step interrupted: %w", err)
	}
	openWindow() // a step shorter than its warm-up still reads a start
	closeWindow()
	end := time.Now()
	if spec.Requests <= 0 {
		res.Elapsed = spec.Duration
	} else {
		res.Elapsed = end.Sub(measureFrom)
	}
	if res.CPUErr == nil {
		res.CPUErr = cpuEndErr
	}
	if spec.CPU != nil && res.CPUErr == nil {
		res.CPU = cpuEnd - cpuStart
	}
	if spec.DBCPU != nil && dbErr == nil && dbEndErr == nil {
		res.DBCPU = dbEnd - dbStart
	}
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		if res.FirstError == "" {
			res.FirstError = w.firstError
		}
		res.Latencies = append(res.Latencies, w.latencies...)
		res.TTFB = append(res.TTFB, w.ttfb...)
	}
	slices.Sort(res.Latencies)
	slices.Sort(res.TTFB)
	return res, nil
}

// worker is one closed-loop client; its results are merged after the step,
// so recording takes no lock.
type worker struct {
	spec       *loadSpec
	client     http.RoundTripper
	header     http.Header
	buf        []byte
	requests   int
	errors     int
	firstError string
	latencies  []time.Duration
	ttfb       []time.Duration
}

func (w *worker) record(lat, ttfb time.Duration, err error) {
	w.requests++
	if err != nil {
		w.errors++
		if w.firstError == "" {
			w.firstError = err.Error()
		}
		return
	}
	w.latencies = append(w.latencies, lat)
	if w.spec.Stream {
		w.ttfb = append(w.ttfb, ttfb)
	}
}

// do sends one request and reads the whole answer. For a stream, ttfb is
// the time until the first complete "data:" event arrived.
func (w *worker) do(ctx context.Context) (lat, ttfb time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.spec.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.spec.URL, bytes.NewReader(w.spec.Body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header = w.header
	t0 := time.Now()
	resp, err := w.client.RoundTrip(req)
	if err != nil {
		return 0, 0, fmt.Errorf("send: %w", err)
	}
	defer drainAndClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		n, _ := io.ReadFull(resp.Body, w.buf[:min(len(w.buf), 300)])
		return 0, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(w.buf[:n]))
	}
	if !w.spec.Stream {
		if _, err := io.CopyBuffer(io.Discard, onlyReader{resp.Body}, w.buf); err != nil {
			return 0, 0, fmt.Errorf("read body: %w", err)
		}
		return time.Since(t0), 0, nil
	}
	ttfb, err = readStream(resp.Body, w.buf, t0)
	if err != nil {
		return 0, 0, err
	}
	return time.Since(t0), ttfb, nil
}

// onlyReader hides io.Discard's ReaderFrom so io.CopyBuffer uses the
// worker's buffer instead of borrowing one from a shared pool.
type onlyReader struct{ io.Reader }

var (
	sseData = []byte("data:")
	sseDone = []byte("data: [DONE]")
)

// readStream reads an SSE body to its end, returning the time from t0 until
// the first whole data event had arrived. buf must hold at least 64 bytes.
func readStream(body io.Reader, buf []byte, t0 time.Time) (time.Duration, error) {
	var ttfb time.Duration
	var head []byte // the start of the body, until its first event is whole
	var tail [32]byte
	tailLen := 0
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if ttfb == 0 {
				head = append(head, buf[:n]...)
				if i := bytes.Index(head, sseData); i >= 0 && bytes.Contains(head[i:], []byte("\n\n")) {
					ttfb = time.Since(t0)
					head = nil
				}
			}
			tailLen = keepTail(&tail, tailLen, buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read stream: %w", err)
		}
	}
	if ttfb == 0 {
		return 0, errors.New("stream carried no data event")
	}
	if !bytes.Contains(tail[:tailLen], sseDone) {
		return 0, fmt.Errorf("stream did not end with data: [DONE] (ended %q)", tail[:tailLen])
	}
	return ttfb, nil
}

// keepTail keeps the last len(tail) bytes seen across reads.
func keepTail(tail *[32]byte, n int, p []byte) int {
	if len(p) >= len(tail) {
		return copy(tail[:], p[len(p)-len(tail):])
	}
	if n+len(p) > len(tail) {
		drop := n + len(p) - len(tail)
		copy(tail[:], tail[drop:n])
		n -= drop
	}
	return n + copy(tail[n:], p)
}

// openStreamsResult is what holding many streams open measured.
type openStreamsResult struct {
	Wanted, Open, Errors int
	FirstError           string
}

// openStreams opens n streams at once against a target whose upstream holds
// each stream after its first event, waits until every one has delivered
// that event (or wait passed), calls sample while they are all open, then
// closes them.
func openStreams(ctx context.Context, url string, header http.Header, body []byte, n int, wait time.Duration, sample func()) openStreamsResult {
	res := openStreamsResult{Wanted: n}
	tr := newLoadTransport(n)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hdr := header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Content-Type", "application/json")

	var mu sync.Mutex
	var open sync.WaitGroup
	open.Add(n)
	var all sync.WaitGroup
	fail := func(err error) {
		if ctx.Err() != nil {
			return // closed by the harness, not failed
		}
		mu.Lock()
		defer mu.Unlock()
		res.Errors++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	for range n {
		all.Go(func() {
			signalled := false
			signal := func() {
				if !signalled {
					signalled = true
					open.Done()
				}
			}
			defer signal()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				fail(err)
				return
			}
			req.Header = hdr
			resp, err := tr.RoundTrip(req)
			if err != nil {
				fail(fmt.Errorf("send: %w", err))
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				fail(fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b)))
				return
			}
			buf := make([]byte, 4096)
			var head []byte
			for {
				m, err := resp.Body.Read(buf)
				head = append(head, buf[:m]...)
				if bytes.Contains(head, sseData) && bytes.Contains(head, []byte("\n\n")) {
					mu.Lock()
					res.Open++
					mu.Unlock()
					signal()
					_, _ = io.Copy(io.Discard, resp.Body) // held until cancel
					return
				}
				if err != nil {
					fail(fmt.Errorf("stream ended before its first event: %w", err))
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { open.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
	case <-ctx.Done():
	}
	sample()
	cancel()
	all.Wait()
	return res
}
