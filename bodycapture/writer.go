package bodycapture

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/secrets"
)

// Capture is one request's bodies on their way to the database, not yet
// redacted.
type Capture struct {
	CreatedAt                           time.Time
	RequestID                           string
	OrganizationID                      int
	ServiceID                           int
	Request, Response                   []byte
	RequestTruncated, ResponseTruncated bool
	ExpiresAt                           time.Time
	// redact are the service's own patterns.
	redact *Redactor
}

// Options tune a Writer; zero values take the defaults.
type Options struct {
	// QueueSize bounds the captures waiting in memory (default 256: with
	// the largest cap, 512 MiB at worst; with the default, 32 MiB).
	// Beyond it captures are dropped and counted, never waited for.
	QueueSize int
	// BatchSize is the most rows one insert writes (default 64).
	BatchSize int
	// Redact is the instance's patterns, applied to every service's
	// bodies after the built-in ones.
	Redact *Redactor
	Log    *slog.Logger
}

// Writer redacts, compresses, seals and stores captures off the request
// path. Its methods are safe for concurrent use.
type Writer struct {
	db   *database.DB
	ring *secrets.Keyring
	opts Options
	log  *slog.Logger
	// insert writes one batch; tests hold it to fill the queue.
	insert func(ctx context.Context, rows []*ent.RequestBodyCreate) error

	mu      sync.RWMutex
	closed  bool
	queue   chan Capture
	done    chan struct{}
	dropped atomic.Uint64
	written atomic.Uint64
}

// NewWriter starts a writer over db that seals with ring.
func NewWriter(db *database.DB, ring *secrets.Keyring, opts Options) *Writer {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 256
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 64
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	w := &Writer{db: db, ring: ring, opts: opts, log: opts.Log,
		queue: make(chan Capture, opts.QueueSize), done: make(chan struct{})}
	w.insert = func(ctx context.Context, rows []*ent.RequestBodyCreate) error {
		return db.Client.RequestBody.CreateBulk(rows...).Exec(ctx)
	}
	go w.run()
	return w
}

// Add queues c without waiting; false when it was dropped (the queue is
// full or the writer closed), which Dropped counts.
func (w *Writer) Add(c Capture) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.queue <- c:
			return true
		default:
		}
	}
	w.dropped.Add(1)
	return false
}

// Dropped is how many captures were lost: the queue was full, the writer
// closed, or their batch failed to be written.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many captures were stored.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Close writes what is queued and stops, or gives up when ctx ends.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close the body capture writer: %w", ctx.Err())
	}
}

// run writes what is queued as it comes, a batch of what waits at a time.
func (w *Writer) run() {
	defer close(w.done)
	batch := make([]Capture, 0, w.opts.BatchSize)
	for c := range w.queue {
		batch = append(batch[:0], c)
	more:
		for len(batch) < w.opts.BatchSize {
			select {
			case c, ok := <-w.queue:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		w.write(batch)
		clear(batch)
	}
}

// write stores one batch; a batch that fails is logged and counted as
// dropped: captures are a diagnostic aid, not a ledger.
func (w *Writer) write(batch []Capture) {
	rows := make([]*ent.RequestBodyCreate, 0, len(batch))
	for _, c := range batch {
		sealed, err := seal(w.ring, c, w.opts.Redact)
		if err != nil {
			w.dropped.Add(1)
			w.log.Error("seal captured bodies", "request_id", c.RequestID, "err", err)
			continue
		}
		rows = append(rows, w.db.Client.RequestBody.Create().
			SetCreatedAt(c.CreatedAt.UTC()).SetRequestID(c.RequestID).
			SetOrganizationID(c.OrganizationID).SetServiceID(c.ServiceID).
			SetExpiresAt(c.ExpiresAt.UTC()).SetKeyID(sealed.KeyID).SetCiphertext(sealed.Ciphertext).
			SetRequestTruncated(c.RequestTruncated).SetResponseTruncated(c.ResponseTruncated))
	}
	if len(rows) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.insert(ctx, rows); err != nil {
		w.dropped.Add(uint64(len(rows)))
		w.log.Warn("write captured bodies", "count", len(rows), "err", err)
		return
	}
	w.written.Add(uint64(len(rows)))
}
