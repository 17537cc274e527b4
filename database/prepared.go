package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// stmtCache holds the statements Prepared has prepared, by query text.
type stmtCache struct {
	mu       sync.Mutex
	m        map[string]*sql.Stmt
	warming  map[string]bool // being prepared in the background
	closed   bool
	warmWait sync.WaitGroup
	// stop ends background preparations at Close, so that one waiting for
	// a connection does not hold the shutdown up.
	stopCtx context.Context
	stop    context.CancelFunc
}

// Prepared returns query as a statement of tx, which must come from d.SQL.
// It is for hand-written SQL that background writers run many times a
// second: SQLite takes about as long to parse a small upsert as to run it,
// and lib/pq sends an unprepared query with arguments in two round trips,
// a prepared one in one. Each query is prepared once for the DB, and
// database/sql then prepares it once on each connection that runs it and
// keeps it there. Nothing is evicted, so use it for a fixed set of query
// texts. On PostgreSQL the statements live on the server's sessions, which
// a transaction-mode pooler does not keep (README).
//
// Until a query's shared statement is ready, each call prepares the query
// on tx alone, and the first one starts preparing the shared statement in
// the background: preparing on the DB takes a connection from the pool,
// and a transaction that waited for one while holding row locks could
// wait forever on a pool whose other connections wait for those locks.
// The returned statement is closed with tx.
func (d *DB) Prepared(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	c := &d.stmts
	c.mu.Lock()
	stmt := c.m[query]
	if stmt == nil && !c.warming[query] && !c.closed {
		if c.warming == nil {
			c.warming = map[string]bool{}
		}
		if c.stop == nil {
			c.stopCtx, c.stop = context.WithCancel(context.Background())
		}
		c.warming[query] = true
		c.warmWait.Add(1)
		go c.warm(c.stopCtx, d.SQL, query)
	}
	c.mu.Unlock()
	if stmt == nil {
		s, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		return s, nil
	}
	return tx.StmtContext(ctx, stmt), nil
}

// warm prepares query on the DB for Prepared's later calls. A failure is
// not reported here: the transaction that asked prepared it too and
// reports it, and the next call tries again.
func (c *stmtCache) warm(ctx context.Context, db *sql.DB, query string) {
	defer c.warmWait.Done()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stmt, err := db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.warming, query)
	if err != nil {
		return
	}
	if c.closed {
		_ = stmt.Close()
		return
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = stmt
}

// closeStatements closes what Prepared prepared, after stopping any
// preparation still running. Prepared keeps working afterwards, on its
// transaction alone.
func (c *stmtCache) closeStatements() {
	c.mu.Lock()
	c.closed = true
	if c.stop != nil {
		c.stop()
	}
	c.mu.Unlock()
	c.warmWait.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, stmt := range c.m {
		_ = stmt.Close()
		delete(c.m, q)
	}
}
