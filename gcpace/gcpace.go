// Package gcpace paces Go's garbage collector for a gateway's heap.
//
// A gateway keeps little alive (a few MB: keys, prices, budget windows) and
// allocates a lot that dies at once (each request's buffers and headers,
// about 12 KB). Under the default GOGC=100 the collector starts a cycle
// whenever the heap doubles, so a 4 MB live heap is collected several times
// a second at a couple of thousand requests a second, and every cycle's mark
// phase slows the requests in flight (write barriers, mark assists, a core
// taken by the mark worker). That is most of the gateway's p99 at low
// concurrency and a tenth of its CPU under load.
//
// The pacer lets garbage grow by a fixed headroom between cycles while the
// live heap is small, and falls back to GOGC=100 (grow by the live heap)
// once the live heap is larger than the headroom, so memory stays
// proportional where it matters: 1,000 open streams keep tens of MB alive
// and are collected exactly as before.
//
// Headroom has a price when traffic stops: with nothing allocating, no
// cycle starts, and the garbage the last burst left (up to the headroom)
// would stay resident until the runtime's two-minute forced collection. So
// the pacer also watches the allocation rate and, after ten seconds of
// quiet, collects once and hands the freed memory back to the OS. Not
// sooner: memory handed back is faulted in again by the next burst, and
// with a one-second spell, traffic that came in bursts a few seconds apart
// paid for faulting the heap in again on every burst (the measurements are
// in docs/benchmarks.md).
package gcpace

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// DefaultHeadroom is the garbage allowed between cycles while the live heap
// is small: at 12 KB a request, one cycle per about 2,800 requests instead
// of one per 300.
const DefaultHeadroom = 32 << 20

// maxPercent bounds the percent for a nearly empty heap.
const maxPercent = 5000

// quietEvery is how often the pacer looks for quiet, quietAllocs the most
// a quiet check's interval allocates (an idle gateway's tickers allocate a
// few KB a second; one request about 12 KB), and quietChecks how many
// quiet checks in a row make a quiet spell.
var (
	quietEvery  = time.Second
	quietAllocs = uint64(256 << 10)
)

const quietChecks = 10

// Percent is the GOGC that makes the next cycle start after the heap grows
// by max(base, headroom), where base is what Go's pacer scales GOGC by:
// the live heap plus the stacks and globals it scans.
func Percent(base, headroom uint64) int {
	if base == 0 {
		return maxPercent
	}
	p := headroom * 100 / base
	return int(min(max(p, 100), maxPercent))
}

// Start paces the collector with the given headroom, re-tuned after every
// cycle, and returns memory to the OS when allocation goes quiet, until ctx
// ends (the percent then stays where it was). It does nothing when GOGC or
// GOMEMLIMIT is set in the environment: an operator's choice wins. It
// reports whether pacing started.
func Start(ctx context.Context, headroom uint64) bool {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	p := &pacer{ctx: ctx, headroom: headroom, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
	p.adjust()
	p.arm()
	go p.returnWhenQuiet(ctx)
	return true
}

// returnWhenQuiet collects and releases memory once per quiet spell:
// after quietChecks intervals in a row in which the program allocated
// less than quietAllocs each, following one in which it allocated more.
func (p *pacer) returnWhenQuiet(ctx context.Context) {
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	tick := time.NewTicker(quietEvery)
	defer tick.Stop()
	var last uint64
	quiet := 0
	busy := true // start-up itself leaves garbage behind
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(allocs)
		now := allocs[0].Value.Uint64()
		if now-last >= quietAllocs {
			quiet = 0
			busy = true
		} else {
			quiet++
		}
		last = now
		if busy && quiet >= quietChecks {
			debug.FreeOSMemory()
			busy = false
			metrics.Read(allocs) // the collection's own allocations are not traffic
			last = allocs[0].Value.Uint64()
		}
	}
}

type pacer struct {
	ctx      context.Context
	headroom uint64
	// mu serializes adjust: the finalizer goroutine calls it after every
	// cycle, and Start once.
	mu      sync.Mutex
	samples []metrics.Sample
	percent int
}

// sentinel is garbage from birth; its finalizer runs once per collection.
// It holds a pointer so it is not tiny-allocated (the runtime may never
// finalize tiny objects).
type sentinel struct{ p *pacer }

// arm allocates the next sentinel: the finalizer goroutine runs adjust after
// the cycle that found the previous one unreachable, then re-arms, until
// the pacer's context ends.
func (p *pacer) arm() {
	runtime.SetFinalizer(&sentinel{p: p}, func(s *sentinel) {
		if s.p.ctx.Err() != nil {
			return
		}
		s.p.adjust()
		s.p.arm()
	})
}

// adjust sets the percent from what the last cycle found alive. Changes
// under a tenth are skipped: SetGCPercent takes the heap lock.
func (p *pacer) adjust() {
	p.mu.Lock()
	defer p.mu.Unlock()
	metrics.Read(p.samples)
	var base uint64
	for _, s := range p.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			base += s.Value.Uint64()
		}
	}
	want := Percent(base, p.headroom)
	if d := want - p.percent; d*10 > p.percent || -d*10 > p.percent {
		debug.SetGCPercent(want)
		p.percent = want
	}
}
