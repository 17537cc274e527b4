package usagelog_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
)

// The faults a test database can have: a COMMIT whose answer is lost,
// and queries refused afterwards while the database is still down.
var (
	errCommitLost = errors.New("simulated fault: connection lost during COMMIT")
	errOutage     = errors.New("simulated outage: connection refused")
)

// commitFault is what the next COMMIT does: succeed, or fail with
// errCommitLost after committing (applied) or after rolling back (lost).
type commitFault int

const (
	commitOK commitFault = iota
	commitApplied
	commitLost
)

// faults is what a faulty connection consults: a one-shot COMMIT fault,
// and how many queries fail after it fired (the database still down).
type faults struct {
	mu          sync.Mutex
	commit      commitFault
	queriesDown int
	fired       bool
	committed   bool // the transaction the fault hit was applied
	failed      int  // queries refused after the fault
}

func (f *faults) arm(c commitFault, queriesDown int) {
	f.mu.Lock()
	f.commit, f.queriesDown = c, queriesDown
	f.mu.Unlock()
}

// openFaulty opens a migrated database of the dialect through
// connections that consult f, and the same database without faults to
// read it with.
func openFaulty(t *testing.T, dialectName string, f *faults) (faulty, clean *database.DB) {
	t.Helper()
	target := testenv.Target(t, dialectName)
	clean, err := database.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clean.Close() })
	if _, err := migrations.Apply(context.Background(), clean.SQL, clean.Dialect); err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(&faultyConnector{drv: clean.SQL.Driver(), dsn: target.DSN, f: f})
	faulty = &database.DB{SQL: db, Dialect: target.Dialect, DSN: target.DSN,
		Client: ent.NewClient(ent.Driver(entsql.OpenDB(target.Dialect, db)))}
	t.Cleanup(func() { faulty.Close() })
	return faulty, clean
}

type faultyConnector struct {
	drv driver.Driver
	dsn string
	f   *faults
}

func (c *faultyConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &faultyConn{base: conn, f: c.f}, nil
}

func (c *faultyConnector) Driver() driver.Driver { return c.drv }

// faultyConn passes everything to the real connection except a faulty
// COMMIT and the queries refused after it. Statements are the real
// driver's own.
type faultyConn struct {
	base driver.Conn
	f    *faults
	bad  bool // a COMMIT failed on it: database/sql discards it
}

func (c *faultyConn) Prepare(q string) (driver.Stmt, error) { return c.base.Prepare(q) }

func (c *faultyConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	if p, ok := c.base.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, q)
	}
	return c.base.Prepare(q)
}

func (c *faultyConn) Close() error { return c.base.Close() }

func (c *faultyConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.base.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultyTx{base: tx, c: c}, nil
}

func (c *faultyConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.base.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, q, args)
	}
	return nil, driver.ErrSkip
}

func (c *faultyConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.base.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.f.mu.Lock()
	down := c.f.fired && c.f.queriesDown > 0
	if down {
		c.f.queriesDown--
		c.f.failed++
	}
	c.f.mu.Unlock()
	if down {
		return nil, errOutage
	}
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
	if v, ok := c.base.(driver.Validator); ok && !c.bad {
		return v.IsValid()
	}
	return !c.bad
}

// faultyTx applies an armed COMMIT fault.
type faultyTx struct {
	base driver.Tx
	c    *faultyConn
}

func (tx *faultyTx) Commit() error {
	f := tx.c.f
	f.mu.Lock()
	fault := f.commit
	f.commit = commitOK
	f.mu.Unlock()
	switch fault {
	case commitApplied:
		err := tx.base.Commit()
		f.mu.Lock()
		f.fired, f.committed = true, err == nil
		f.mu.Unlock()
	case commitLost:
		_ = tx.base.Rollback()
		f.mu.Lock()
		f.fired = true
		f.mu.Unlock()
	default:
		return tx.base.Commit()
	}
	tx.c.bad = true
	return errCommitLost
}

func (tx *faultyTx) Rollback() error { return tx.base.Rollback() }
