package proxy

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/database"
)

// lastUsed records when keys were used without a write per request: each
// key is marked at most once a minute (an atomic compare on the hot path)
// and the marked keys are written together every interval.
type lastUsed struct {
	db  *database.DB
	log *slog.Logger

	seen sync.Map // key id → *atomic.Int64, unix seconds of the last mark

	mu      sync.Mutex
	pending map[int]time.Time
}

func newLastUsed(db *database.DB, log *slog.Logger) *lastUsed {
	return &lastUsed{db: db, log: log, pending: make(map[int]time.Time)}
}

// touch notes that key id was used at now.
func (l *lastUsed) touch(id int, now time.Time) {
	sec := now.Unix()
	v, ok := l.seen.Load(id)
	if !ok {
		v, _ = l.seen.LoadOrStore(id, new(atomic.Int64))
	}
	last := v.(*atomic.Int64)
	prev := last.Load()
	if sec-prev < 60 || !last.CompareAndSwap(prev, sec) {
		return
	}
	l.mu.Lock()
	l.pending[id] = now
	l.mu.Unlock()
}

func (l *lastUsed) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.write(ctx)
		case <-ctx.Done():
			// Shutdown: one last write, not bound to the cancelled context.
			wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			l.write(wctx)
			cancel()
			return
		}
	}
}

// write stores the pending marks, all at the latest time marked:
// last_used_at is accurate to the write interval, which is all a "last
// used" column is for. database.MarkKeysUsed leaves updated_at, the time
// of the last admin change, alone.
func (l *lastUsed) write(ctx context.Context) {
	l.mu.Lock()
	ids := make([]int, 0, len(l.pending))
	var at time.Time
	for id, t := range l.pending {
		ids = append(ids, id)
		if t.After(at) {
			at = t
		}
	}
	clear(l.pending)
	l.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	if err := l.db.MarkKeysUsed(ctx, at.UTC().Truncate(time.Microsecond), ids); err != nil {
		// Losing a last-used mark is harmless; the next use marks again.
		l.log.Warn("could not record when API keys were last used", "keys", len(ids), "err", err)
	}
}
