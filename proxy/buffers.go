package proxy

import (
	"context"
	"time"

	"golang.org/x/sync/semaphore"
)

// bufferStep is how much of a body is read at a time. A body of unknown
// length is counted against the buffer budget a step at a time, before
// each step is read, so it holds budget only for bytes that arrived.
const bufferStep = 64 << 10

// buffers bounds the bytes of request and answer bodies held in memory at
// once by all requests. A request body must be held whole (it is checked,
// priced and perhaps sent to a second target), so it waits briefly for
// room and is refused with 503 if none comes; an answer never waits: one
// that finds no room is relayed as it arrives instead of being held.
type buffers struct {
	sem  *semaphore.Weighted
	wait time.Duration
}

func newBuffers(size int64, wait time.Duration) *buffers {
	return &buffers{sem: semaphore.NewWeighted(size), wait: wait}
}

// acquire takes n bytes, waiting at most b.wait (and not past ctx).
func (b *buffers) acquire(ctx context.Context, n int64) error {
	if b.sem.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	return b.sem.Acquire(ctx, n)
}

// tryAcquire takes n bytes if they are free now.
func (b *buffers) tryAcquire(n int64) bool { return b.sem.TryAcquire(n) }

func (b *buffers) release(n int64) {
	if n > 0 {
		b.sem.Release(n)
	}
}
