package usagelog_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/usagelog"
)

// tallyLedger adds each batch's record count to a row in the batch's
// transaction, as the budget ledger adds spend, and counts in memory the
// records whose transaction it was told committed.
type tallyLedger struct {
	sync.Mutex
	dialect   string
	writes    int
	committed int // records of batches done(true)
	finished  int // done calls
}

const tallyTable = `CREATE TABLE ledger_tally (id integer PRIMARY KEY, n bigint NOT NULL)`

func (l *tallyLedger) Write(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) (func(bool), error) {
	l.writes++
	if _, err := tx.ExecContext(ctx, database.Rebind(l.dialect, `UPDATE ledger_tally SET n = n + ? WHERE id = 1`), len(batch)); err != nil {
		return nil, err
	}
	n := len(batch)
	return func(committed bool) {
		l.finished++
		if committed {
			l.committed += n
		}
	}, nil
}

// TestCommitAnswerLost: a batch whose COMMIT answers with an error is
// stored exactly once, records and ledger, whether the database applied
// it (the answer was lost) or not, also when the database is still down
// for the look-ups that find out; the Ledger hears once that it committed
// and OnWrite sees each record once.
func TestCommitAnswerLost(t *testing.T) {
	cases := []struct {
		name        string
		fault       commitFault
		queriesDown int
	}{
		{"applied", commitApplied, 0},
		{"lost", commitLost, 0},
		{"applied, look-ups refused twice", commitApplied, 2},
		{"lost, look-ups refused twice", commitLost, 2},
	}
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				f := &faults{}
				db, clean := openFaulty(t, dialectName, f)
				if _, err := clean.SQL.ExecContext(ctx, tallyTable); err != nil {
					t.Fatal(err)
				}
				if _, err := clean.SQL.ExecContext(ctx, `INSERT INTO ledger_tally (id, n) VALUES (1, 0)`); err != nil {
					t.Fatal(err)
				}
				l := &tallyLedger{dialect: dialectName}
				var seen sync.Map // request id → times OnWrite saw it
				onWrite := func(b []usagelog.Record) {
					for _, r := range b {
						n, _ := seen.LoadOrStore(r.RequestID, new(int))
						*n.(*int)++
					}
				}
				w := usagelog.New(db, usagelog.Options{Log: quiet, BatchSize: 10, Interval: time.Hour, Ledger: l, OnWrite: onWrite})
				f.arm(tc.fault, tc.queriesDown)
				const n = 25
				for i := range n {
					r := record(i)
					// Nanoseconds the databases do not keep, and a record
					// stamped by the writer.
					r.CreatedAt = r.CreatedAt.Add(time.Duration(i) * 1001 * time.Nanosecond)
					if i == 0 {
						r.CreatedAt = time.Time{}
					}
					w.Add(r)
				}
				if err := w.Close(ctx); err != nil {
					t.Fatal(err)
				}
				f.mu.Lock()
				fired, committed, failed := f.fired, f.committed, f.failed
				f.mu.Unlock()
				if !fired || committed != (tc.fault == commitApplied) || failed != tc.queriesDown {
					t.Fatalf("fault fired %v, applied %v, %d look-ups refused; want it fired, applied %v, %d refused",
						fired, committed, failed, tc.fault == commitApplied, tc.queriesDown)
				}
				var rows, distinct, tally int
				if err := clean.SQL.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT request_id) FROM usage_records`).Scan(&rows, &distinct); err != nil {
					t.Fatal(err)
				}
				if err := clean.SQL.QueryRowContext(ctx, `SELECT n FROM ledger_tally WHERE id = 1`).Scan(&tally); err != nil {
					t.Fatal(err)
				}
				if rows != n || distinct != n || tally != n {
					t.Fatalf("%d rows (%d distinct), ledger tally %d; want every one of the %d records stored once and tallied once", rows, distinct, tally, n)
				}
				l.Lock()
				defer l.Unlock()
				wantWrites := 3 // batches of 10, 10 and 5
				if tc.fault == commitLost {
					wantWrites++ // the lost batch is written again
				}
				if l.committed != n || l.writes != wantWrites || l.finished != wantWrites {
					t.Fatalf("the ledger wrote %d times, was told %d times, of %d records committed; want %d, %d, %d",
						l.writes, l.finished, l.committed, wantWrites, wantWrites, n)
				}
				if got := w.Written(); got != n {
					t.Fatalf("Written() = %d, want %d", got, n)
				}
				for i := range n {
					id := record(i).RequestID
					if c, ok := seen.Load(id); !ok || *c.(*int) != 1 {
						t.Fatalf("OnWrite saw %s %v times, want once", id, c)
					}
				}
			})
		}
	})
}
