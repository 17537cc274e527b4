package budget

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/money"
)

// leaseWrite is one window's share of a leased flush.
type leaseWrite struct {
	w       *memWindow
	k       memKey
	spent   money.Micros // settled spend to add
	fromRes money.Micros // the part of it moved out of the lease
	back    money.Micros // unused lease handed back
	// unknown is what a dropped lease's row held beyond fromRes + back
	// (see writeLeases); set by the write.
	unknown money.Micros
	leaseID int64
	row     int // the window row the lease was granted on
	renew   bool
	drop    bool // the lease is empty: delete its row
	locked  bool // holds w.lease.grow
	warn    *money.Micros
	label   string
	orgID   int
	// Filled by the write:
	lost            bool
	newRow          int // the window row as the upsert found or made it
	alert           *Alert
	dbSpent, dbResv money.Micros
	dbWarned        bool
}

// flushLeased writes settled spend (moving it out of the leases), hands
// back leases unused for idle, renews the rest, and stores warn crossings
// the database's sums show. On failure everything stays for the next try;
// when only the COMMIT failed, the next flush first finds out whether it
// was applied.
func (l *Leased) flushLeased(ctx context.Context, idle time.Duration) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if err := l.resolve(ctx); err != nil {
		return err
	}
	now := l.clock()

	var writes []*leaseWrite
	l.mu.Lock()
	for k, w := range l.windows {
		wr := &leaseWrite{w: w, k: k, spent: w.pending, leaseID: w.lease.id, row: w.lease.row, warn: w.lease.warn, label: w.lease.label, orgID: w.lease.orgID}
		if wr.leaseID != 0 {
			wr.fromRes = min(w.pending, w.lease.amount)
			wr.renew = now.Sub(w.lease.renewed) >= leaseTTL/3
			unused := w.lease.amount - w.used()
			if unused >= 0 && now.Sub(w.lease.used) >= idle && w.lease.grow.TryLock() {
				wr.locked, wr.back = true, unused
				wr.drop = w.lease.amount-wr.fromRes-unused == 0 && w.reserved+w.journal == 0
			}
		}
		if wr.spent == 0 && wr.back == 0 && !wr.renew && !wr.drop {
			if wr.locked {
				w.lease.grow.Unlock()
			}
			continue
		}
		w.pending -= wr.spent
		w.lease.amount -= wr.fromRes + wr.back
		writes = append(writes, wr)
	}
	balances := l.takeBalances()
	l.mu.Unlock()
	if len(writes) == 0 && len(balances) == 0 {
		return nil
	}

	seq := l.nextFlush()
	err := l.retry(ctx, func() error { return l.writeLeased(ctx, writes, balances, now, seq) })
	finish := func(applied bool) { l.finishLeased(writes, balances, now, applied) }
	if l.doubtful(err, seq, finish) {
		// Grants must not wait for the answer: a flush in doubt holds no
		// lease's grow lock.
		l.mu.Lock()
		for _, wr := range writes {
			if wr.locked {
				wr.locked = false
				wr.w.lease.grow.Unlock()
			}
		}
		l.mu.Unlock()
		return err
	}
	finish(err == nil)
	return err
}

// finishLeased ends a leased flush: applied, the windows and leases take
// what the database now holds and the crossings are notified; not, the
// spend and the leases' amounts go back for the next flush. A lease a
// grant replaced meanwhile (its flush was in doubt) is left as it is.
func (l *Leased) finishLeased(writes []*leaseWrite, balances map[int]money.Micros, now time.Time, applied bool) {
	l.mu.Lock()
	for _, wr := range writes {
		w := wr.w
		same := w.lease.id == wr.leaseID
		switch {
		case !applied:
			w.pending += wr.spent
			if same {
				// Unless a grant replaced a swept lease meanwhile: what
				// was taken out belonged to the old one.
				w.lease.amount += wr.fromRes + wr.back
			}
		case wr.lost && same:
			l.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", k2label(wr.k))
			w.lease.id, w.lease.amount = 0, 0
		case wr.drop && same:
			w.lease.id = 0
		case wr.leaseID != 0 && same:
			w.lease.renewed = now
		}
		if applied {
			if same {
				// A grant that replaced the lease read the row after this
				// flush and holds newer figures.
				w.lease.row = wr.newRow
				w.lease.dbSpent, w.lease.dbReserved = wr.dbSpent, wr.dbResv
			}
			w.spent = wr.dbSpent + w.pending
			if wr.alert != nil {
				w.warned = true
			}
		}
		if wr.locked {
			wr.locked = false
			w.lease.grow.Unlock()
		}
	}
	if !applied {
		l.putBalances(balances)
	}
	l.mu.Unlock()
	if !applied {
		return
	}
	for _, wr := range writes {
		if wr.alert != nil {
			l.notify(*wr.alert)
		}
	}
	l.forgetPast()
}

// writeLeased writes one leased flush, numbered seq, in a transaction. A
// lease row gone (swept) means the database no longer counts the lease:
// the spend is added, nothing is taken from reserved.
func (l *Leased) writeLeased(ctx context.Context, writes []*leaseWrite, balances map[int]money.Micros, now time.Time, seq int64) error {
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	expires := now.Add(leaseTTL)
	// Rows are locked window row first, then its lease row, as grant
	// does, and windows in one order, as every flush does: no two
	// transactions wait on each other in a cycle. All the window rows are
	// upserted first, in that order, a few statements' worth at a time,
	// and the lease rows after them: a lease row is only ever locked by a
	// transaction that holds its window row already (grant, release) or
	// holds nothing else (confirm), so nothing waits for a lease row while
	// holding a row this flush wants.
	sort.Slice(writes, func(i, j int) bool { return writes[i].k.less(writes[j].k) })
	for rest := writes; len(rest) > 0; {
		n := leasedStatementLen(rest)
		if err := l.upsertLeased(ctx, tx, rest[:n], now); err != nil {
			return err
		}
		rest = rest[n:]
	}
	if err := l.writeLeases(ctx, tx, writes, expires); err != nil {
		return err
	}
	for _, wr := range writes {
		id := wr.newRow
		if wr.warn == nil || wr.dbWarned || wr.dbSpent < *wr.warn {
			continue
		}
		stmt, err := l.db.Prepared(ctx, tx, l.q(sqlWarnByID))
		if err != nil {
			return fmt.Errorf("mark budget warning: %w", err)
		}
		res, err := stmt.ExecContext(ctx, true, id, false)
		if err != nil {
			return fmt.Errorf("mark budget warning: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		a := Alert{OrgID: wr.orgID, Window: wr.label, Start: wr.k.Start(), Spent: wr.dbSpent, Warn: *wr.warn, WindowID: id}
		if err := l.storeAlert(ctx, tx, a, now); err != nil {
			return err
		}
		wr.alert = &a
	}
	if err := l.writeBalances(ctx, tx, balances, now); err != nil {
		return err
	}
	if err := l.recordFlush(ctx, tx, seq, now); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	return nil
}

// writeLeases moves the flushed amounts out of the leases (renewing them,
// or deleting the empty ones) and out of their windows' reserved, with a
// few statements for all of them rather than two per lease: a replica may
// hold hundreds of leases, and the flush runs every 100 ms. A lease row
// gone (swept), or a window row made anew by the upsert, marks the write
// lost: the database no longer counts that lease, so nothing is taken from
// reserved for it.
func (l *Leased) writeLeases(ctx context.Context, tx *sql.Tx, writes []*leaseWrite, expires time.Time) error {
	var renew, drop []*leaseWrite
	for _, wr := range writes {
		switch {
		case wr.leaseID == 0:
		case wr.newRow != wr.row:
			// The window's row was deleted with its key or service and
			// the upsert made a new one: the lease held nothing in it.
			wr.lost = true
		case wr.drop:
			drop = append(drop, wr)
		default:
			renew = append(renew, wr)
		}
	}
	found := make(map[int64]int64, len(renew)+len(drop)) // lease → its row's amount
	for chunk := range slices.Chunk(renew, spendChunk) {
		args := make([]any, 0, 1+2*len(chunk))
		args = append(args, expires)
		for _, wr := range chunk {
			args = append(args, wr.leaseID, int64(wr.fromRes+wr.back))
		}
		if err := l.leaseIDs(ctx, tx, leaseRenewSQL(len(chunk)), args, found); err != nil {
			return fmt.Errorf("write budget leases: %w", err)
		}
	}
	for chunk := range slices.Chunk(drop, spendChunk) {
		args := make([]any, len(chunk))
		for i, wr := range chunk {
			args[i] = wr.leaseID
		}
		if err := l.leaseIDs(ctx, tx, leaseDeleteSQL(len(chunk)), args, found); err != nil {
			return fmt.Errorf("delete empty budget leases: %w", err)
		}
	}
	var moved []*leaseWrite
	for _, list := range [][]*leaseWrite{renew, drop} {
		for _, wr := range list {
			amount, ok := found[wr.leaseID]
			if wr.drop && ok {
				// The row holds more than this process knows of when a
				// grant's COMMIT failed after the database applied it: the
				// deleted row hands that back too.
				wr.unknown = max(0, money.Micros(amount)-wr.fromRes-wr.back)
			}
			switch {
			case !ok:
				wr.lost = true
			case wr.fromRes+wr.back+wr.unknown != 0:
				moved = append(moved, wr)
			}
		}
	}
	for chunk := range slices.Chunk(moved, spendChunk) {
		if err := l.releaseReserved(ctx, tx, chunk); err != nil {
			return fmt.Errorf("release leased budget: %w", err)
		}
	}
	return nil
}

// releaseReserved takes each write's moved amount out of its window's
// reserved, in one statement, and reads back what the rows now hold.
func (l *Leased) releaseReserved(ctx context.Context, tx *sql.Tx, writes []*leaseWrite) error {
	args := make([]any, 0, 2*len(writes))
	for _, wr := range writes {
		args = append(args, wr.newRow, int64(wr.fromRes+wr.back+wr.unknown))
	}
	rows, err := l.query(ctx, tx, releaseReservedSQL(len(writes)), args)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int
		var reserved int64
		if err := rows.Scan(&id, &reserved); err != nil {
			return err
		}
		for _, wr := range writes {
			if wr.newRow == id {
				wr.dbResv = money.Micros(reserved)
				n++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(writes) {
		return fmt.Errorf("%d of %d window rows came back", n, len(writes))
	}
	return nil
}

// leaseIDs runs q (with ? placeholders) and adds the lease IDs and
// amounts it returns to found.
func (l *Leased) leaseIDs(ctx context.Context, tx *sql.Tx, q string, args []any, found map[int64]int64) error {
	rows, err := l.query(ctx, tx, q, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, amount int64
		if err := rows.Scan(&id, &amount); err != nil {
			return err
		}
		found[id] = amount
	}
	return rows.Err()
}

// valueRows is n rows of (id, amount) for a VALUES list, typed so that
// PostgreSQL need not guess the parameters' types; both dialects name the
// columns column1 and column2.
func valueRows(n int) string {
	return strings.TrimSuffix(strings.Repeat("(CAST(? AS BIGINT), CAST(? AS BIGINT)), ", n), ", ")
}

// leasedStatementLen is how many of writes (sorted) one upsertLeased
// statement takes: at most spendChunk, and never two starts of one
// window (around a window's end, the old window and the new), because
// upsertLeased tells the returned rows apart by scope, id and window.
// Cutting the sorted list into consecutive pieces keeps the rows locked in
// the one order.
func leasedStatementLen(writes []*leaseWrite) int {
	n := min(len(writes), spendChunk)
	for i := 1; i < n; i++ {
		for _, prev := range writes[:i] {
			if prev.k.scope == writes[i].k.scope && prev.k.id == writes[i].k.id && prev.k.window == writes[i].k.window {
				return i
			}
		}
	}
	return n
}

// upsertLeased adds the writes' settled spend to their window rows,
// creating the missing ones, in one statement, and reads back what each
// row now holds.
func (l *Leased) upsertLeased(ctx context.Context, tx *sql.Tx, writes []*leaseWrite, now time.Time) error {
	stmt, err := l.db.Prepared(ctx, tx, l.q(spendUpsertSQL(len(writes))+sqlSpendReturning))
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	args := make([]any, 0, spendArgs*len(writes))
	for _, wr := range writes {
		wr.lost, wr.alert, wr.newRow, wr.unknown = false, nil, 0, 0
		args = appendSpend(args, wr.k, wr.spent, now)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r spendRow
		if err := r.scan(rows); err != nil {
			return err
		}
		for _, wr := range writes {
			if wr.k.id == r.scopeID && string(wr.k.Scope()) == r.scope && string(wr.k.Window()) == r.window {
				wr.newRow, wr.dbSpent, wr.dbResv, wr.dbWarned = r.id, money.Micros(r.spent), money.Micros(r.reserved), r.warned
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read spend window: %w", err)
	}
	for _, wr := range writes {
		if wr.newRow == 0 {
			return fmt.Errorf("write budget spend: no row came back for %s", k2label(wr.k))
		}
	}
	return nil
}
