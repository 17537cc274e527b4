// Package usagelog writes the proxy's usage records to the database off the
// request path: requests queue a Record in memory (never waiting on the
// database) and one goroutine inserts them in batches with a multi-row
// INSERT. A database outage of a few seconds costs nothing: the batch is
// retried with back-off, in order, while new records queue behind it up to
// a bound whose overflow is counted and logged. Close drains the queue, so a
// graceful shutdown loses no record.
package usagelog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/money"
)

// Record is one proxied request, field for field ent's UsageRecord.
type Record struct {
	CreatedAt         time.Time
	RequestID         string
	OrganizationID    int
	ServiceID         int
	APIKeyID          int
	CredentialID      *int
	Protocol          string
	Endpoint          string
	Model             string
	InputTokens       int64
	OutputTokens      int64
	CachedInputTokens int64
	Cost              money.Micros
	// Priced is false when the model has no price: Cost is then unknown,
	// not zero.
	Priced    bool
	Status    int
	Error     string
	LatencyUs int64
	TTFBUs    *int64
	Streamed  bool
	Partial   bool
	// Failure classifies a failed request for the operators' metrics
	// (proxy.Failure*); it is not stored.
	Failure string
	// Attempts lists the upstream tries of a routed request (a service
	// with targets); nil otherwise, which stores nothing.
	Attempts []schema.Attempt
}

// Options tune a Writer; zero values take the defaults.
type Options struct {
	// QueueSize bounds the records waiting in memory (default 100,000,
	// about 25 MB at worst). Beyond it records are dropped, counted and
	// logged, rather than slowing requests down.
	QueueSize int
	// BatchSize is the most rows one INSERT writes (default 500), and the
	// queue length that triggers a write before Interval is up.
	BatchSize int
	// Interval is how often queued records are written (default 200 ms).
	Interval time.Duration
	// MaxBackoff caps the wait between retries of a failed batch
	// (default 5 s).
	MaxBackoff time.Duration
	// InTx, when set, runs in the transaction that inserts each batch, so
	// derived data (hourly roll-ups) commits or fails with the rows.
	InTx func(ctx context.Context, tx *ent.Tx, batch []Record) error
	// OnWrite is called with each batch after it is committed, from the
	// writer goroutine (so it must not block for long), for live-usage
	// subscriptions. The slice is reused afterwards: copy what you keep.
	OnWrite func(batch []Record)
	// Dialect, when set (dialect.SQLite or dialect.Postgres), writes each
	// batch with one hand-written multi-row INSERT instead of ent's bulk
	// create, which also reads back every new row's ID: a tenth of the
	// gateway's CPU under load, for IDs nobody uses.
	Dialect string
	Log     *slog.Logger
}

// Writer queues and writes usage records. Its methods are safe for
// concurrent use.
type Writer struct {
	client *ent.Client
	opts   Options
	log    *slog.Logger

	mu      sync.Mutex
	queue   []Record
	closing bool

	wake    chan struct{}
	flushes chan chan struct{}
	done    chan struct{}
	// stop aborts retries once Close's context ends.
	stop     context.CancelFunc
	stopCtx  context.Context
	dropped  atomic.Uint64
	written  atomic.Uint64
	lastWarn atomic.Int64 // unix nanoseconds of the last overflow warning
}

// New starts a writer over client.
func New(client *ent.Client, opts Options) *Writer {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100_000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Writer{
		client:  client,
		opts:    opts,
		log:     opts.Log,
		wake:    make(chan struct{}, 1),
		flushes: make(chan chan struct{}),
		done:    make(chan struct{}),
		stop:    stop,
		stopCtx: ctx,
	}
	go w.run()
	return w
}

// Add queues r without waiting. It returns false when the record was
// dropped: the queue is full (the database has been unreachable for long)
// or the writer is closed.
func (w *Writer) Add(r Record) bool {
	w.mu.Lock()
	if w.closing || len(w.queue) >= w.opts.QueueSize {
		w.mu.Unlock()
		w.overflow()
		return false
	}
	w.queue = append(w.queue, r)
	full := len(w.queue) >= w.opts.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// overflow counts a dropped record and warns at most once a second, so a
// long outage does not flood the log as well.
func (w *Writer) overflow() {
	n := w.dropped.Add(1)
	now := time.Now().UnixNano()
	last := w.lastWarn.Load()
	if now-last >= int64(time.Second) && w.lastWarn.CompareAndSwap(last, now) {
		w.log.Error("usage record queue full or closed; records dropped", "dropped_total", n, "queue_size", w.opts.QueueSize)
	}
}

// Dropped is how many records were lost to a full queue or a closed writer.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many records have been committed.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Pending is how many records wait to be written.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Flush returns once every record queued before the call is written, or
// with ctx's error. Tests use it; the proxy never waits on it.
func (w *Writer) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	select {
	case w.flushes <- ch:
	case <-w.done:
		return errors.New("usage log: writer closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting records and writes everything queued, retrying
// while the database is down, until ctx ends; records still unwritten then
// are counted as dropped and logged.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	already := w.closing
	w.closing = true
	w.mu.Unlock()
	if !already {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.stop()
		<-w.done
		return fmt.Errorf("usage log: close: %w", ctx.Err())
	}
}

func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.opts.Interval)
	defer tick.Stop()
	batch := make([]Record, 0, w.opts.BatchSize)
	for {
		var flushed chan struct{}
		select {
		case <-tick.C:
		case <-w.wake:
		case flushed = <-w.flushes:
		}
		// Write everything queued now; records arriving meanwhile wait for
		// the next round unless this round is draining for Close or Flush.
		for {
			batch = w.take(batch[:0])
			if len(batch) == 0 {
				break
			}
			if !w.write(batch) {
				w.abandon(batch)
				return
			}
		}
		if flushed != nil {
			close(flushed)
		}
		w.mu.Lock()
		closing := w.closing && len(w.queue) == 0
		w.mu.Unlock()
		if closing {
			return
		}
	}
}

// take moves up to BatchSize records from the queue into batch.
func (w *Writer) take(batch []Record) []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.queue), w.opts.BatchSize)
	batch = append(batch, w.queue[:n]...)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:]) // drop string references for the GC
	w.queue = w.queue[:rest]
	return batch
}

// write inserts batch, retrying with back-off until it succeeds; false when
// Close's deadline ended the retries.
func (w *Writer) write(batch []Record) bool {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.insert(w.stopCtx, batch)
		if err == nil {
			w.written.Add(uint64(len(batch)))
			if w.opts.OnWrite != nil {
				w.opts.OnWrite(batch)
			}
			return true
		}
		if w.stopCtx.Err() != nil {
			return false
		}
		w.log.Warn("writing usage records failed; retrying", "records", len(batch), "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-w.stopCtx.Done():
			return false
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
}

// abandon counts what Close could not write in time.
func (w *Writer) abandon(batch []Record) {
	w.mu.Lock()
	n := len(batch) + len(w.queue)
	w.queue = nil
	w.mu.Unlock()
	w.dropped.Add(uint64(n))
	w.log.Error("usage log closed before the database accepted every record; records lost", "records", n)
}

func (w *Writer) insert(ctx context.Context, batch []Record) error {
	if w.opts.InTx == nil && w.opts.Dialect == "" {
		return w.client.UsageRecord.CreateBulk(builders(w.client, batch)...).Exec(ctx)
	}
	tx, err := w.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if w.opts.Dialect != "" {
		err = insertRows(ctx, tx, w.opts.Dialect, batch)
	} else {
		err = tx.UsageRecord.CreateBulk(builders(tx.Client(), batch)...).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if w.opts.InTx == nil {
		return tx.Commit()
	}
	if err := w.opts.InTx(ctx, tx, batch); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func builders(c *ent.Client, batch []Record) []*ent.UsageRecordCreate {
	out := make([]*ent.UsageRecordCreate, len(batch))
	for i := range batch {
		r := &batch[i]
		created := r.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		out[i] = c.UsageRecord.Create().
			SetCreatedAt(created.UTC()).
			SetRequestID(r.RequestID).
			SetOrganizationID(r.OrganizationID).
			SetServiceID(r.ServiceID).
			SetAPIKeyID(r.APIKeyID).
			SetNillableCredentialID(r.CredentialID).
			SetProtocol(r.Protocol).
			SetEndpoint(r.Endpoint).
			SetModel(r.Model).
			SetInputTokens(r.InputTokens).
			SetOutputTokens(r.OutputTokens).
			SetCachedInputTokens(r.CachedInputTokens).
			SetCost(r.Cost).
			SetPriced(r.Priced).
			SetStatus(r.Status).
			SetError(r.Error).
			SetLatencyUs(r.LatencyUs).
			SetNillableTtfbUs(r.TTFBUs).
			SetStreamed(r.Streamed).
			SetPartial(r.Partial)
		if len(r.Attempts) > 0 {
			out[i].SetAttempts(r.Attempts)
		}
	}
	return out
}

// usageColumns are the columns insertRows writes, in order.
const usageColumns = "created_at, request_id, organization_id, service_id, api_key_id, credential_id, protocol, endpoint, model, " +
	"input_tokens, output_tokens, cached_input_tokens, cost, priced, status, error, latency_us, ttfb_us, streamed, partial, attempts"

const usageColumnCount = 21

// insertRows writes a batch with one multi-row INSERT (500 rows × 21
// parameters stays under both databases' parameter limits).
func insertRows(ctx context.Context, tx *ent.Tx, dialectName string, batch []Record) error {
	var q strings.Builder
	q.Grow(len(usageColumns) + 64 + len(batch)*(usageColumnCount*3+4))
	q.WriteString("INSERT INTO usage_records (" + usageColumns + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", usageColumnCount), ", ") + ")"
	args := make([]any, 0, len(batch)*usageColumnCount)
	for i := range batch {
		r := &batch[i]
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		created := r.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		var attempts any
		if len(r.Attempts) > 0 {
			b, err := json.Marshal(r.Attempts)
			if err != nil {
				return fmt.Errorf("encode attempts: %w", err)
			}
			attempts = string(b)
		}
		var credential, ttfb any
		if r.CredentialID != nil {
			credential = *r.CredentialID
		}
		if r.TTFBUs != nil {
			ttfb = *r.TTFBUs
		}
		args = append(args, created.UTC(), r.RequestID, r.OrganizationID, r.ServiceID, r.APIKeyID, credential,
			r.Protocol, r.Endpoint, r.Model, r.InputTokens, r.OutputTokens, r.CachedInputTokens, int64(r.Cost),
			r.Priced, r.Status, r.Error, r.LatencyUs, ttfb, r.Streamed, r.Partial, attempts)
	}
	if _, err := tx.ExecContext(ctx, database.Rebind(dialectName, q.String()), args...); err != nil {
		return fmt.Errorf("insert usage records: %w", err)
	}
	return nil
}
