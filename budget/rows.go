package budget

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// The statements both ledgers write spend windows and balances with.

// pendingWrite is one window's settled spend (and crossing) to write.
type pendingWrite struct {
	k      memKey
	amount money.Micros
	alert  *Alert
}

// spendChunk is the most windows one addSpent statement carries, which
// bounds how many statements (one per row count) stay prepared.
const spendChunk = 16

// addSpent adds the writes' amounts to their windows' rows, creating the
// rows that are missing, in one statement.
func (m *memory) addSpent(ctx context.Context, tx *sql.Tx, writes []pendingWrite, now time.Time) error {
	stmt, err := m.db.Prepared(ctx, tx, m.q(spendUpsertSQL(len(writes))))
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	args := make([]any, 0, spendArgs*len(writes))
	for _, wr := range writes {
		args = appendSpend(args, wr.k, wr.amount, now)
	}
	if _, err := stmt.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	return nil
}

// spendArgs is how many arguments appendSpend adds.
const spendArgs = 6

// appendSpend appends one row's arguments for spendUpsertSQL.
func appendSpend(args []any, k memKey, amount money.Micros, now time.Time) []any {
	return append(args, string(k.Scope()), k.id, string(k.Window()), k.Start(), int64(amount), now)
}

// spendRow is one spend window row as sqlSpendReturning reads it back.
type spendRow struct {
	id, scopeID     int
	scope, window   string
	spent, reserved int64
	warned          bool
}

func (r *spendRow) scan(rows *sql.Rows) error {
	if err := rows.Scan(&r.id, &r.scope, &r.scopeID, &r.window, &r.spent, &r.reserved, &r.warned); err != nil {
		return fmt.Errorf("read spend window: %w", err)
	}
	return nil
}

// writeBalances takes settled spend off the organizations' prepaid
// balances.
func (m *memory) writeBalances(ctx context.Context, tx *sql.Tx, balances map[int]money.Micros, now time.Time) error {
	// In one order, so that two replicas' flushes never wait on each other
	// in a cycle.
	for _, org := range slices.Sorted(maps.Keys(balances)) {
		amount := balances[org]
		stmt, err := m.db.Prepared(ctx, tx, m.q(sqlBalanceTake))
		if err != nil {
			return fmt.Errorf("write balance: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, int64(amount), now, org); err != nil {
			return fmt.Errorf("write balance: %w", err)
		}
	}
	return nil
}

// query runs q (with ? placeholders) as a statement prepared once per
// connection (database.Prepared).
func (m *memory) query(ctx context.Context, tx *sql.Tx, q string, args []any) (*sql.Rows, error) {
	stmt, err := m.db.Prepared(ctx, tx, m.q(q))
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

func (m *memory) q(s string) string { return database.Rebind(m.db.Dialect, s) }

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func intArgs(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
