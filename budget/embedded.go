package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// NewEmbedded returns budgets for the embedded SQLite default, where one
// process owns the database file. Spend windows live in memory, loaded
// from the database the first time they are used, so a request's reserve
// and settle are a map update under a lock instead of two database
// transactions; settled spend, warn crossings and balance changes are
// written behind, in one transaction every 100 ms (Run) and by Flush,
// which the server calls at shutdown.
//
// The guarantee is the locking mode's as long as the process runs: every
// reserve and settle goes through the one lock, so a block is never
// passed. What a crash can lose is the spend of the last interval, as it
// loses the usage records still queued; reservations die with the
// process, so none is ever left locked. With several processes on one
// database (PostgreSQL), use NewLeased.
func NewEmbedded(db *database.DB, log *slog.Logger) *Budgets {
	b := New(db, log)
	b.mem = &memory{windows: map[memKey]*memWindow{}, balances: map[int]*memBalance{}, flushes: newFlushLog()}
	return b
}

// memKey names one spend window. Scope and window are small codes, not
// their strings, so that the map hashes a few words per look-up; codes
// follow the strings' order, so that keys sort as the rows do.
type memKey struct {
	id      int
	startNS int64
	scope   uint8
	window  uint8
}

var (
	scopes  = [...]Scope{ScopeKey, ScopeOrg, ScopeService} // in string order
	windows = [...]Window{Day, Hour, Month, Total}         // in string order
)

func newKey(scope Scope, id int, w Window, start time.Time) memKey {
	k := memKey{id: id, startNS: start.UnixNano()}
	for i, s := range scopes {
		if s == scope {
			k.scope = uint8(i)
		}
	}
	for i, x := range windows {
		if x == w {
			k.window = uint8(i)
		}
	}
	return k
}

// Scope is the key's scope.
func (k memKey) Scope() Scope { return scopes[k.scope] }

// Window is the key's window.
func (k memKey) Window() Window { return windows[k.window] }

// Start is the key's window start.
func (k memKey) Start() time.Time { return time.Unix(0, k.startNS).UTC() }

type memWindow struct {
	spent, reserved money.Micros
	warned          bool
	// loaded is set once spent includes what the database holds; a window
	// only settled into (it has no limit) is not loaded until it is needed.
	loaded bool
	// pending is settled spend not yet written; warnPending a crossing
	// not yet stored.
	pending     money.Micros
	warnPending *Alert
	// journal is settled spend on its way to the database with its
	// requests' usage records (SettleJournaled); in the leased mode it
	// also stays in reserved, held in the lease, until then.
	journal money.Micros
	// lease is the leased mode's share of the window (see lease).
	lease
}

// memBalance is settled spend not yet taken off the prepaid balance. The
// balance itself is read from the database when it is enforced, so an
// admin's top-up counts at once.
type memBalance struct {
	pending, journal money.Micros
}

// memory is the embedded mode's state.
type memory struct {
	mu       sync.Mutex
	windows  map[memKey]*memWindow
	balances map[int]*memBalance
	// leased is set by NewLeased: blocks are checked against leases on
	// the database's headroom instead of the window's whole spend.
	leased bool
	// flushMu serializes flushes (the ticker's and Close's).
	flushMu sync.Mutex
	// flushes numbers flushes and holds one whose COMMIT failed (doubt.go);
	// guarded by flushMu.
	flushes flushLog
}

func keyOf(s *slot) memKey { return s.key }

// load reads the windows and balance a request needs that are not in
// memory yet. It runs outside the lock; a window loaded twice by racing
// requests keeps the first copy.
func (b *Budgets) load(ctx context.Context, slots []*slot) error {
	m := b.mem
	var missing []*slot
	m.mu.Lock()
	for _, s := range slots {
		if w, ok := m.windows[keyOf(s)]; !ok || !w.loaded {
			missing = append(missing, s)
		}
	}
	m.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	// No flush may move pending spend into the database between reading
	// the database and adding the pending spend to it.
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if m.leased {
		return b.loadLeased(ctx, missing)
	}
	for _, s := range missing {
		var spent int64
		var warned bool
		err := b.db.SQL.QueryRowContext(ctx, b.q(`SELECT spent, warned FROM spend_windows WHERE scope = ? AND scope_id = ? AND "window" = ? AND window_start = ?`),
			string(s.subject.Scope), s.subject.ID, string(s.window), s.start).Scan(&spent, &warned)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load spend window: %w", err)
		}
		m.mu.Lock()
		switch w, ok := m.windows[keyOf(s)]; {
		case !ok:
			m.windows[keyOf(s)] = &memWindow{spent: money.Micros(spent), warned: warned, loaded: true}
		case !w.loaded:
			w.spent, w.warned, w.loaded = money.Micros(spent)+w.pending+w.journal, w.warned || warned, true
		}
		m.mu.Unlock()
	}
	return nil
}

// reserveMemory is reserve for the embedded and leased modes.
func (b *Budgets) reserveMemory(ctx context.Context, res *Reservation, limited []*slot, enforceBalance bool) (*Reservation, error) {
	if err := b.load(ctx, res.slots); err != nil {
		return nil, fmt.Errorf("reserve budget: %w", err)
	}
	var balance int64
	if enforceBalance {
		err := b.db.SQL.QueryRowContext(ctx, b.q("SELECT current_balance FROM balances WHERE organization_id = ?"), res.orgID).Scan(&balance)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reserve budget: read balance: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		short, err := b.admit(res, limited, enforceBalance, money.Micros(balance))
		if err != nil {
			b.unhold(res, limited)
			return nil, err
		}
		if len(short) == 0 {
			return res, nil
		}
		// Leased mode only: some window's lease is too small. Grow it,
		// holding this request's amount in the same step, so that other
		// requests cannot use the growth first; then look again.
		if attempt == maxLeaseAttempts {
			b.unhold(res, limited)
			return nil, &ContendedError{Window: short[0].subject.label(short[0].window), Tries: attempt}
		}
		for _, s := range short {
			if err := b.grow(ctx, s, res.amount); err != nil {
				b.unhold(res, limited)
				return nil, err
			}
		}
	}
}

// admit holds res.amount in every limited window, or refuses, all under
// the one lock. In the leased mode it holds what fits in the leases and
// returns the windows whose lease is too small.
func (b *Budgets) admit(res *Reservation, limited []*slot, enforceBalance bool, balance money.Micros) ([]*slot, error) {
	now := b.Now().UTC()
	m := b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if enforceBalance {
		current := balance
		if bal := m.balances[res.orgID]; bal != nil {
			current -= bal.pending + bal.journal
		}
		if current <= 0 {
			return nil, &Refusal{Status: 402, Message: fmt.Sprintf("the organization's prepaid balance is used up (%s); ask an admin to top it up", current)}
		}
	}
	var short []*slot
	for _, s := range limited {
		w := m.windows[keyOf(s)]
		if w == nil || !w.loaded {
			// Forgotten between load and lock: cannot happen while
			// forgetPast keeps a minute's grace, but never guess.
			return nil, fmt.Errorf("reserve budget: spend window %s was not loaded", s.subject.label(s.window))
		}
		if s.held {
			continue
		}
		s.spent, s.reserved = w.spent, w.reserved
		switch {
		case s.block == nil:
		case m.leased:
			// The lease covers this process's holds and its settled
			// spend not yet written; the database counts the lease whole.
			// A stale lease is confirmed (in grow) before it is used.
			if w.reserved+w.pending+res.amount > w.lease.amount || leaseStale(&w.lease, now) {
				short = append(short, s)
				continue
			}
		case w.spent+w.reserved+res.amount > *s.block:
			return nil, b.refusal(s, res.amount, now)
		}
		w.reserved += res.amount
		s.held = true
	}
	if len(short) > 0 {
		return short, nil
	}
	for _, s := range limited {
		w := m.windows[keyOf(s)]
		w.lease.used = now
		if s.warn != nil && w.spent >= *s.warn {
			res.warnings = append(res.warnings, fmt.Sprintf("%s %s/%s", s.subject.label(s.window), w.spent, *s.warn))
		}
	}
	res.held = true
	return nil, nil
}

// unhold releases what a refused request held in some of its windows.
func (b *Budgets) unhold(res *Reservation, limited []*slot) {
	m := b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range limited {
		if s.held {
			m.windows[keyOf(s)].reserved -= res.amount
			s.held = false
		}
	}
}

// settleMemory is settle for the embedded mode: the new spend is in
// memory at once (the next request sees it) and written at the next flush,
// or, journaled, with the request's usage record (see Settlement).
func (r *Reservation) settleMemory(actual money.Micros, journaled bool) {
	m := r.b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range r.slots {
		w := m.windows[keyOf(s)]
		if w == nil {
			// Not loaded at reserve (no limits): track it from here; the
			// flush adds to whatever the database holds.
			w = &memWindow{}
			m.windows[keyOf(s)] = w
		}
		if r.held && s.limited() {
			w.reserved -= r.amount
		}
		w.spent += actual
		switch {
		case !journaled:
			w.pending += actual
		case m.leased:
			// Held in the lease, as pending spend is, until written.
			w.journal += actual
			w.reserved += actual
		default:
			w.journal += actual
		}
		if m.leased {
			// Other replicas spend in the window too: the flush finds
			// crossings in the database's sum, against the limit as this
			// settle saw it (nil once an admin removed it).
			w.lease.warn = s.warn
			if s.warn != nil {
				w.lease.label, w.lease.orgID = s.subject.label(s.window), r.orgID
			}
			continue
		}
		if s.warn != nil && !w.warned && w.spent >= *s.warn {
			w.warned = true
			w.warnPending = &Alert{OrgID: r.orgID, Window: s.subject.label(s.window), Start: s.start, Spent: w.spent, Warn: *s.warn}
		}
	}
	if actual > 0 {
		bal := m.balances[r.orgID]
		if bal == nil {
			bal = &memBalance{}
			m.balances[r.orgID] = bal
		}
		if journaled {
			bal.journal += actual
		} else {
			bal.pending += actual
		}
	}
}

// takeBalances hands a flush the settled spend not yet taken off the
// prepaid balances; the caller holds mu.
func (m *memory) takeBalances() map[int]money.Micros {
	out := map[int]money.Micros{}
	for org, bal := range m.balances {
		if bal.pending != 0 {
			out[org] = bal.pending
			bal.pending = 0
		}
	}
	return out
}

// putBalances gives a failed flush's balance changes back for the next
// one; the caller holds mu.
func (m *memory) putBalances(balances map[int]money.Micros) {
	for org, amount := range balances {
		m.balances[org].pending += amount
	}
}

// pendingWrite is one window's settled spend (and crossing) to write.
type pendingWrite struct {
	k      memKey
	amount money.Micros
	alert  *Alert
}

// Flush writes the embedded mode's settled spend, warn crossings and
// balance changes in one transaction; a no-op in the locking mode. On
// failure the changes stay pending for the next flush; when only the
// COMMIT failed, the next flush first finds out whether it was applied.
func (b *Budgets) Flush(ctx context.Context) error {
	if b.mem == nil {
		return nil
	}
	if b.mem.leased {
		// An explicit flush (an admin reading spend, the shutdown) also
		// hands back every lease's unused part.
		return b.flushLeased(ctx, 0)
	}
	m := b.mem
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if err := b.resolve(ctx); err != nil {
		return err
	}

	var writes []pendingWrite
	m.mu.Lock()
	for k, w := range m.windows {
		if w.pending != 0 || w.warnPending != nil {
			writes = append(writes, pendingWrite{k, w.pending, w.warnPending})
			w.pending, w.warnPending = 0, nil
		}
	}
	balances := m.takeBalances()
	m.mu.Unlock()
	if len(writes) == 0 && len(balances) == 0 {
		return nil
	}
	seq := m.nextFlush()
	err := b.writeBehind(ctx, writes, balances, seq)
	finish := func(applied bool) { b.finishFlush(writes, balances, applied) }
	if m.doubtful(err, seq, finish) {
		return err
	}
	finish(err == nil)
	return err
}

// finishFlush ends an embedded flush: applied, its crossings are
// notified; not, its changes go back for the next flush to write.
func (b *Budgets) finishFlush(writes []pendingWrite, balances map[int]money.Micros, applied bool) {
	if applied {
		for _, wr := range writes {
			if wr.alert != nil {
				b.notify(*wr.alert)
			}
		}
		b.forgetPast()
		return
	}
	m := b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, wr := range writes {
		w := m.windows[wr.k]
		if w == nil {
			w = &memWindow{}
			m.windows[wr.k] = w
		}
		w.pending += wr.amount
		if wr.alert != nil && w.warnPending == nil {
			w.warnPending = wr.alert
		}
	}
	m.putBalances(balances)
}

// writeBehind writes one flush, numbered seq, in a transaction. A flush
// usually carries a dozen windows (key, service and organization, four
// windows each), ten times a second, beside the requests; one prepared
// multi-row upsert for them instead of one parsed upsert each took the
// flush from 1.1 ms to 0.4 ms on SQLite (median wall time). Windows with a
// crossing to store need their row's id for the alert, so they are
// written one by one.
func (b *Budgets) writeBehind(ctx context.Context, writes []pendingWrite, balances map[int]money.Micros, seq int64) error {
	now := b.Now().UTC()
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	plain := make([]pendingWrite, 0, len(writes))
	for _, wr := range writes {
		if wr.alert == nil {
			plain = append(plain, wr)
			continue
		}
		stmt, err := b.db.Prepared(ctx, tx, b.q(`INSERT INTO spend_windows (scope, scope_id, "window", window_start, spent, reserved, warned, updated_at)
VALUES (?, ?, ?, ?, ?, 0, TRUE, ?)
ON CONFLICT (scope, scope_id, "window", window_start) DO UPDATE SET spent = spend_windows.spent + excluded.spent,
warned = TRUE, updated_at = excluded.updated_at RETURNING id`))
		if err != nil {
			return fmt.Errorf("write budget spend: %w", err)
		}
		var id int
		if err := stmt.QueryRowContext(ctx, string(wr.k.Scope()), wr.k.id, string(wr.k.Window()), wr.k.Start(), int64(wr.amount), now).Scan(&id); err != nil {
			return fmt.Errorf("write budget spend: %w", err)
		}
		wr.alert.WindowID = id
		if err := b.storeAlert(ctx, tx, *wr.alert, now); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(plain, spendChunk) {
		if err := b.addSpent(ctx, tx, chunk, now); err != nil {
			return err
		}
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

// spendChunk is the most windows one addSpent statement carries, which
// bounds how many statements (one per row count) stay prepared.
const spendChunk = 16

// addSpent adds the writes' amounts to their windows' rows, creating the
// rows that are missing, in one statement.
func (b *Budgets) addSpent(ctx context.Context, tx *sql.Tx, writes []pendingWrite, now time.Time) error {
	stmt, err := b.db.Prepared(ctx, tx, b.q(spendUpsertSQL(len(writes))))
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

// spendUpsertSQL adds spent to n window rows, creating the missing ones;
// its arguments are appendSpend's, n times.
func spendUpsertSQL(n int) string {
	return `INSERT INTO spend_windows (scope, scope_id, "window", window_start, spent, reserved, warned, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, 0, FALSE, ?), ", n), ", ") +
		` ON CONFLICT (scope, scope_id, "window", window_start) DO UPDATE SET spent = spend_windows.spent + excluded.spent, updated_at = excluded.updated_at`
}

// spendArgs is how many arguments appendSpend adds.
const spendArgs = 6

// appendSpend appends one row's arguments for spendUpsertSQL.
func appendSpend(args []any, k memKey, amount money.Micros, now time.Time) []any {
	return append(args, string(k.Scope()), k.id, string(k.Window()), k.Start(), int64(amount), now)
}

// writeBalances takes settled spend off the organizations' prepaid
// balances.
func (b *Budgets) writeBalances(ctx context.Context, tx *sql.Tx, balances map[int]money.Micros, now time.Time) error {
	// In one order, so that two replicas' flushes never wait on each other
	// in a cycle.
	for _, org := range slices.Sorted(maps.Keys(balances)) {
		amount := balances[org]
		stmt, err := b.db.Prepared(ctx, tx, b.q("UPDATE balances SET current_balance = current_balance - ?, updated_at = ? WHERE organization_id = ?"))
		if err != nil {
			return fmt.Errorf("write balance: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, int64(amount), now, org); err != nil {
			return fmt.Errorf("write balance: %w", err)
		}
	}
	return nil
}

// forgetPast drops windows that ended and have nothing pending: they are
// in the database, and no request reserves in them any more.
func (b *Budgets) forgetPast() {
	now := b.Now().UTC()
	m := b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, w := range m.windows {
		if k.Window() == Total || w.pending != 0 || w.journal != 0 || w.warnPending != nil || w.reserved != 0 || w.lease.id != 0 {
			continue
		}
		// A minute's grace: a request that computed its windows just before
		// the boundary still finds them.
		if end := k.Window().End(k.Start()); !end.IsZero() && now.After(end.Add(time.Minute)) {
			delete(m.windows, k)
		}
	}
}

// notify logs a stored crossing and hands it to the webhook without
// blocking.
func (b *Budgets) notify(a Alert) {
	b.log.Warn("budget warning threshold crossed", "window", a.Window, "spent", a.Spent.String(), "warn", a.Warn.String())
	if b.Alerts == nil {
		return
	}
	select {
	case b.Alerts <- a:
	default:
		b.log.Warn("budget alert queue full; webhook notification dropped", "window", a.Window)
	}
}
