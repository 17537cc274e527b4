package budget_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
)

// errOutage is what every statement answers while the database is down.
var errOutage = errors.New("simulated outage: connection refused")

// errCommitLost is what a COMMIT answers whose reply never came.
var errCommitLost = errors.New("simulated fault: connection lost during COMMIT")

// commitFault is what the next COMMIT does.
type commitFault int

const (
	commitOK commitFault = iota
	// commitApplied commits and then answers with an error: the caller
	// cannot tell whether the transaction was applied (it was).
	commitApplied
	// commitLost rolls back and answers with the same error: the caller
	// cannot tell whether it was applied (it was not).
	commitLost
)

// faults is the state a faulty connection consults before each statement:
// down for an outage, and a one-shot COMMIT fault.
type faults struct {
	mu     sync.Mutex
	down   bool
	commit commitFault
	// committed is set when an armed commitApplied fault fired.
	fired, committed bool
	// writes counts the statements and COMMITs run through it.
	writes int
}

func (f *faults) setDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *faults) isDown() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.down }

// arm makes the next COMMIT behave as c and forgets the last outcome.
func (f *faults) arm(c commitFault) {
	f.mu.Lock()
	f.commit, f.fired, f.committed = c, false, false
	f.mu.Unlock()
}

// disarm clears an armed fault that did not fire and reports whether one
// fired and whether the transaction it hit was applied.
func (f *faults) disarm() (fired, committed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commit = commitOK
	return f.fired, f.committed
}

// openFaulty opens a pool on target whose connections consult each of
// fs (one replica's faults, and the database's own) before every
// statement: a real database behind a connection that can be cut.
func openFaulty(t testing.TB, target database.Target, fs ...*faults) *database.DB {
	t.Helper()
	name := "postgres"
	if target.Dialect == dialect.SQLite {
		name = "sqlite"
	}
	probe, err := sql.Open(name, target.DSN)
	if err != nil {
		t.Fatal(err)
	}
	drv := probe.Driver()
	probe.Close()
	db := sql.OpenDB(&faultyConnector{drv: drv, dsn: target.DSN, fs: fs})
	db.SetMaxOpenConns(2)
	return &database.DB{SQL: db, Dialect: target.Dialect, DSN: target.DSN,
		Client: ent.NewClient(ent.Driver(entsql.OpenDB(target.Dialect, db)))}
}

type faultyConnector struct {
	drv driver.Driver
	dsn string
	fs  []*faults
}

func (c *faultyConnector) Connect(context.Context) (driver.Conn, error) {
	if downAny(c.fs) {
		return nil, errOutage
	}
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &faultyConn{base: conn, fs: c.fs}, nil
}

func (c *faultyConnector) Driver() driver.Driver { return c.drv }

func downAny(fs []*faults) bool {
	for _, f := range fs {
		if f.isDown() {
			return true
		}
	}
	return false
}

// faultyConn passes everything to the real connection unless a fault
// says otherwise.
type faultyConn struct {
	base driver.Conn
	fs   []*faults
	bad  bool // a COMMIT was lost on it: database/sql discards it
}

func (c *faultyConn) check() error {
	if c.bad {
		return driver.ErrBadConn
	}
	if downAny(c.fs) {
		return errOutage
	}
	return nil
}

// ran counts a statement or COMMIT about to run.
func (c *faultyConn) ran() {
	for _, f := range c.fs {
		f.mu.Lock()
		f.writes++
		f.mu.Unlock()
	}
}

// ran is how many statements and COMMITs ran through f.
func (f *faults) ran() int { f.mu.Lock(); defer f.mu.Unlock(); return f.writes }

func (c *faultyConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *faultyConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var s driver.Stmt
	var err error
	if p, ok := c.base.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, q)
	} else {
		s, err = c.base.Prepare(q)
	}
	if err != nil {
		return nil, err
	}
	return &faultyStmt{base: s, c: c}, nil
}

func (c *faultyConn) Close() error { return c.base.Close() }

func (c *faultyConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	tx, err := c.base.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultyTx{base: tx, c: c}, nil
}

func (c *faultyConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.base.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.ran()
	return e.ExecContext(ctx, q, args)
}

func (c *faultyConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.base.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.ran()
	return qc.QueryContext(ctx, q, args)
}

func (c *faultyConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *faultyConn) ResetSession(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultyConn) IsValid() bool {
	if c.bad {
		return false
	}
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// faultyTx applies an armed COMMIT fault.
type faultyTx struct {
	base driver.Tx
	c    *faultyConn
}

func (tx *faultyTx) Commit() error {
	if err := tx.c.check(); err != nil {
		_ = tx.base.Rollback()
		return err
	}
	tx.c.ran()
	for _, f := range tx.c.fs {
		f.mu.Lock()
		fault := f.commit
		f.commit = commitOK
		if fault != commitOK {
			f.fired = true
		}
		f.mu.Unlock()
		switch fault {
		case commitApplied:
			err := tx.base.Commit()
			f.mu.Lock()
			f.committed = err == nil
			f.mu.Unlock()
			tx.c.bad = true
			return errCommitLost
		case commitLost:
			_ = tx.base.Rollback()
			tx.c.bad = true
			return errCommitLost
		}
	}
	return tx.base.Commit()
}

func (tx *faultyTx) Rollback() error { return tx.base.Rollback() }

// faultyStmt checks for an outage before each execution of a prepared
// statement.
type faultyStmt struct {
	base driver.Stmt
	c    *faultyConn
}

func (s *faultyStmt) Close() error  { return s.base.Close() }
func (s *faultyStmt) NumInput() int { return s.base.NumInput() }

func (s *faultyStmt) Exec(args []driver.Value) (driver.Result, error) {
	if err := s.c.check(); err != nil {
		return nil, err
	}
	s.c.ran()
	return s.base.Exec(args) //nolint:staticcheck // the driver's own fallback
}

func (s *faultyStmt) Query(args []driver.Value) (driver.Rows, error) {
	if err := s.c.check(); err != nil {
		return nil, err
	}
	s.c.ran()
	return s.base.Query(args) //nolint:staticcheck // the driver's own fallback
}

func (s *faultyStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.check(); err != nil {
		return nil, err
	}
	s.c.ran()
	if e, ok := s.base.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, errors.New("faulty statement: the driver has no ExecContext")
}

func (s *faultyStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.check(); err != nil {
		return nil, err
	}
	s.c.ran()
	if q, ok := s.base.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("faulty statement: the driver has no QueryContext")
}

func (s *faultyStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

// faultyLedger returns budgets mk makes over a fresh database of the
// dialect, through a pool whose faults f controls, and a pool without
// faults to read the database with.
func faultyLedger(t *testing.T, dialectName string, mk func(*database.DB, budget.Options) budget.Ledger) (budget.Ledger, *faults, *database.DB) {
	t.Helper()
	target := testenv.Target(t, dialectName)
	db := openFaulty(t, target)
	t.Cleanup(func() { db.Close() })
	if _, err := migrationsApply(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f := &faults{}
	pool := openFaulty(t, target, f)
	t.Cleanup(func() { pool.Close() })
	return mk(pool, budget.Options{Log: quiet}), f, db
}

// TestFlushCommitAnswerLost: a flush whose COMMIT answers with an error
// is written exactly once, whether the database applied it (the answer
// was lost) or not, in the embedded and the leased modes; the leases it
// moved come out right too (nothing reserved once handed back).
func TestFlushCommitAnswerLost(t *testing.T) {
	modes := []struct {
		name string
		mk   func(*database.DB, budget.Options) budget.Ledger
	}{{"embedded", newEmbedded}, {"leased", newLeased}}
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		for _, mode := range modes {
			for _, fault := range []commitFault{commitApplied, commitLost} {
				t.Run(fmt.Sprintf("%s/applied=%v", mode.name, fault == commitApplied), func(t *testing.T) {
					ctx := context.Background()
					b, f, db := faultyLedger(t, dialectName, mode.mk)
					subj := keySubject(21, budget.Limits{6: usd(1.00)})
					if _, err := spend(ctx, b, 1, money.FromUSD(0.03), subj); err != nil {
						t.Fatal(err)
					}
					f.arm(fault)
					if err := b.Flush(ctx); !errors.Is(err, errCommitLost) {
						t.Fatalf("flush with its COMMIT answer lost = %v; want the lost answer", err)
					}
					if fired, committed := f.disarm(); !fired || committed != (fault == commitApplied) {
						t.Fatalf("fault fired %v, applied %v", fired, committed)
					}
					if _, err := spend(ctx, b, 1, money.FromUSD(0.02), subj); err != nil {
						t.Fatal(err)
					}
					for range 2 {
						if err := b.Flush(ctx); err != nil {
							t.Fatal(err)
						}
					}
					if s, r := spent(t, db, spendwindow.ScopeKey, 21, spendwindow.WindowTotal); s != money.FromUSD(0.05) || r != 0 {
						t.Fatalf("spent %s, reserved %s; want $0.05 written once and $0", s, r)
					}
				})
			}
		}
	})
}

// TestGrantCommitAnswerLost: a lease that grew by a grant whose COMMIT
// answer was lost (the database applied it, the replica never learnt of
// it) hands the whole row back when it goes back, so the window is not
// left holding headroom nobody owns.
func TestGrantCommitAnswerLost(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		ctx := context.Background()
		b, f, db := faultyLedger(t, dialectName, newLeased)
		subj := keySubject(22, budget.Limits{6: usd(1.00)})
		if _, err := spend(ctx, b, 1, money.FromUSD(0.01), subj); err != nil {
			t.Fatal(err)
		}
		// More than the lease holds: the lease grows, and the answer is lost.
		f.arm(commitApplied)
		if _, err := b.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{subj}, Amount: money.FromUSD(0.50)}); err == nil {
			t.Fatal("a reservation whose grant's COMMIT answer was lost succeeded")
		}
		if fired, committed := f.disarm(); !fired || !committed {
			t.Fatalf("fault fired %v, applied %v; want the grant's COMMIT applied and its answer lost", fired, committed)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if s, r := spent(t, db, spendwindow.ScopeKey, 22, spendwindow.WindowTotal); s != money.FromUSD(0.01) || r != 0 {
			t.Fatalf("spent %s, reserved %s after the lease went back; want $0.01 and $0", s, r)
		}
	})
}
