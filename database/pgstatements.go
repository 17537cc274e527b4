package database

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/lib/pq"
)

// pgStatementsPerConn is how many statements a PostgreSQL connection keeps
// prepared, the least recently used closed first: room for the data
// layer's query texts and its lists of ids of several lengths, at a few
// kilobytes of the server's memory each.
const pgStatementsPerConn = 256

// pgConnector opens lib/pq connections that run every query with
// arguments as a statement prepared once on the connection. lib/pq sends
// an unprepared query with arguments in two round trips (it parses and
// describes the query, then binds and runs it); a prepared one runs in one.
// A dashboard request makes ten or twenty queries, so this halves the time
// each spends waiting on the network.
//
// Each connection plans every run with its arguments (plan_cache_mode =
// force_custom_plan), as an unprepared query is planned: a generic plan,
// which PostgreSQL otherwise adopts after five runs, cannot use a partial
// index whose condition names a value the query passes as an argument
// (the usage log's errors indexes), nor plan for a skewed value.
//
// Statements live on the server's session, so this needs a direct
// connection or a session-mode pooler, as the budget write-behind's
// prepared statements and the change feed already do.
type pgConnector struct {
	pq *pq.Connector
	// perConn bounds each connection's statements; zero means
	// pgStatementsPerConn.
	perConn int
}

func newPGConnector(dsn string) (*pgConnector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &pgConnector{pq: c}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.pq.Driver() }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.pq.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, "SET plan_cache_mode = force_custom_plan", nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set plan_cache_mode (PostgreSQL 12 or later is required): %w", err)
	}
	n := c.perConn
	if n <= 0 {
		n = pgStatementsPerConn
	}
	return &pgConn{conn: conn, max: n, stmts: map[string]*list.Element{}, order: list.New()}, nil
}

// pgConn is one lib/pq connection and its prepared statements by query
// text. database/sql uses a connection from one goroutine at a time, so it
// needs no lock.
type pgConn struct {
	conn  driver.Conn // lib/pq's
	max   int
	stmts map[string]*list.Element // of order, each a *pgStmt
	order *list.List               // most recently used first
	inTx  bool
	// busy is set while rows of a prepared statement or a COPY are open:
	// the connection's socket is theirs until they close. lib/pq guards
	// its unprepared queries so, not its statements.
	busy bool
	// broken is set when a query's context ended around it: lib/pq then
	// sent the server a cancel that may still land on a later query, so
	// the connection is not used again (as lib/pq's own queries do).
	broken bool
}

// errBusy is lib/pq's answer to a query while another's rows are open.
var errBusy = errors.New("pq: there is already a query being processed")

type pgStmt struct {
	query string
	stmt  driver.Stmt
}

var (
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.busy {
		return nil, errBusy
	}
	if len(args) == 0 { // the simple protocol: one round trip already
		return c.conn.(driver.QueryerContext).QueryContext(ctx, query, nil)
	}
	rows, err := withStatement(c, ctx, query, func(st driver.Stmt) (driver.Rows, error) {
		return st.(driver.StmtQueryContext).QueryContext(ctx, args)
	})
	if err != nil {
		c.noteEnded(ctx)
		return nil, err
	}
	c.busy = true
	return &pgRows{Rows: rows, c: c, ctx: ctx}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.busy {
		return nil, errBusy
	}
	if len(args) == 0 {
		return c.conn.(driver.ExecerContext).ExecContext(ctx, query, nil)
	}
	res, err := withStatement(c, ctx, query, func(st driver.Stmt) (driver.Result, error) {
		return st.(driver.StmtExecContext).ExecContext(ctx, args)
	})
	c.noteEnded(ctx)
	return res, err
}

// noteEnded marks the connection broken when ctx ended around a query.
func (c *pgConn) noteEnded(ctx context.Context) {
	if ctx.Err() != nil {
		c.broken = true
	}
}

// withStatement runs query's statement through run. A statement whose
// result the schema has changed since it was prepared (a column's type
// altered by a newer release's migration) fails with PostgreSQL's "cached
// plan must not change result type"; it is prepared again, and run again
// outside a transaction (inside one, the failure has aborted the
// transaction, and the caller sees it).
func withStatement[R any](c *pgConn, ctx context.Context, query string, run func(driver.Stmt) (R, error)) (R, error) {
	st, err := c.statement(ctx, query)
	if err != nil {
		var zero R
		return zero, err
	}
	r, err := run(st)
	if err != nil && isStalePlan(err) {
		c.forget(query)
		if !c.inTx {
			if st, err = c.statement(ctx, query); err == nil {
				return run(st)
			}
		}
	}
	return r, err
}

// isStalePlan reports a statement PostgreSQL will not run again as
// prepared: its result's shape changed ("cached plan must not change
// result type", one of many feature_not_supported errors) or the
// statement is gone (invalid_sql_statement_name).
func isStalePlan(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) &&
		(pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type") || pe.Code == "26000")
}

// statement returns query's prepared statement, preparing it when the
// connection has none, and closing the least recently used one past max.
func (c *pgConn) statement(ctx context.Context, query string) (driver.Stmt, error) {
	if e, ok := c.stmts[query]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*pgStmt).stmt, nil
	}
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = c.order.PushFront(&pgStmt{query: query, stmt: st})
	for c.order.Len() > c.max {
		c.forget(c.order.Back().Value.(*pgStmt).query)
	}
	return st, nil
}

// forget closes query's statement, if the connection has one.
func (c *pgConn) forget(query string) {
	e, ok := c.stmts[query]
	if !ok {
		return
	}
	c.order.Remove(e)
	delete(c.stmts, query)
	_ = e.Value.(*pgStmt).stmt.Close() // a connection that failed is discarded with its statements
}

// Prepare and PrepareContext are database/sql's own statements (and
// lib/pq's COPY), which it closes itself: they are not kept here. A COPY
// holds the connection until its statement closes.
func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.busy {
		return nil, errBusy
	}
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil || !isCopy(query) {
		return st, err
	}
	c.busy = true
	return &pgCopy{Stmt: st, c: c}, nil
}

// isCopy reports a COPY statement, which lib/pq runs as a stream.
func isCopy(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) >= 4 && strings.EqualFold(q[:4], "COPY")
}

// pgCopy is a COPY statement; the connection is free again once it
// closes.
type pgCopy struct {
	driver.Stmt
	c *pgConn
}

func (s *pgCopy) Close() error {
	s.c.busy = false
	return s.Stmt.Close()
}

// pgRows are a prepared statement's rows: the connection is free again
// once they close, and broken if the query's context ended meanwhile.
type pgRows struct {
	driver.Rows
	c   *pgConn
	ctx context.Context
}

func (r *pgRows) Close() error {
	err := r.Rows.Close()
	r.c.busy = false
	r.c.noteEnded(r.ctx)
	return err
}

func (r *pgRows) HasNextResultSet() bool {
	n, ok := r.Rows.(driver.RowsNextResultSet)
	return ok && n.HasNextResultSet()
}

func (r *pgRows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

func (r *pgRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}

func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *pgRows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *pgRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

// Close ends the session, and its statements with it.
func (c *pgConn) Close() error { return c.conn.Close() }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return pgTx{tx, c}, nil
}

// pgTx notes on its connection when the transaction ends.
type pgTx struct {
	driver.Tx
	c *pgConn
}

func (t pgTx) Commit() error   { t.c.inTx = false; return t.Tx.Commit() }
func (t pgTx) Rollback() error { t.c.inTx = false; return t.Tx.Rollback() }

func (c *pgConn) Ping(ctx context.Context) error { return c.conn.(driver.Pinger).Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.broken {
		return driver.ErrBadConn
	}
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *pgConn) IsValid() bool { return !c.broken && c.conn.(driver.Validator).IsValid() }

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}
