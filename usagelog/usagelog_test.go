package usagelog_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/traceid"
	"github.com/sluicehq/sluice/usagelog"
	"github.com/sluicehq/sluice/wirecode"
)

var quiet = slog.New(slog.DiscardHandler)

func record(i int) usagelog.Record {
	cred := 7
	ttfb := int64(1500)
	var attempts []schema.Attempt
	if i%3 == 0 {
		attempts = []schema.Attempt{{TargetID: 1, CredentialID: 7, Status: 503, LatencyMs: 12, Error: "upstream answered 503"}, {TargetID: 2, CredentialID: 8, Status: 200}}
	}
	// Every fourth request was translated; every seventh never reached an
	// upstream.
	upstream := "openai"
	switch {
	case i%7 == 6:
		upstream = ""
	case i%4 == 1:
		upstream = "anthropic"
	}
	return usagelog.Record{
		Attempts:  attempts,
		CreatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		RequestID: fmt.Sprintf("req-%05d", i), OrganizationID: 1, ServiceID: 2, APIKeyID: 3, CredentialID: &cred,
		Protocol: "openai", ProviderProtocol: upstream, Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini",
		Tokens: tokens.Tokens{InputTokens: int64(i), OutputTokens: 2 * int64(i), CachedInputTokens: 1, CacheWriteTokens: int64(i % 5), CacheWrite1hTokens: int64(i % 3)},
		Cost:   money.Micros(10 * i), Priced: true,
		Status: 200, LatencyUs: 900, TTFBUs: &ttfb, Streamed: i%2 == 0,
	}
}

// TestWritesEveryFieldInBatches: every column survives the dialect's bulk
// path (COPY on PostgreSQL, the prepared INSERT on SQLite), NULLs, JSON and
// text with COPY's special characters included, in order, in batches no
// larger than BatchSize.
func TestWritesEveryFieldInBatches(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		var batches []int
		w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 100, OnWrite: func(b []usagelog.Record) {
			mu.Lock()
			batches = append(batches, len(b))
			mu.Unlock()
		}})
		const n = 1234
		want := make([]usagelog.Record, n)
		for i := range n {
			want[i] = record(i)
			if i%5 == 4 { // a failed request: no credential, no first byte, no price
				want[i].CredentialID, want[i].TTFBUs, want[i].Priced = nil, nil, false
				want[i].Status, want[i].Error = 504, "upstream timed out\tafter 30s\n\\ retry later"
			}
			if !w.Add(want[i]) {
				t.Fatalf("record %d dropped", i)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := db.Client.UsageRecord.Query().Order(usagerecord.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d rows written, want %d", len(got), n)
		}
		for i, r := range got {
			w := want[i]
			if r.RequestID != w.RequestID {
				t.Fatalf("row %d is %s: order not kept", i, r.RequestID)
			}
			same := r.InputTokens == w.InputTokens && r.OutputTokens == w.OutputTokens && r.CachedInputTokens == w.CachedInputTokens &&
				r.CacheWriteTokens == w.CacheWriteTokens && r.CacheWrite1hTokens == w.CacheWrite1hTokens &&
				r.Cost == w.Cost && r.Priced == w.Priced && r.Status == w.Status && r.Error == w.Error &&
				r.Streamed == w.Streamed && r.Partial == w.Partial && r.Model == w.Model && r.Protocol == w.Protocol &&
				r.ProviderProtocol == w.ProviderProtocol &&
				r.Endpoint == w.Endpoint && r.LatencyUs == w.LatencyUs && r.OrganizationID == w.OrganizationID &&
				r.ServiceID == w.ServiceID && r.APIKeyID == w.APIKeyID && r.CreatedAt.Equal(w.CreatedAt) &&
				(r.CredentialID == nil) == (w.CredentialID == nil) && (r.TtfbUs == nil) == (w.TTFBUs == nil) &&
				len(r.Attempts) == len(w.Attempts) && (len(w.Attempts) == 0 || r.Attempts[0] == w.Attempts[0])
			if same && w.CredentialID != nil {
				same = *r.CredentialID == *w.CredentialID && *r.TtfbUs == *w.TTFBUs
			}
			if !same {
				t.Fatalf("row %d = %+v, want %+v", i, r, w)
			}
		}
		mu.Lock()
		total := 0
		for _, b := range batches {
			if b > 100 {
				t.Errorf("a batch of %d rows exceeds BatchSize 100", b)
			}
			total += b
		}
		mu.Unlock()
		if total != n {
			t.Errorf("OnWrite saw %d records, want %d", total, n)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestProviderProtocolRoundTrips: the upstream's protocol is stored beside
// the caller's, read back through ent as written, and a request that
// reached no upstream stores NULL rather than an empty string.
func TestProviderProtocolRoundTrips(t *testing.T) {
	cases := []struct {
		name, protocol, upstream string
	}{
		{"passed through", "openai", "openai"},
		{"translated", "openai", "anthropic"},
		{"translated from gemini", "gemini", "cohere"},
		{"no upstream called", "anthropic", ""},
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{Log: quiet})
		for i, c := range cases {
			r := record(i)
			r.Protocol, r.ProviderProtocol = c.protocol, c.upstream
			if !w.Add(r) {
				t.Fatalf("%s: record dropped", c.name)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := db.Client.UsageRecord.Query().Order(usagerecord.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(cases) {
			t.Fatalf("%d rows written, want %d", len(got), len(cases))
		}
		for i, c := range cases {
			if got[i].Protocol != c.protocol || got[i].ProviderProtocol != c.upstream {
				t.Errorf("%s: stored protocol %q, provider protocol %q; want %q, %q",
					c.name, got[i].Protocol, got[i].ProviderProtocol, c.protocol, c.upstream)
			}
			var stored sql.NullInt64
			if err := db.SQL.QueryRowContext(ctx, database.Rebind(db.Dialect, "SELECT provider_protocol FROM usage_records WHERE id = ?"),
				got[i].ID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if stored.Valid != (c.upstream != "") || stored.Int64 != int64(wirecode.Protocols.Code(c.upstream)) {
				t.Errorf("%s: column holds %+v, want %q's code (NULL when empty)", c.name, stored, c.upstream)
			}
		}
	})
}

// TestTraceIDRoundTrips: a record's trace id is stored as its 16 bytes and
// read back through ent as hex; a record without one stores NULL.
func TestTraceIDRoundTrips(t *testing.T) {
	id, err := traceid.Parse("4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{Log: quiet})
		traced, plain := record(0), record(1)
		traced.TraceID = id
		w.Add(traced)
		w.Add(plain)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := db.Client.UsageRecord.Query().Order(usagerecord.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].TraceID != id.String() || got[1].TraceID != "" {
			t.Fatalf("read back %d rows, trace ids %q; want %q then none", len(got), traceIDs(got), id.String())
		}
		for i, want := range [][]byte{id[:], nil} {
			var stored []byte
			if err := db.SQL.QueryRowContext(ctx, database.Rebind(db.Dialect, "SELECT trace_id FROM usage_records WHERE id = ?"),
				got[i].ID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if string(stored) != string(want) || (want == nil) != (stored == nil) {
				t.Errorf("row %d: column holds %x, want %x", i, stored, want)
			}
		}
	})
}

func traceIDs(rs []*ent.UsageRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.TraceID
	}
	return out
}

func TestFailedBatchIsRetriedInOrder(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var failures atomic.Int32
		w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 10, Interval: 10 * time.Millisecond,
			// Stands in for a database that refuses writes for a while: the
			// transaction rolls the batch's rows back, as an outage would.
			InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
				if failures.Add(1) <= 3 {
					return errors.New("connection refused")
				}
				return nil
			}})
		for i := range 35 {
			w.Add(record(i))
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := db.Client.UsageRecord.Query().Order(usagerecord.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 35 {
			t.Fatalf("%d rows after retries, want 35", len(got))
		}
		for i, r := range got {
			if r.RequestID != record(i).RequestID {
				t.Fatalf("row %d is %s: retry broke the order", i, r.RequestID)
			}
		}
		if w.Dropped() != 0 {
			t.Fatalf("%d dropped", w.Dropped())
		}
	})
}

// TestSteadyTrafficWritesFullBatches: records arriving while a batch is
// written wait for a full batch or the next interval, rather than being
// written a few at a time back to back.
func TestSteadyTrafficWritesFullBatches(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		var mu sync.Mutex
		var sizes []int
		w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 100, Interval: time.Hour,
			// A slow database: a handful of records arrive during each write.
			InTx: func(context.Context, *sql.Tx, []usagelog.Record) error {
				time.Sleep(5 * time.Millisecond)
				return nil
			},
			OnWrite: func(b []usagelog.Record) {
				mu.Lock()
				sizes = append(sizes, len(b))
				mu.Unlock()
			}})
		const n = 1000
		for i := range n {
			w.Add(record(i))
			time.Sleep(200 * time.Microsecond)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, s := range sizes {
			total += s
		}
		if total != n {
			t.Fatalf("%d records written, want %d", total, n)
		}
		// Ten full batches; Close may split the last one.
		if len(sizes) > 12 {
			t.Fatalf("%d batches for %d records at BatchSize 100 (sizes %v): the writer wrote partial batches back to back", len(sizes), n, sizes)
		}
	})
}

func TestCloseDrainsEverything(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		// An interval far beyond the test: only Close can write these.
		w := usagelog.New(db, usagelog.Options{Log: quiet, Interval: time.Hour})
		for i := range 420 {
			w.Add(record(i))
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := db.Client.UsageRecord.Query().CountX(ctx); n != 420 {
			t.Fatalf("%d rows after Close, want 420", n)
		}
		if w.Add(record(1)) {
			t.Fatal("Add after Close accepted a record")
		}
	})
}

func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		block := make(chan struct{})
		w := usagelog.New(db, usagelog.Options{Log: quiet, QueueSize: 5, BatchSize: 1, Interval: time.Millisecond,
			InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
				<-block // the database hangs
				return nil
			}})
		start := time.Now()
		accepted := 0
		for i := range 100 {
			if w.Add(record(i)) {
				accepted++
			}
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("Add blocked for %v with the database hanging", d)
		}
		if accepted > 6 || w.Dropped() < 94 {
			t.Fatalf("accepted %d, dropped %d with a queue of 5", accepted, w.Dropped())
		}
		close(block)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := db.Client.UsageRecord.Query().CountX(context.Background()); n != accepted {
			t.Fatalf("%d rows, want the %d accepted", n, accepted)
		}
	})
}

func TestCloseGivesUpAtItsDeadline(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		w := usagelog.New(db, usagelog.Options{Log: quiet, Interval: time.Millisecond,
			InTx: func(context.Context, *sql.Tx, []usagelog.Record) error { return errors.New("down") }})
		for i := range 3 {
			w.Add(record(i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := w.Close(ctx); err == nil {
			t.Fatal("Close reported success with the database down")
		}
		if w.Dropped() != 3 {
			t.Fatalf("dropped = %d, want 3 counted", w.Dropped())
		}
	})
}

// BenchmarkWriteBatch measures one full batch (DefaultBatchSize records)
// written with its hourly roll-ups, as the server configures the writer;
// ns/op is per batch, so divide by DefaultBatchSize for a record's share.
func BenchmarkWriteBatch(b *testing.B) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		b.Run(testenv.Name(d), func(b *testing.B) {
			if d == dialect.Postgres {
				testenv.RequirePostgres(b)
			}
			db := testenv.New(b, d)
			ctx := context.Background()
			w := usagelog.New(db, usagelog.Options{Log: quiet, Interval: time.Hour,
				InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
					return rollup.Add(ctx, tx, d, batch)
				}})
			defer w.Close(ctx)
			records := make([]usagelog.Record, usagelog.DefaultBatchSize)
			for i := range records {
				records[i] = record(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				// Later batches are later in time, as in production: rows
				// append to the (key, created_at) indexes.
				for _, r := range records {
					r.CreatedAt = r.CreatedAt.Add(time.Duration(n) * time.Second)
					w.Add(r)
				}
				if err := w.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUnstorableTextIsCleaned: text PostgreSQL refuses (bytes that are not
// UTF-8, NUL) is cleaned instead of failing its batch, which the writer
// would retry for ever while every later record waited; the caller's
// record is left as it was.
func TestUnstorableTextIsCleaned(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w := usagelog.New(db, usagelog.Options{Log: quiet})
		bad := record(0)
		bad.Model, bad.Error = "gpt-4o\xff", "upstream said \x00no\xfe"
		bad.Attempts = []schema.Attempt{{TargetID: 1, Status: 502, Error: "reset\x00 by peer"}}
		w.Add(bad)
		w.Add(record(1))
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("the batch was not written: %v", err)
		}
		got, err := db.Client.UsageRecord.Query().Order(usagerecord.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d rows written, want 2", len(got))
		}
		if r := got[0]; r.Model != "gpt-4o\uFFFD" || r.Error != "upstream said no\uFFFD" || len(r.Attempts) != 1 || r.Attempts[0].Error != "reset by peer" {
			t.Errorf("stored %q, %q, %+v", r.Model, r.Error, r.Attempts)
		}
		if bad.Attempts[0].Error != "reset\x00 by peer" {
			t.Errorf("the caller's attempts were changed: %q", bad.Attempts[0].Error)
		}
	})
}

// probeLedger is a Ledger that refuses its first writes, as a database
// refusing the batch would, and counts how the transactions ended.
type probeLedger struct {
	sync.Mutex
	held                  bool
	refuse                int
	writes, unlocked      int
	committed, rolledBack int
	records               int
}

func (l *probeLedger) Lock()   { l.Mutex.Lock(); l.held = true }
func (l *probeLedger) Unlock() { l.held = false; l.Mutex.Unlock() }

func (l *probeLedger) Write(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) (func(bool), error) {
	l.writes++
	if !l.held {
		l.unlocked++
	}
	if l.writes <= l.refuse {
		return nil, errors.New("connection refused")
	}
	n := len(batch)
	return func(committed bool) {
		if committed {
			l.committed++
			l.records += n
		} else {
			l.rolledBack++
		}
	}, nil
}

// TestLedgerCommitsWithItsBatch: the Ledger writes in each batch's
// transaction, under its lock, and hears of each commit once; a batch
// whose ledger write failed is written again, rows and ledger together.
func TestLedgerCommitsWithItsBatch(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l := &probeLedger{refuse: 2}
		w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 10, Interval: 10 * time.Millisecond, Ledger: l})
		for i := range 25 {
			w.Add(record(i))
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		rows := db.Client.UsageRecord.Query().CountX(ctx)
		l.Lock()
		defer l.Unlock()
		if rows != 25 || l.records != 25 || l.unlocked != 0 || l.rolledBack != 0 {
			t.Fatalf("%d rows, the ledger committed %d records in %d batches (%d written without its lock, %d told of a rollback); want 25 and 25, 0, 0",
				rows, l.records, l.committed, l.unlocked, l.rolledBack)
		}
	})
}

// budgetLedger writes a batch's spend with the budget's journal, as the
// server does.
type budgetLedger struct{ b budget.Ledger }

func (l budgetLedger) Lock()   { l.b.LockJournal() }
func (l budgetLedger) Unlock() { l.b.UnlockJournal() }
func (l budgetLedger) Write(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) (func(bool), error) {
	var settled []*budget.Settlement
	for i := range batch {
		if s := batch[i].Spend; s != nil {
			settled = append(settled, s)
		}
	}
	return l.b.WriteJournal(ctx, tx, settled)
}

// TestAbandonedSpendStillCounts: the records Close gives up on (the
// database down until its deadline), in the batch being written and in the
// queue behind it, are lost, but their spend goes to the budget's own
// flush, so a block still holds.
func TestAbandonedSpendStillCounts(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		org, err := auth.CreateOrganization(ctx, db.Client, "acme", false)
		if err != nil {
			t.Fatal(err)
		}
		b := budget.New(db, budget.Options{Log: quiet})
		subj := budget.Subject{Scope: budget.ScopeKey, ID: 3, Name: "key-3"}
		w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 2, Interval: time.Millisecond, Ledger: budgetLedger{b},
			InTx: func(context.Context, *sql.Tx, []usagelog.Record) error { return errors.New("down") }})
		const records, each = 5, money.Micros(100)
		for i := range records {
			r, err := b.Reserve(ctx, budget.Request{OrgID: org.ID, Subjects: []budget.Subject{subj}, Amount: each})
			if err != nil {
				t.Fatal(err)
			}
			rec := record(i)
			if rec.Spend, err = r.SettleJournaled(ctx, each); err != nil || rec.Spend == nil {
				t.Fatalf("settle: %v (settlement %v)", err, rec.Spend)
			}
			w.Add(rec)
		}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := w.Close(cctx); err == nil {
			t.Fatal("Close reported success with the database down")
		}
		if w.Dropped() != records {
			t.Fatalf("dropped = %d, want %d", w.Dropped(), records)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, win := range []spendwindow.Window{spendwindow.WindowDay, spendwindow.WindowTotal} {
			rows := db.Client.SpendWindow.Query().Where(spendwindow.ScopeEQ(spendwindow.ScopeKey), spendwindow.ScopeID(3), spendwindow.WindowEQ(win)).AllX(ctx)
			var got int64
			for _, row := range rows {
				got += row.Spent
			}
			if got != int64(records*each) {
				t.Errorf("the %s window holds %d µ$ after the budget's flush, want the %d µ$ of the abandoned records", win, got, records*each)
			}
		}
	})
}

// TestRequestIDsRoundTrip: request IDs the gateway made and clients' own
// read back as written, and ent's predicate finds each record by its ID.
func TestRequestIDsRoundTrip(t *testing.T) {
	ids := []string{"req_0123456789abcdef0123456789abcdef", "req_0123456789ABCDEF0123456789ABCDEF", "client-trace:42.a_b", "req_1"}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{Log: quiet})
		for i, id := range ids {
			r := record(i)
			r.RequestID = id
			w.Add(r)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			got, err := db.Client.UsageRecord.Query().Where(usagerecord.RequestID(id)).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].RequestID != id {
				t.Errorf("looking up %q found %d records (%v), want the one with that ID", id, len(got), got)
			}
		}
	})
}
