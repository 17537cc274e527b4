package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// Leasing parameters. A lease grows by a quarter of the headroom the
// window had when last read, so that replicas sharing a window split what
// is left and leases shrink towards exact grants near the block, but by no
// more than leaseChunk requests' worth, which bounds what a crash locks
// away until leaseTTL (never more than that quarter of the headroom).
// The request that finds its lease
// used up waits for the grant (a database round trip), so leaseChunk
// also sets how many requests wait: at 256, a service with day and month
// limits sent one request in about 130 to the database, inside the 1% that
// p99 reports; at 4,096 it is one in about 2,000, and a lease still covers
// only a second or two of a busy service's traffic.
const (
	leaseChunk = 4096
	// leaseTTL is how long a lease outlives its replica's last renewal;
	// renewals come every leaseTTL/3.
	leaseTTL = time.Minute
	// leaseIdle is how long a lease may go unused before its unused part
	// goes back to the window for other replicas.
	leaseIdle = time.Second
	// maxLeaseAttempts bounds how often one request grows a lease that
	// other requests keep using up before it.
	maxLeaseAttempts = 8
)

// lease is one window's share of the database's headroom in the leased
// mode. The database's reserved counts the lease whole; this process
// admits requests against it in memory while its holds and its settled
// spend not yet written fit: holds + pending + request ≤ amount. Writing
// pending spend moves that much from the lease into spent in one update, so
// spent + reserved in the database never falls below what this process has
// admitted while the lease lives, and the conditional grant keeps
// spent + reserved ≤ block across every replica.
type lease struct {
	row        int          // the spend_windows row
	id         int64        // the budget_reservations row recording the lease; 0 while there is none
	amount     money.Micros // how much of the row's reserved this process holds
	renewed    time.Time
	used       time.Time // the last admission, for handing idle leases back
	dbSpent    money.Micros
	dbReserved money.Micros // the row as last read
	// The warn limit, label and organization the last settle saw, for
	// the crossings a flush finds.
	warn  *money.Micros
	label string
	orgID int
	grow  sync.Mutex // one grant or give-back at a time
}

// NewLeased returns budgets for several replicas sharing a PostgreSQL
// database. Windows live in memory as in the embedded mode, and each
// replica leases a slice of a limited window's headroom with one
// conditional update (reserved grows only while spent + reserved stays
// within the block), then admits requests against its lease without a
// database round trip. Settled spend, warn crossings and balance changes
// are written behind every 100 ms; unused leases go back after a second
// idle and at shutdown; a dead replica's leases expire after leaseTTL and
// the sweeper returns them.
//
// The block holds across replicas, as in the locking mode, as long as the
// replicas' clocks agree within leaseTTL/2: a lease not renewed for that
// long is renewed (or found swept and leased anew) before anything more is
// admitted against it. The one way past a block: spend a replica settled
// and then could not write for longer than leaseTTL (cut off from the
// database) lands late, on top of what the others spent meanwhile from the
// headroom the sweep returned. What leasing trades: a request may be refused while
// other replicas hold unused slices of the headroom (each slice at most a
// quarter of what was left when it was leased; a replica's slices go back
// after a second without admissions), and the spend other replicas settled
// shows here, in warnings, a flush later.
func NewLeased(db *database.DB, log *slog.Logger) *Budgets {
	b := NewEmbedded(db, log)
	b.mem.leased = true
	return b
}

// loadLeased creates the missing windows' rows and reads them, so that
// leases can name them; called under flushMu.
func (b *Budgets) loadLeased(ctx context.Context, missing []*slot) error {
	now := b.Now().UTC()
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := b.upsert(ctx, tx, missing, now, nil); err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	m := b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range missing {
		w, ok := m.windows[keyOf(s)]
		if !ok {
			w = &memWindow{}
			m.windows[keyOf(s)] = w
		}
		if w.loaded {
			continue
		}
		w.lease.row, w.lease.dbSpent, w.lease.dbReserved = s.id, s.spent, s.reserved
		w.spent, w.warned, w.loaded = s.spent+w.pending, w.warned || s.warned, true
	}
	return nil
}

// grow leases more of s's window so that a request of amount fits, or
// refuses when the database's headroom cannot cover it.
func (b *Budgets) grow(ctx context.Context, s *slot, amount money.Micros) error {
	m := b.mem
	m.mu.Lock()
	w := m.windows[keyOf(s)]
	m.mu.Unlock()
	if w == nil {
		return fmt.Errorf("reserve budget: spend window %s was forgotten while the request waited", s.subject.label(s.window))
	}
	w.lease.grow.Lock()
	defer w.lease.grow.Unlock()

	if err := b.confirm(ctx, w); err != nil {
		return fmt.Errorf("reserve budget: lease %s: %w", s.subject.label(s.window), err)
	}
	m.mu.Lock()
	if m.windows[keyOf(s)] != w {
		m.mu.Unlock()
		return fmt.Errorf("reserve budget: spend window %s was forgotten while the request waited", s.subject.label(s.window))
	}
	need := w.reserved + w.pending + amount - w.lease.amount
	headroom := *s.block - w.lease.dbSpent - w.lease.dbReserved
	row, leaseID := w.lease.row, w.lease.id
	if need <= 0 {
		// A grant for another request covered this one.
		w.reserved += amount
		s.held = true
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	want := need
	if amount > 0 {
		// Whole requests' worth, so that equal requests leave no unusable
		// remainder in a lease.
		chunk := min(headroom/4, leaseChunk*amount) / amount * amount
		want = max(want, chunk)
	}
	now := b.Now().UTC()
	var g grant
	err := b.retry(ctx, func() error {
		var err error
		g, err = b.grant(ctx, row, leaseID, *s.block, want, need, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("reserve budget: lease %s: %w", s.subject.label(s.window), err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	w.lease.dbSpent, w.lease.dbReserved = g.spent, g.reserved
	w.spent = g.spent + w.pending
	if g.amount == 0 {
		// What the database holds beyond this process's own unwritten
		// spend is in flight somewhere.
		s.spent, s.reserved = w.spent, g.reserved-min(w.pending, w.lease.amount)
		return b.refusal(s, amount, now)
	}
	if g.id != leaseID {
		if leaseID != 0 {
			// The sweeper returned this lease (the process stalled past
			// leaseTTL): the database no longer counts it.
			b.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", s.subject.label(s.window))
			w.lease.amount = 0
		}
		w.lease.id = g.id
	}
	w.lease.amount += g.amount
	w.lease.renewed = now
	if w.reserved+w.pending+amount <= w.lease.amount {
		w.reserved += amount
		s.held = true
	}
	return nil
}

// confirm renews w's lease when it is stale, before anything is admitted
// against it: a lease not renewed for leaseTTL may have been swept back to
// the window by another replica (this one stalled, or could not reach the
// database), and admitting against it would pass the block. A lease found
// gone is dropped, so the caller leases anew. The caller holds
// w.lease.grow.
func (b *Budgets) confirm(ctx context.Context, w *memWindow) error {
	m := b.mem
	now := b.Now().UTC() // before the renewal, so that its age is never understated
	m.mu.Lock()
	id, stale := w.lease.id, leaseStale(&w.lease, now)
	m.mu.Unlock()
	if id == 0 || !stale {
		return nil
	}
	res, err := b.db.SQL.ExecContext(ctx, b.q(`UPDATE budget_reservations SET expires_at = ? WHERE id = ? AND expires_at >= ?`), now.Add(leaseTTL), id, now)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.lease.id != id {
		return nil
	}
	if n == 1 {
		w.lease.renewed = now
		return nil
	}
	b.log.Warn("a budget lease expired while its replica lived; leasing anew", "window_row", w.lease.row)
	w.lease.id, w.lease.amount = 0, 0
	return nil
}

// leaseStale reports whether a lease went long enough without renewal
// that a sweeper may have returned it (with leaseTTL/2 to spare for the
// replicas' clocks); the caller holds m.mu.
func leaseStale(l *lease, now time.Time) bool {
	return l.id != 0 && now.Sub(l.renewed) >= leaseTTL/2
}

// grant is the outcome of one lease request: amount granted (zero when
// refused) and the window row as it stands.
type grant struct {
	amount          money.Micros
	id              int64
	spent, reserved money.Micros
}

// grant adds want (or, failing that, need) to the window's reserved if
// spent + reserved stays within block, and records it in the lease row
// leaseID, or a new one if that is 0 or was swept.
func (b *Budgets) grant(ctx context.Context, row int, leaseID int64, block, want, need money.Micros, now time.Time) (grant, error) {
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return grant{}, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	g := grant{id: leaseID}
	var spent, reserved int64
	for _, amount := range []money.Micros{want, need} {
		err := tx.QueryRowContext(ctx, b.q(`UPDATE spend_windows SET reserved = reserved + ?, updated_at = ? WHERE id = ? AND spent + reserved + ? <= ? RETURNING spent, reserved`),
			int64(amount), now, row, int64(amount), int64(block)).Scan(&spent, &reserved)
		if err == nil {
			g.amount = amount
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return grant{}, err
		}
		if want == need {
			break
		}
	}
	if g.amount == 0 {
		if err := tx.QueryRowContext(ctx, b.q(`SELECT spent, reserved FROM spend_windows WHERE id = ?`), row).Scan(&spent, &reserved); err != nil {
			return grant{}, err
		}
		g.spent, g.reserved = money.Micros(spent), money.Micros(reserved)
		return g, nil
	}
	g.spent, g.reserved = money.Micros(spent), money.Micros(reserved)
	expires := now.Add(leaseTTL)
	if leaseID != 0 {
		res, err := tx.ExecContext(ctx, b.q(`UPDATE budget_reservations SET amount = amount + ?, expires_at = ? WHERE id = ?`), int64(g.amount), expires, leaseID)
		if err != nil {
			return grant{}, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			g.id = 0
		}
	}
	if g.id == 0 {
		if err := tx.QueryRowContext(ctx, b.q(`INSERT INTO budget_reservations (created_at, expires_at, amount, window_ids) VALUES (?, ?, ?, ?) RETURNING id`),
			now, expires, int64(g.amount), fmt.Sprintf("[%d]", row)).Scan(&g.id); err != nil {
			return grant{}, err
		}
	}
	return g, tx.Commit()
}

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
func (b *Budgets) flushLeased(ctx context.Context, idle time.Duration) error {
	m := b.mem
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if err := b.resolve(ctx); err != nil {
		return err
	}
	now := b.Now().UTC()

	var writes []*leaseWrite
	m.mu.Lock()
	for k, w := range m.windows {
		wr := &leaseWrite{w: w, k: k, spent: w.pending, leaseID: w.lease.id, row: w.lease.row, warn: w.lease.warn, label: w.lease.label, orgID: w.lease.orgID}
		if wr.leaseID != 0 {
			wr.fromRes = min(w.pending, w.lease.amount)
			wr.renew = now.Sub(w.lease.renewed) >= leaseTTL/3
			unused := w.lease.amount - w.reserved - w.pending
			if unused >= 0 && now.Sub(w.lease.used) >= idle && w.lease.grow.TryLock() {
				wr.locked, wr.back = true, unused
				wr.drop = w.lease.amount-wr.fromRes-unused == 0 && w.reserved == 0
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
	balances := m.takeBalances()
	m.mu.Unlock()
	if len(writes) == 0 && len(balances) == 0 {
		return nil
	}

	seq := m.nextFlush()
	err := b.retry(ctx, func() error { return b.writeLeased(ctx, writes, balances, now, seq) })
	finish := func(applied bool) { b.finishLeased(writes, balances, now, applied) }
	if m.doubtful(err, seq, finish) {
		// Grants must not wait for the answer: a flush in doubt holds no
		// lease's grow lock.
		m.mu.Lock()
		for _, wr := range writes {
			if wr.locked {
				wr.locked = false
				wr.w.lease.grow.Unlock()
			}
		}
		m.mu.Unlock()
		return err
	}
	finish(err == nil)
	return err
}

// finishLeased ends a leased flush: applied, the windows and leases take
// what the database now holds and the crossings are notified; not, the
// spend and the leases' amounts go back for the next flush. A lease a
// grant replaced meanwhile (its flush was in doubt) is left as it is.
func (b *Budgets) finishLeased(writes []*leaseWrite, balances map[int]money.Micros, now time.Time, applied bool) {
	m := b.mem
	m.mu.Lock()
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
			b.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", k2label(wr.k))
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
		m.putBalances(balances)
	}
	m.mu.Unlock()
	if !applied {
		return
	}
	for _, wr := range writes {
		if wr.alert != nil {
			b.notify(*wr.alert)
		}
	}
	b.forgetPast()
}

// less orders window keys as reserve orders its slots (scope, ID,
// window name), with the start last.
func (k memKey) less(o memKey) bool {
	if k.scope != o.scope {
		return k.scope < o.scope
	}
	if k.id != o.id {
		return k.id < o.id
	}
	if k.window != o.window {
		return k.window < o.window
	}
	return k.startNS < o.startNS
}

// k2label names a window for logs when only its key is at hand.
func k2label(k memKey) string { return fmt.Sprintf("%s %d %s", k.Scope(), k.id, k.Window()) }

// writeLeased writes one leased flush, numbered seq, in a transaction. A
// lease row gone (swept) means the database no longer counts the lease:
// the spend is added, nothing is taken from reserved.
func (b *Budgets) writeLeased(ctx context.Context, writes []*leaseWrite, balances map[int]money.Micros, now time.Time, seq int64) error {
	tx, err := b.db.SQL.BeginTx(ctx, nil)
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
		if err := b.upsertLeased(ctx, tx, rest[:n], now); err != nil {
			return err
		}
		rest = rest[n:]
	}
	if err := b.writeLeases(ctx, tx, writes, expires); err != nil {
		return err
	}
	for _, wr := range writes {
		id := wr.newRow
		if wr.warn == nil || wr.dbWarned || wr.dbSpent < *wr.warn {
			continue
		}
		stmt, err := b.db.Prepared(ctx, tx, b.q(`UPDATE spend_windows SET warned = ? WHERE id = ? AND warned = ?`))
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
		if err := b.storeAlert(ctx, tx, a, now); err != nil {
			return err
		}
		wr.alert = &a
	}
	if err := b.writeBalances(ctx, tx, balances, now); err != nil {
		return err
	}
	if err := b.recordFlush(ctx, tx, seq, now); err != nil {
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
func (b *Budgets) writeLeases(ctx context.Context, tx *sql.Tx, writes []*leaseWrite, expires time.Time) error {
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
		q := `UPDATE budget_reservations SET amount = amount - v.column2, expires_at = ? FROM (VALUES ` +
			valueRows(len(chunk)) + `) AS v WHERE budget_reservations.id = v.column1 RETURNING id, amount`
		if err := b.leaseIDs(ctx, tx, q, args, found); err != nil {
			return fmt.Errorf("write budget leases: %w", err)
		}
	}
	for chunk := range slices.Chunk(drop, spendChunk) {
		args := make([]any, len(chunk))
		for i, wr := range chunk {
			args[i] = wr.leaseID
		}
		q := `DELETE FROM budget_reservations WHERE id IN (` + placeholders(len(chunk)) + `) RETURNING id, amount`
		if err := b.leaseIDs(ctx, tx, q, args, found); err != nil {
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
		if err := b.releaseReserved(ctx, tx, chunk); err != nil {
			return fmt.Errorf("release leased budget: %w", err)
		}
	}
	return nil
}

// releaseReserved takes each write's moved amount out of its window's
// reserved, in one statement, and reads back what the rows now hold.
func (b *Budgets) releaseReserved(ctx context.Context, tx *sql.Tx, writes []*leaseWrite) error {
	args := make([]any, 0, 2*len(writes))
	for _, wr := range writes {
		args = append(args, wr.newRow, int64(wr.fromRes+wr.back+wr.unknown))
	}
	rows, err := b.query(ctx, tx, `UPDATE spend_windows SET reserved = reserved - v.column2 FROM (VALUES `+
		valueRows(len(writes))+`) AS v WHERE spend_windows.id = v.column1 RETURNING id, reserved`, args)
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
func (b *Budgets) leaseIDs(ctx context.Context, tx *sql.Tx, q string, args []any, found map[int64]int64) error {
	rows, err := b.query(ctx, tx, q, args)
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

// query runs q (with ? placeholders) as a statement prepared once per
// connection (database.Prepared).
func (b *Budgets) query(ctx context.Context, tx *sql.Tx, q string, args []any) (*sql.Rows, error) {
	stmt, err := b.db.Prepared(ctx, tx, b.q(q))
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
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
func (b *Budgets) upsertLeased(ctx context.Context, tx *sql.Tx, writes []*leaseWrite, now time.Time) error {
	stmt, err := b.db.Prepared(ctx, tx, b.q(spendUpsertSQL(len(writes))+spendReturning))
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
