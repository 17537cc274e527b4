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
