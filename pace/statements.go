package pace

import (
	"fmt"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/ent/paceslot"
	"github.com/sluicehq/sluice/ent/pacewindow"
)

// The leased limiter's statements, with ? placeholders (rebound per
// dialect), built from ent's table and column names so that a renamed
// column fails the schema test instead of a request. They are hand-written
// for what ent does not say in one statement: an insert that leaves an
// existing row alone, a locking read, a conditional renewal.

const (
	pwTable   = pacewindow.Table
	pwID      = pacewindow.FieldID
	pwScope   = pacewindow.FieldScope
	pwScopeID = pacewindow.FieldScopeID
	pwKind    = pacewindow.FieldKind
	pwHead    = pacewindow.FieldHead
	pwCounts  = pacewindow.FieldCounts
	pwUpdated = pacewindow.FieldUpdatedAt

	psTable   = paceslot.Table
	psHolder  = paceslot.FieldHolder
	psScope   = paceslot.FieldScope
	psScopeID = paceslot.FieldScopeID
	psHeld    = paceslot.FieldHeld
	psExpires = paceslot.FieldExpiresAt
)

var (
	// sqlWindowEnsure creates a subject's window row if it is missing;
	// arguments: scope, scope ID, kind, now.
	sqlWindowEnsure = fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s, %s, %s) VALUES (?, ?, ?, 0, '[]', ?) ON CONFLICT (%[2]s, %[3]s, %[4]s) DO NOTHING`,
		pwTable, pwScope, pwScopeID, pwKind, pwHead, pwCounts, pwUpdated)
	// sqlWindowRead reads a window row; sqlWindowLock also locks it on
	// PostgreSQL (SQLite's transactions hold the database from BEGIN).
	sqlWindowRead = fmt.Sprintf(`SELECT %s, %s, %s FROM %s WHERE %s = ? AND %s = ? AND %s = ?`,
		pwID, pwHead, pwCounts, pwTable, pwScope, pwScopeID, pwKind)
	sqlWindowLock  = sqlWindowRead + ` FOR UPDATE`
	sqlWindowWrite = fmt.Sprintf(`UPDATE %s SET %s = ?, %s = ?, %s = ? WHERE %s = ?`, pwTable, pwHead, pwCounts, pwUpdated, pwID)

	// psSubject finds a subject's slot rows; arguments: scope, scope ID.
	psSubject = fmt.Sprintf(`%s = ? AND %s = ?`, psScope, psScopeID)
	// sqlSlotsExpire deletes a subject's slot rows that expired; then now.
	sqlSlotsExpire = fmt.Sprintf(`DELETE FROM %s WHERE %s AND %s < ?`, psTable, psSubject, psExpires)
	// sqlSlotsOthers sums the slots other holders hold; then the holder.
	sqlSlotsOthers = fmt.Sprintf(`SELECT COALESCE(SUM(%s), 0) FROM %s WHERE %s AND %s <> ?`, psHeld, psTable, psSubject, psHolder)
	// sqlSlotUpsert sets a holder's slots; arguments: holder, scope,
	// scope ID, held, expiry.
	sqlSlotUpsert = fmt.Sprintf(`INSERT INTO %[1]s (%[2]s, %[3]s, %[4]s, %[5]s, %[6]s) VALUES (?, ?, ?, ?, ?) ON CONFLICT (%[2]s, %[3]s, %[4]s) DO UPDATE SET %[5]s = excluded.%[5]s, %[6]s = excluded.%[6]s`,
		psTable, psHolder, psScope, psScopeID, psHeld, psExpires)
	// sqlSlotSet sets a holder's slots if its row has not expired;
	// arguments: held, expiry, holder, scope, scope ID, now.
	sqlSlotSet = fmt.Sprintf(`UPDATE %s SET %s = ?, %s = ? WHERE %s = ? AND %s AND %s >= ?`, psTable, psHeld, psExpires, psHolder, psSubject, psExpires)
	// sqlSlotDelete deletes a holder's row; arguments: holder, scope, scope ID.
	sqlSlotDelete = fmt.Sprintf(`DELETE FROM %s WHERE %s = ? AND %s`, psTable, psHolder, psSubject)
	// sqlSlotsSweep deletes every expired slot row; argument: now.
	sqlSlotsSweep = fmt.Sprintf(`DELETE FROM %s WHERE %s < ?`, psTable, psExpires)
)

// statements lists every statement above that runs on the dialect, for
// the test that prepares them against the migrated schema.
func statements(dialectName string) []string {
	out := []string{sqlWindowEnsure, sqlWindowRead, sqlWindowWrite, sqlSlotsExpire, sqlSlotsOthers,
		sqlSlotUpsert, sqlSlotSet, sqlSlotDelete, sqlSlotsSweep}
	if dialectName == dialect.Postgres {
		out = append(out, sqlWindowLock) // SQLite has no FOR UPDATE
	}
	return out
}
