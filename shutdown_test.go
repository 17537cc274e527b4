package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// binaryEnv is the environment that runs the binary on target.
func binaryEnv(target database.Target, password string, extra ...string) map[string]string {
	env := map[string]string{"DATABASE_URL": testenv.URL(target), "SLUICE_ADMIN_PASSWORD": password}
	if target.Dialect == dialect.Postgres {
		env["SLUICE_MASTER_KEY"], env["SLUICE_JWT_SECRET"] = testMasterKey, testJWT
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// ledger is what the database says one key spent: its usage records and
// its spend windows.
type ledger struct {
	records, partial     int
	recordCost, tokens   int64
	spent, reserved      int64 // the key's total window
	reservedEverywhere   int64 // every window of every scope
	windowsDisagreeCount int   // key windows of this hour, day and month whose spent differs from the total's
}

// readLedger opens target (after the gateway stopped, or beside it) and
// reads the ledger of the only client key.
func readLedger(t *testing.T, target database.Target) ledger {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := func(s string) string { return database.Rebind(db.Dialect, s) }
	var l ledger
	var keyID int
	if err := db.SQL.QueryRowContext(ctx, q(`SELECT id FROM api_keys WHERE name = 'app'`)).Scan(&keyID); err != nil {
		t.Fatalf("find the key: %v", err)
	}
	err = db.SQL.QueryRowContext(ctx, q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN partial THEN 1 ELSE 0 END), 0), COALESCE(SUM(cost), 0),
		COALESCE(SUM(output_tokens), 0) FROM usage_records WHERE api_key_id = ?`), keyID).Scan(&l.records, &l.partial, &l.recordCost, &l.tokens)
	if err != nil {
		t.Fatalf("read usage records: %v", err)
	}
	err = db.SQL.QueryRowContext(ctx, q(`SELECT COALESCE(SUM(spent), 0), COALESCE(SUM(reserved), 0) FROM spend_windows WHERE scope = 'key' AND scope_id = ? AND "window" = 'total'`),
		keyID).Scan(&l.spent, &l.reserved)
	if err != nil {
		t.Fatalf("read spend windows: %v", err)
	}
	if err := db.SQL.QueryRowContext(ctx, q(`SELECT COALESCE(SUM(reserved), 0) FROM spend_windows`)).Scan(&l.reservedEverywhere); err != nil {
		t.Fatalf("read spend windows: %v", err)
	}
	// Every request of a test falls in one hour, day and month (the test
	// is short; a run across an hour boundary would show here).
	err = db.SQL.QueryRowContext(ctx, q(`SELECT COUNT(*) FROM spend_windows WHERE scope = 'key' AND scope_id = ? AND "window" <> 'total' AND spent <> ?`),
		keyID, l.spent).Scan(&l.windowsDisagreeCount)
	if err != nil {
		t.Fatalf("read spend windows: %v", err)
	}
	return l
}

// TestShutdownCutsStreamsPastTheDrain opens streams far longer than the
// shutdown timeout and sends SIGTERM: when the drain times out, each stream
// is cut, its client told why, and its record written, partial, charged
// for what it delivered; the reservations go back and the exit is clean.
func TestShutdownCutsStreamsPastTheDrain(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		p := startProcess(t, binaryEnv(target, "pw-cut", "SLUICE_SHUTDOWN_TIMEOUT", "2s"))
		upstream := slowStream(t, 300, 100*time.Millisecond) // 30 s a stream
		// A block, so that every stream holds a reservation while it runs.
		_, key, _ := setupService(t, p.base, "pw-cut", upstream.URL, ", limitCostTotalBlock: 10")

		const streams = 20
		results := openStreams(t, p.base, key, streams)
		if err := p.stop(t, 60*time.Second); err != nil {
			t.Fatalf("exit after SIGTERM with streams cut: %v\n%s", err, p.logs.String())
		}
		for i := 0; i < streams; i++ {
			r := <-results
			if !strings.Contains(r, "tok0") || !strings.Contains(r, "shutting_down") || strings.Contains(r, "[DONE]") {
				t.Fatalf("stream %d did not end with the shutdown's error event: %.300q", i, r)
			}
		}
		l := readLedger(t, target)
		if l.records != streams || l.partial != streams || l.tokens <= 0 || l.recordCost <= 0 {
			t.Fatalf("recorded %d streams (%d partial, %d output tokens, %d µ$); want %d partial, charged for what they delivered\n%s",
				l.records, l.partial, l.tokens, l.recordCost, streams, p.logs.String())
		}
		if l.spent != l.recordCost || l.reservedEverywhere != 0 {
			t.Fatalf("the key's total window spent %d µ$ against records of %d µ$; %d µ$ still reserved across the windows", l.spent, l.recordCost, l.reservedEverywhere)
		}
	})
}
