// Package usagelog writes the proxy's usage records to the database off the
// request path: requests queue a Record in memory (never waiting on the
// database) and one goroutine inserts them in batches, one transaction a
// batch: PostgreSQL takes them with COPY, SQLite through one prepared
// INSERT, so neither parses SQL per record. A database outage of a few
// seconds costs nothing: the batch is retried with back-off, in order,
// while new records queue behind it up to a bound whose overflow is
// counted and logged; a batch whose COMMIT failed is looked up before it
// is written again, so it is never written twice. Close drains the queue,
// so a graceful shutdown loses no record. A Ledger writes each batch's
// budget spend in the batch's own transaction, so that a crash loses a
// request's record and its spend together or neither.
package usagelog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/requestid"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/traceid"
	"github.com/sluicehq/sluice/wirecode"
)

// Record is one proxied request: the one usage event, which the hourly
// roll-ups, the live feed and the metrics are derived from. Its stored
// fields are ent's UsageRecord's columns, written by row alone.
type Record struct {
	CreatedAt      time.Time
	RequestID      string
	OrganizationID int
	ServiceID      int
	APIKeyID       int
	CredentialID   *int
	Protocol       string
	// ProviderProtocol is the protocol of the upstream that answered;
	// it differs from Protocol when the request was translated, and is
	// empty (stored as NULL) when no upstream was called.
	ProviderProtocol string
	// TraceID is the request's W3C trace id; zero stores NULL.
	TraceID  traceid.ID
	Endpoint string
	Model    string
	// ModelEnabled is set when Model is one of the service's enabled
	// models, so an admin configured it; otherwise it is whatever the
	// client sent. It is not stored: the metrics label only enabled
	// models by name.
	ModelEnabled bool
	tokens.Tokens
	Cost money.Micros
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
	// Spend is the request's settled budget spend, which the Ledger makes
	// durable in the record's own transaction; nil for none.
	Spend *budget.Settlement
}

// Ledger is state that must be durable with the records it derives from:
// the budget's settled spend, so that a crash loses a request's record and
// its spend together or neither.
type Ledger interface {
	// Lock is held from before each batch's transaction begins until done
	// has run.
	sync.Locker
	// Write runs last in each batch's transaction; done is called once
	// it is known whether the transaction was applied: at once, or, when
	// its COMMIT failed, once a later attempt has looked (never, if Close
	// gives up first).
	Write(ctx context.Context, tx *sql.Tx, batch []Record) (done func(committed bool), err error)
}

// DefaultBatchSize is the default Options.BatchSize. Each batch is a burst
// of work beside the requests, with a transaction, a roll-up upsert and a
// commit of its own, so fewer, larger batches disturb the requests' tail
// latency less; smaller batches measured worse (docs/benchmarks.md has
// the figures).
const DefaultBatchSize = 2000

// Options tune a Writer; zero values take the defaults.
type Options struct {
	// QueueSize bounds the records waiting in memory (default 100,000,
	// about 25 MB at worst). Beyond it records are dropped, counted and
	// logged, rather than slowing requests down.
	QueueSize int
	// BatchSize is the most rows one transaction writes (default
	// DefaultBatchSize), and the queue length that triggers a write before
	// Interval is up.
	BatchSize int
	// Interval is how often queued records are written when fewer than
	// BatchSize wait (default 1 s). Each write is a burst of work beside
	// the requests; fewer, larger batches cost less CPU a record and
	// disturb fewer requests. A crash loses at most this much of the log
	// (and, with a Ledger, the spend of the same requests).
	Interval time.Duration
	// MaxBackoff caps the wait between retries of a failed batch
	// (default 5 s).
	MaxBackoff time.Duration
	// InTx, when set, runs in the transaction that inserts each batch, so
	// derived data (hourly roll-ups) commits or fails with the rows.
	InTx func(ctx context.Context, tx *sql.Tx, batch []Record) error
	// Ledger, when set, writes each batch's settled spend in its
	// transaction. Without one, a record's Spend is handed to the budget's
	// own flush as it is queued.
	Ledger Ledger
	// OnWrite is called with each batch after it is committed, from the
	// writer goroutine (so it must not block for long), for live-usage
	// subscriptions. The slice is reused afterwards: copy what you keep.
	OnWrite func(batch []Record)
	Log     *slog.Logger
}

// Writer queues and writes usage records. Its methods are safe for
// concurrent use.
type Writer struct {
	db   *database.DB
	opts Options
	log  *slog.Logger

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

// New starts a writer over db.
func New(db *database.DB, opts Options) *Writer {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100_000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Writer{
		db:      db,
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
// or the writer is closed. The spend of a record dropped, or of one no
// Ledger will write, goes to the budget's own flush: it still counts.
func (w *Writer) Add(r Record) bool {
	if w.opts.Ledger == nil {
		r.Spend.WriteBehind()
		r.Spend = nil
	}
	w.mu.Lock()
	if w.closing || len(w.queue) >= w.opts.QueueSize {
		w.mu.Unlock()
		r.Spend.WriteBehind()
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
// are counted as dropped and logged, and their spend goes to the budget's
// own flush (but for a batch whose COMMIT is in doubt, which may be
// written already).
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
	var batch []Record // grows to the largest batch taken, then is reused
	for {
		var flushed chan struct{}
		select {
		case <-tick.C:
		case <-w.wake:
		case flushed = <-w.flushes:
		}
		// Write what is queued. Records arriving meanwhile wait for the next
		// round unless a full batch has built up or this round drains for
		// Close or Flush: under load, draining to empty would write a
		// dozen-row batch every few milliseconds, paying a transaction,
		// a roll-up upsert and a commit for each (it was 250 commits a
		// second on PostgreSQL at 5,000 requests a second).
		w.mu.Lock()
		drain := flushed != nil || w.closing
		w.mu.Unlock()
		for {
			batch = w.take(batch[:0])
			if len(batch) == 0 {
				break
			}
			if ok, doubt := w.write(batch); !ok {
				w.abandon(batch, doubt)
				return
			}
			if !drain && w.Pending() < w.opts.BatchSize {
				break
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

// A batch whose COMMIT fails may have been applied all the same: the
// connection dropped while the answer was on its way. Writing it again
// would count its records and its spend twice. So such a batch stays in
// doubt, its Ledger's done uncalled, until the next attempt (under the
// Ledger's lock) looks its first record up: found, the batch is finished
// as if its COMMIT had answered; not found, it is written again. For the
// look-up to be exact, write stamps every record's CreatedAt once, before
// the first attempt, to the microsecond both databases store.

// inDoubt is a batch whose COMMIT failed: done finishes its Ledger write
// once whether it was applied is known.
type inDoubt struct{ done func(committed bool) }

// write inserts batch, retrying with back-off until it succeeds; false when
// Close's deadline ended the retries, with the batch's doubt if its last
// COMMIT failed.
func (w *Writer) write(batch []Record) (ok bool, _ *inDoubt) {
	stamp(batch, time.Now())
	backoff := 100 * time.Millisecond
	var doubt *inDoubt
	for attempt := 1; ; attempt++ {
		var err error
		doubt, err = w.insert(w.stopCtx, batch, doubt)
		if err == nil {
			w.written.Add(uint64(len(batch)))
			if w.opts.OnWrite != nil {
				w.opts.OnWrite(batch)
			}
			return true, nil
		}
		if w.stopCtx.Err() != nil {
			w.abandonDoubt(batch, doubt)
			return false, doubt
		}
		w.log.Warn("writing usage records failed; retrying", "records", len(batch), "attempt", attempt, "in_doubt", doubt != nil, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-w.stopCtx.Done():
			w.abandonDoubt(batch, doubt)
			return false, doubt
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
}

// stamp gives each record of batch its creation time for good: now where
// it has none, and truncated to the microsecond, which is all PostgreSQL
// keeps, so that every attempt writes the same value and the look-up of a
// batch in doubt finds it.
func stamp(batch []Record, now time.Time) {
	for i := range batch {
		r := &batch[i]
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	}
}

// abandonDoubt logs that Close gave up on a batch whose last COMMIT may
// have been applied: its records and its spend are in the database
// together or not at all. It is counted as dropped all the same.
func (w *Writer) abandonDoubt(batch []Record, doubt *inDoubt) {
	if doubt != nil {
		w.log.Error("usage log closed with a batch whose COMMIT failed; it may have been written, records and spend together, or not at all",
			"records", len(batch), "first_request_id", batch[0].RequestID)
	}
}

// abandon counts what Close could not write in time: batch (in doubt when
// doubt is set) and the queue. Their spend goes to the budget's own flush,
// so that it still counts, except a batch in doubt's: that may be in the
// database already, and counting it again would count it twice.
func (w *Writer) abandon(batch []Record, doubt *inDoubt) {
	w.mu.Lock()
	n := len(batch) + len(w.queue)
	queue := w.queue
	w.queue = nil
	w.mu.Unlock()
	if doubt == nil {
		for i := range batch {
			batch[i].Spend.WriteBehind()
			batch[i].Spend = nil
		}
	}
	for i := range queue {
		queue[i].Spend.WriteBehind()
	}
	w.dropped.Add(uint64(n))
	w.log.Error("usage log closed before the database accepted every record; records lost", "records", n)
}

// commitError is a COMMIT that failed: the batch may have been applied.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit usage records: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// insert writes batch in one transaction, or finishes it when doubt (an
// earlier attempt whose COMMIT failed) turns out to have been applied. It
// returns the batch's doubt while it is still, or newly, in doubt; a
// failure before COMMIT is rolled back and leaves none.
func (w *Writer) insert(ctx context.Context, batch []Record, doubt *inDoubt) (*inDoubt, error) {
	if l := w.opts.Ledger; l != nil {
		l.Lock()
		defer l.Unlock()
	}
	if doubt != nil {
		applied, err := w.applied(ctx, &batch[0])
		if err != nil {
			return doubt, err
		}
		doubt.done(applied)
		if applied {
			return nil, nil
		}
	}
	done := func(bool) {}
	tx, err := w.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if w.db.Dialect == dialect.Postgres {
		err = w.copyRows(ctx, tx, batch)
	} else {
		err = w.insertRows(ctx, tx, batch)
	}
	if err == nil && w.opts.InTx != nil {
		err = w.opts.InTx(ctx, tx, batch)
	}
	if err == nil && w.opts.Ledger != nil {
		done, err = w.opts.Ledger.Write(ctx, tx, batch)
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return &inDoubt{done: done}, &commitError{err}
	}
	done(true)
	return nil, nil
}

// applied reports whether first, a batch's first record, is stored: the
// batch's transaction was then applied.
func (w *Writer) applied(ctx context.Context, first *Record) (bool, error) {
	var one int
	err := w.db.SQL.QueryRowContext(ctx, appliedQuery[w.db.Dialect],
		first.APIKeyID, first.CreatedAt.UTC(), requestid.Encode(storable(first.RequestID))).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("find whether usage records whose COMMIT failed were written: %w", err)
	}
	return true, nil
}

// row fills vals (len(usageColumns) long) with r's column values.
func row(vals []any, r *Record) error {
	created := r.CreatedAt // stamped by write
	var attempts any
	if len(r.Attempts) > 0 {
		tries := r.Attempts
		cloned := false // the caller's slice is left as it was
		for i, a := range r.Attempts {
			if e := storable(a.Error); e != a.Error {
				if !cloned {
					tries, cloned = slices.Clone(r.Attempts), true
				}
				tries[i].Error = e
			}
		}
		b, err := json.Marshal(tries)
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
	copy(vals, []any{created.UTC(), requestid.Encode(storable(r.RequestID)), r.OrganizationID, r.ServiceID, r.APIKeyID, credential,
		wirecode.Protocols.Value(r.Protocol, false), wirecode.Endpoints.Value(r.Endpoint, false), storable(r.Model), r.InputTokens, r.OutputTokens, r.CachedInputTokens, r.CacheWriteTokens, r.CacheWrite1hTokens, int64(r.Cost),
		r.Priced, r.Status, storable(r.Error), r.LatencyUs, ttfb, r.Streamed, r.Partial, attempts, wirecode.Protocols.Value(r.ProviderProtocol, true), traceIDValue(r.TraceID)})
	return nil
}

// traceIDValue is id's column value: its 16 bytes, NULL for none.
func traceIDValue(id traceid.ID) any {
	if id.IsZero() {
		return nil
	}
	return id[:]
}

// storable makes s fit a PostgreSQL text column: valid UTF-8 (bad bytes
// become U+FFFD) and no NUL bytes, which PostgreSQL refuses in text and,
// escaped, in jsonb. The proxy checks what clients send, but a record
// PostgreSQL refused would hold up its batch and every batch after it, so
// the writer does not rely on that. Valid text is returned as it is.
func storable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// copyRows streams a batch into PostgreSQL with COPY: no statement to
// parse or plan per batch, and the server's cheapest way in for rows.
func (w *Writer) copyRows(ctx context.Context, tx *sql.Tx, batch []Record) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(usagerecord.Table, usageColumns...))
	if err != nil {
		return fmt.Errorf("start copying usage records: %w", err)
	}
	defer stmt.Close()
	vals := make([]any, len(usageColumns))
	for i := range batch {
		if err := row(vals, &batch[i]); err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("copy usage records: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy usage records: %w", err)
	}
	return nil
}

// chunkSizes are the row counts of SQLite's prepared multi-row INSERTs; a
// batch is written as the fewest chunks of these sizes (437 rows: 4 × 100,
// 3 × 10, 7 × 1). Parsing a 500-row VALUES list every batch took SQLite as
// long as inserting the rows; one prepared row per statement cost more in
// per-call overhead than the parse did.
var chunkSizes = [...]int{100, 10, 1}

// insertRows writes a batch on SQLite through INSERTs prepared once
// (database.Prepared).
func (w *Writer) insertRows(ctx context.Context, tx *sql.Tx, batch []Record) error {
	vals := make([]any, chunkSizes[0]*len(usageColumns))
	for k, size := range chunkSizes {
		for len(batch) >= size {
			stmt, err := w.db.Prepared(ctx, tx, insertQueries[k])
			if err != nil {
				return fmt.Errorf("prepare usage insert: %w", err)
			}
			n := size * len(usageColumns)
			for i := range size {
				if err := row(vals[i*len(usageColumns):], &batch[i]); err != nil {
					return err
				}
			}
			if _, err := stmt.ExecContext(ctx, vals[:n]...); err != nil {
				return fmt.Errorf("insert usage records: %w", err)
			}
			batch = batch[size:]
		}
	}
	return nil
}
