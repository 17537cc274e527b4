package budget

import (
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/ent/balance"
	"github.com/sluicehq/sluice/ent/budgetflush"
	"github.com/sluicehq/sluice/ent/budgetreservation"
	"github.com/sluicehq/sluice/ent/spendwindow"
)

// The budget's hand-written statements, with ? placeholders (memory.q
// rebinds them), built once from ent's table and column names so that a
// renamed column fails the schema test instead of a request. They are
// hand-written for what ent does not say in one statement: upserts that
// add to a column, conditional updates that return the row, several rows
// at once.

// The spend_windows columns; "window" is an SQL keyword and is quoted.
const (
	swTable    = spendwindow.Table
	swID       = spendwindow.FieldID
	swScope    = spendwindow.FieldScope
	swScopeID  = spendwindow.FieldScopeID
	swWindow   = `"` + spendwindow.FieldWindow + `"`
	swStart    = spendwindow.FieldWindowStart
	swSpent    = spendwindow.FieldSpent
	swReserved = spendwindow.FieldReserved
	swWarned   = spendwindow.FieldWarned
	swUpdated  = spendwindow.FieldUpdatedAt
)

// The budget_reservations (leases) columns.
const (
	brTable   = budgetreservation.Table
	brID      = budgetreservation.FieldID
	brCreated = budgetreservation.FieldCreatedAt
	brExpires = budgetreservation.FieldExpiresAt
	brAmount  = budgetreservation.FieldAmount
	brWindows = budgetreservation.FieldWindowIds
)

// swKey is the WHERE clause that finds one window's row by its key;
// its arguments are scope, scope ID, window and window start.
var swKey = fmt.Sprintf(`%s = ? AND %s = ? AND %s = ? AND %s = ?`, swScope, swScopeID, swWindow, swStart)

// Spend windows, for both ledgers.
var (
	// sqlSpendInsert, followed by n rows of spendValues, inserts window rows.
	sqlSpendInsert = fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s, %s) VALUES `,
		swTable, swScope, swScopeID, swWindow, swStart, swSpent, swReserved, swWarned, swUpdated)
	// sqlSpendOnConflict adds the rows' spent to the ones that exist.
	sqlSpendOnConflict = fmt.Sprintf(` ON CONFLICT (%[2]s, %[3]s, %[4]s, %[5]s) DO UPDATE SET %[6]s = %[1]s.%[6]s + excluded.%[6]s, %[7]s = excluded.%[7]s`,
		swTable, swScope, swScopeID, swWindow, swStart, swSpent, swUpdated)
	// sqlSpendReturning, after spendUpsertSQL, reads back each row as
	// spendRow scans it.
	sqlSpendReturning = fmt.Sprintf(` RETURNING %s, %s, %s, %s, %s, %s, %s`, swID, swScope, swScopeID, swWindow, swSpent, swReserved, swWarned)
	// sqlSpendWarnUpsert adds one window's spent and marks it warned,
	// returning its ID.
	sqlSpendWarnUpsert = sqlSpendInsert + `(?, ?, ?, ?, ?, 0, TRUE, ?)` +
		sqlSpendOnConflict + fmt.Sprintf(`, %s = TRUE RETURNING %s`, swWarned, swID)
	sqlSpendRead    = fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s`, swSpent, swWarned, swTable, swKey)
	sqlSpendSums    = fmt.Sprintf(`SELECT COALESCE(SUM(%s), 0), COALESCE(SUM(%s), 0) FROM %s WHERE %s`, swSpent, swReserved, swTable, swKey)
	sqlSpendByID    = fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s = ?`, swSpent, swReserved, swTable, swID)
	sqlReserveGrant = fmt.Sprintf(`UPDATE %[1]s SET %[4]s = %[4]s + ?, %[5]s = ? WHERE %[2]s = ? AND %[3]s + %[4]s + ? <= ? RETURNING %[3]s, %[4]s`,
		swTable, swID, swSpent, swReserved, swUpdated)
	sqlReserveRelease = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s - ? WHERE %[2]s = ?`, swTable, swID, swReserved)
	// sqlWarnByKey marks a window found by key warned if its spent reached
	// the warning, returning its ID and spent; arguments: true, the key,
	// false, the warning.
	sqlWarnByKey = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = ? WHERE %[5]s AND %[3]s = ? AND %[4]s >= ? RETURNING %[2]s, %[4]s`,
		swTable, swID, swWarned, swSpent, swKey)
	sqlWarnByID = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = ? WHERE %[2]s = ? AND %[3]s = ?`, swTable, swID, swWarned)
)

// spendValues is one row of sqlSpendInsert; its arguments are appendSpend's.
const spendValues = `(?, ?, ?, ?, ?, 0, FALSE, ?)`

// spendUpsertSQL adds spent to n window rows, creating the missing ones;
// its arguments are appendSpend's, n times.
func spendUpsertSQL(n int) string {
	return sqlSpendInsert + strings.TrimSuffix(strings.Repeat(spendValues+", ", n), ", ") + sqlSpendOnConflict
}

// releaseReservedSQL takes each of n (window ID, amount) rows' amount out of
// the window's reserved, returning the window's ID and reserved.
func releaseReservedSQL(n int) string {
	return sqlReleaseReserved[0] + valueRows(n) + sqlReleaseReserved[1]
}

var sqlReleaseReserved = split(fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s - v.column2 FROM (VALUES %%s) AS v WHERE %[1]s.%[2]s = v.column1 RETURNING %[2]s, %[3]s`,
	swTable, swID, swReserved))

// lockWindowsSQL locks n window rows by ID in the order leases lock them.
func lockWindowsSQL(n int) string { return sqlLockWindows[0] + placeholders(n) + sqlLockWindows[1] }

var sqlLockWindows = split(fmt.Sprintf(`SELECT %[2]s FROM %[1]s WHERE %[2]s IN (%%s) ORDER BY %[3]s, %[4]s, %[5]s FOR UPDATE`,
	swTable, swID, swScope, swScopeID, swWindow))

// unreserveSQL takes one amount out of n windows' reserved, by ID.
func unreserveSQL(n int) string { return sqlUnreserve[0] + placeholders(n) + sqlUnreserve[1] }

var sqlUnreserve = split(fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s - ? WHERE %[2]s IN (%%s)`, swTable, swID, swReserved))

// Leases.
var (
	sqlLeaseRenew  = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = ? WHERE %[2]s = ? AND %[3]s >= ?`, brTable, brID, brExpires)
	sqlLeaseGrow   = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s + ?, %[4]s = ? WHERE %[2]s = ?`, brTable, brID, brAmount, brExpires)
	sqlLeaseShrink = fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s - ? WHERE %[2]s = ? RETURNING %[2]s`, brTable, brID, brAmount)
	sqlLeaseInsert = fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s) VALUES (?, ?, ?, ?) RETURNING %s`,
		brTable, brCreated, brExpires, brAmount, brWindows, brID)
	sqlLeasesExpired = fmt.Sprintf(`SELECT %s FROM %s WHERE %s < ? LIMIT 500`, brID, brTable, brExpires)
	sqlLeaseWindows  = fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ? AND %s < ?`, brWindows, brTable, brID, brExpires)
	sqlLeaseSweep    = fmt.Sprintf(`DELETE FROM %s WHERE %s = ? AND %s < ? RETURNING %s`, brTable, brID, brExpires, brAmount)
)

// leaseRenewSQL takes each of n (lease ID, amount) rows' amount out of the
// lease and renews it to the first argument, returning ID and amount.
func leaseRenewSQL(n int) string { return sqlLeaseRenewRows[0] + valueRows(n) + sqlLeaseRenewRows[1] }

var sqlLeaseRenewRows = split(fmt.Sprintf(`UPDATE %[1]s SET %[3]s = %[3]s - v.column2, %[4]s = ? FROM (VALUES %%s) AS v WHERE %[1]s.%[2]s = v.column1 RETURNING %[2]s, %[3]s`,
	brTable, brID, brAmount, brExpires))

// leaseDeleteSQL deletes n leases by ID, returning ID and amount.
func leaseDeleteSQL(n int) string { return sqlLeaseDelete[0] + placeholders(n) + sqlLeaseDelete[1] }

var sqlLeaseDelete = split(fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (%%s) RETURNING %[2]s, %[3]s`, brTable, brID, brAmount))

// Balances and the flush log.
var (
	sqlBalanceRead = fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ?`, balance.FieldCurrentBalance, balance.Table, balance.FieldOrganizationID)
	sqlBalanceTake = fmt.Sprintf(`UPDATE %[1]s SET %[2]s = %[2]s - ?, %[3]s = ? WHERE %[4]s = ?`,
		balance.Table, balance.FieldCurrentBalance, balance.FieldUpdatedAt, balance.FieldOrganizationID)
	sqlFlushRecord = fmt.Sprintf(`INSERT INTO %[1]s (%[2]s, %[3]s, %[4]s) VALUES (?, ?, ?) ON CONFLICT (%[2]s) DO UPDATE SET %[3]s = excluded.%[3]s, %[4]s = excluded.%[4]s`,
		budgetflush.Table, budgetflush.FieldID, budgetflush.FieldSeq, budgetflush.FieldUpdatedAt)
	sqlFlushPrune = fmt.Sprintf(`DELETE FROM %s WHERE %s < ?`, budgetflush.Table, budgetflush.FieldUpdatedAt)
	sqlFlushSeq   = fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ?`, budgetflush.FieldSeq, budgetflush.Table, budgetflush.FieldID)
)

// split cuts a statement built with a %s where its rows go into the
// parts before and after, so that a call adds the rows with one
// concatenation and no formatting.
func split(q string) [2]string {
	before, after, ok := strings.Cut(q, "%s")
	if !ok {
		panic("budget: statement has no %s for its rows: " + q)
	}
	return [2]string{before, after}
}

// statements lists every statement above that runs on the dialect, the
// variable ones at one and two rows, for the test that prepares them
// against the migrated schema.
func statements(dialectName string) []string {
	out := []string{
		sqlSpendWarnUpsert, sqlSpendRead, sqlSpendSums, sqlSpendByID, sqlReserveGrant, sqlReserveRelease,
		sqlWarnByKey, sqlWarnByID, sqlLeaseRenew, sqlLeaseGrow, sqlLeaseShrink, sqlLeaseInsert,
		sqlLeasesExpired, sqlLeaseWindows, sqlLeaseSweep, sqlBalanceRead, sqlBalanceTake,
		sqlFlushRecord, sqlFlushPrune, sqlFlushSeq,
	}
	for n := 1; n <= 2; n++ {
		out = append(out, spendUpsertSQL(n), spendUpsertSQL(n)+sqlSpendReturning, releaseReservedSQL(n),
			unreserveSQL(n), leaseRenewSQL(n), leaseDeleteSQL(n), spendsSQL(n))
		if dialectName == dialect.Postgres {
			out = append(out, lockWindowsSQL(n)) // SQLite has no FOR UPDATE
		}
	}
	return out
}

// spendsSQL reads the current windows of n subjects of one scope; its
// arguments are the scope, the n IDs, then each of Windows with its
// current start.
func spendsSQL(n int) string { return sqlSpends[0] + placeholders(n) + sqlSpends[1] }

var sqlSpends = split(fmt.Sprintf(`SELECT %[3]s, %[4]s, %[6]s, %[7]s FROM %[1]s WHERE %[2]s = ? AND %[3]s IN (%%s) AND (`+
	`(%[4]s = ? AND %[5]s = ?) OR (%[4]s = ? AND %[5]s = ?) OR (%[4]s = ? AND %[5]s = ?) OR (%[4]s = ? AND %[5]s = ?))`,
	swTable, swScope, swScopeID, swWindow, swStart, swSpent, swReserved))
