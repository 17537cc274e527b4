package database_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// preparedOnServer lists the statements the pool's one connection has
// prepared, read by a query without arguments (which prepares none).
func preparedOnServer(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT statement FROM pg_prepared_statements ORDER BY statement`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPostgresStatements: a PostgreSQL connection prepares a query with
// arguments once and runs it prepared after, keeps at most its bound
// (the least recently used closed first), plans each run for its
// arguments, carries bytea and jsonb values as an unprepared query does,
// and prepares a statement again when a migration changed its result.
func TestPostgresStatements(t *testing.T) {
	target := testenv.Target(t, dialect.Postgres)
	db, err := database.OpenPostgresPool(target.DSN, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var mode string
	if err := db.QueryRow(`SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "force_custom_plan" {
		t.Fatalf("plan_cache_mode = %q, %v; want force_custom_plan", mode, err)
	}

	const a, b, c = `SELECT $1::int + 1`, `SELECT $1::int + 2`, `SELECT $1::int + 3`
	for i := range 3 {
		var n int
		if err := db.QueryRow(a, i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("%s with %d = %d, %v", a, i, n, err)
		}
	}
	if got := preparedOnServer(t, db); !slices.Equal(got, []string{a}) {
		t.Fatalf("after three runs of one query the connection has prepared %q; want it once", got)
	}
	for _, q := range []string{b, a, c} { // b is now the least recently used
		if _, err := db.Exec(q, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := preparedOnServer(t, db); !slices.Equal(got, []string{a, c}) {
		t.Fatalf("with a bound of 2 the connection keeps %q; want the two most recently used, %q and %q", got, a, c)
	}

	if _, err := db.Exec(`CREATE TABLE probe (id int PRIMARY KEY, raw bytea NOT NULL, doc jsonb NOT NULL, n int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	raw := []byte{0, 0xff, '{', '\\', 'x'}
	doc, _ := json.Marshal(map[string]string{"changes": "yes"})
	if _, err := db.Exec(`INSERT INTO probe (id, raw, doc, n) VALUES ($1, $2, $3, $4)`, 1, raw, doc, 7); err != nil {
		t.Fatal(err)
	}
	read := func() (gotRaw []byte, gotDoc string, n any) {
		t.Helper()
		if err := db.QueryRow(`SELECT raw, doc::text, n FROM probe WHERE id = $1`, 1).Scan(&gotRaw, &gotDoc, &n); err != nil {
			t.Fatal(err)
		}
		return
	}
	if gotRaw, gotDoc, _ := read(); !slices.Equal(gotRaw, raw) || gotDoc != `{"changes": "yes"}` {
		t.Fatalf("read back %x and %s; want %x and the JSON written", gotRaw, gotDoc, raw)
	}
	// A migration that changes the type of a column a kept statement
	// returns: the next run prepares it again instead of failing.
	if _, err := db.Exec(`ALTER TABLE probe ALTER COLUMN n TYPE bigint`); err != nil {
		t.Fatal(err)
	}
	if _, _, n := read(); n != int64(7) {
		t.Fatalf("after the column's type changed, n = %v (%T); want 7", n, n)
	}

	// Every run is planned for its arguments: past five runs PostgreSQL
	// would otherwise adopt a generic plan where it costs no more than the
	// runs' own, which cannot use a partial index whose condition names a
	// value passed as an argument (this query's is as cheap either way).
	const errorsQuery = `SELECT id FROM probe WHERE id >= $1`
	for range 7 {
		rows, err := db.Query(errorsQuery, 400)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	var generic, custom int
	if err := db.QueryRow(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = '`+errorsQuery+`'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic != 0 || custom != 7 {
		t.Fatalf("7 runs used %d generic and %d custom plans; want 7 custom", generic, custom)
	}

	// A second query while the first's rows are open, in one transaction,
	// is refused, and the connection serves the next query once they
	// close.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	// Without the refusal, lib/pq would read the open rows as the second
	// query's answer and the connection would wait on the server: the
	// server ends the session after 3 s, so the test fails, not hangs.
	if _, err := tx.Exec(`SET LOCAL idle_in_transaction_session_timeout = '3s'`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(`SELECT id FROM probe WHERE id >= $1`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE probe SET n = n + $1`, 1); err == nil || !strings.Contains(err.Error(), "already a query being processed") {
		t.Fatalf("a query while rows are open: %v; want it refused", err)
	}
	rows.Close()
	if _, err := tx.Exec(`UPDATE probe SET n = n + $1`, 1); err != nil {
		t.Fatalf("after the rows closed: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// A query whose context ends while it runs leaves its connection
	// out of the pool (lib/pq sent the server a cancel, which could land
	// on the next query): the next query runs on a new session.
	var before, after int
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(ctx, `SELECT pg_sleep($1)`, 5); err == nil {
		t.Fatal("a 5 s sleep outlived its 50 ms context")
	}
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatalf("the connection whose query was cancelled (session %d) served the next query", before)
	}
}
