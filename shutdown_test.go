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
	db := openTarget(t, target)
	defer db.Close()
	q := func(s string) string { return database.Rebind(db.Dialect, s) }
	var l ledger
	var keyID int
	if err := db.SQL.QueryRowContext(ctx, q(`SELECT id FROM api_keys WHERE name = 'app'`)).Scan(&keyID); err != nil {
		t.Fatalf("find the key: %v", err)
	}
	err := db.SQL.QueryRowContext(ctx, q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN partial THEN 1 ELSE 0 END), 0), COALESCE(SUM(cost), 0),
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

// TestCrashLosesRecordAndSpendTogether kills the gateway (SIGKILL) right
// after an answer, as soon as the spend or the records of the requests
// after the first 50 begin to reach the database: a request's usage record
// and its budget spend are written in one transaction, so whatever the
// crash lost, the key's spend windows add up to its records. Records
// written before (the first 50, waited for) all survive, and the gateway
// restarts on what the crash left.
func TestCrashLosesRecordAndSpendTogether(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		env := binaryEnv(target, "pw-crash")
		p := startProcess(t, env)
		upstream := slowStream(t, 1, 0)
		_, key, _ := setupService(t, p.base, "pw-crash", upstream.URL, ", limitCostTotalBlock: 10")
		chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`
		send := func(base string, n int) {
			for i := 0; i < n; i++ {
				if resp, body := post(t, base+"/v1/chat/completions", key, chat); resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
			}
		}

		send(p.base, 50)
		for deadline := time.Now().Add(30 * time.Second); readLedger(t, target).records < 50; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the first 50 records were not written within 30s:\n%s", p.logs.String())
			}
		}
		// Then requests until any of their spend or records is in the
		// database, and the kill right after that answer: the moment when
		// one could be written without the other.
		written := readLedger(t, target)
		for sent, deadline := 0, time.Now().Add(30*time.Second); ; sent++ {
			send(p.base, 1)
			if l := readLedger(t, target); l.spent > written.spent || l.records > written.records {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d requests in 30s reached the database neither as records nor as spend", sent)
			}
		}
		_ = p.cmd.Process.Kill()
		<-p.done

		l := readLedger(t, target)
		if l.records < 50 {
			t.Fatalf("after the crash %d records; the 50 written before it were lost", l.records)
		}
		if l.spent != l.recordCost || l.windowsDisagreeCount != 0 {
			t.Fatalf("after the crash the key's total window spent %d µ$ but its %d records cost %d µ$ (%d other windows disagree)",
				l.spent, l.records, l.recordCost, l.windowsDisagreeCount)
		}
		t.Logf("the crash kept %d records of the requests answered after the first 50", l.records-50)

		p = startProcess(t, env)
		send(p.base, 1)
		if err := p.stop(t, 30*time.Second); err != nil {
			t.Fatalf("exit after the restart: %v\n%s", err, p.logs.String())
		}
		after := readLedger(t, target)
		if after.records != l.records+1 || after.spent != after.recordCost {
			t.Fatalf("after the restart: %d records costing %d µ$, the key's total window spent %d µ$; want %d records and equal sums",
				after.records, after.recordCost, after.spent, l.records+1)
		}
	})
}
