package database_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestPrepared: goroutines that ask for the same statement at once, each
// in a transaction of its own, all get a working statement of their
// transaction, and what one writes through it commits with that
// transaction and rolls back with the other.
func TestPrepared(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE prepared_probe (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		insert := database.Rebind(db.Dialect, `INSERT INTO prepared_probe (n) VALUES (?)`)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				stmt, err := db.Prepared(ctx, tx, insert)
				if err == nil {
					_, err = stmt.ExecContext(ctx, i)
				}
				if err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				if i%2 == 1 {
					errs <- tx.Rollback()
					return
				}
				errs <- tx.Commit()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n, sum int
		if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(n), 0) FROM prepared_probe`).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != 4 || sum != 0+2+4+6 {
			t.Fatalf("%d rows summing to %d; want the 4 committed ones, summing to 12", n, sum)
		}
	})
}

// TestPreparedBadSQL: a statement that does not prepare is an error, and
// the transaction can still be rolled back.
func TestPreparedBadSQL(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // checked below
		if _, err := db.Prepared(ctx, tx, `SELEC nothing`); err == nil {
			t.Fatal("a malformed statement prepared without error")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatalf("rollback after a failed prepare: %v", err)
		}
	})
}

// TestPreparedWithTheLastConnection: a transaction holding the pool's only
// connection still gets its statement (preparing on the pool would wait
// for that very connection), and the statement is shared afterwards.
func TestPreparedWithTheLastConnection(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		db.SQL.SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for round := range 3 {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			stmt, err := db.Prepared(ctx, tx, database.Rebind(db.Dialect, `SELECT ? + 1`))
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			var n int
			if err := stmt.QueryRowContext(ctx, 41).Scan(&n); err != nil || n != 42 {
				t.Fatalf("round %d: got %d, %v; want 42", round, n, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// The shared statement is prepared once the connection is free.
			for database.CachedStatements(db) != 1 {
				if ctx.Err() != nil {
					t.Fatalf("round %d: %d shared statements; want the one", round, database.CachedStatements(db))
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
}

// TestPreparedClose: closing the statements does not wait for a background
// preparation that cannot get a connection (the transaction holding the
// pool's only one ends after the close), the transaction's own statement
// keeps working, and Prepared goes on working afterwards on its
// transaction alone, sharing nothing.
func TestPreparedClose(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		db.SQL.SetMaxOpenConns(1)
		ctx := context.Background()
		query := database.Rebind(db.Dialect, `SELECT ? + 1`)
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // committed below
		stmt, err := db.Prepared(ctx, tx, query)
		if err != nil {
			t.Fatal(err)
		}
		if database.Warming(db) != 1 {
			t.Fatalf("%d statements preparing in the background; want the one waiting for the connection", database.Warming(db))
		}
		closed := make(chan struct{})
		go func() {
			database.CloseStatements(db)
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(5 * time.Second): // well below the preparation's own 30 s timeout
			t.Fatal("closing the statements waits for a preparation that cannot get a connection")
		}
		var n int
		if err := stmt.QueryRowContext(ctx, 41).Scan(&n); err != nil || n != 42 {
			t.Fatalf("the transaction's statement after the close: got %d, %v; want 42", n, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			stmt, err := db.Prepared(ctx, tx, query)
			if err == nil {
				err = stmt.QueryRowContext(ctx, 1).Scan(&n)
			}
			if err != nil || n != 2 {
				t.Fatalf("round %d after the close: got %d, %v; want 2", round, n, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if w, c := database.Warming(db), database.CachedStatements(db); w != 0 || c != 0 {
				t.Fatalf("round %d after the close: %d preparing, %d shared; want none", round, w, c)
			}
		}
	})
}
