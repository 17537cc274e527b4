package budget

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// Budgets reserves and settles spend in the database shared by every
// replica.
type Budgets struct {
	db  *database.DB
	log *slog.Logger
	// Now is the clock; tests move it across window boundaries.
	Now func() time.Time
	// TTL is how long a reservation lives if its request never settles
	// (the process died): after it the sweeper returns the budget.
	TTL time.Duration
	// Alerts receives each warn crossing after it is stored, for the
	// webhook; sends never block (a full channel drops the notification,
	// the stored alert remains).
	Alerts chan<- Alert
	// retries counts transactions PostgreSQL aborted for a deadlock or a
	// serialization failure (Retries).
	retries atomic.Int64
	// mem is the embedded and leased modes' in-memory state (NewEmbedded,
	// NewLeased); nil in the locking mode.
	mem *memory
}

// New returns budgets over db.
func New(db *database.DB, log *slog.Logger) *Budgets {
	return &Budgets{db: db, log: log, Now: time.Now, TTL: 15 * time.Minute}
}

// Request is what a request is about to spend.
type Request struct {
	OrgID int
	// Subjects are the key, the service and the organization, each with
	// its effective limits. The Reservation points into this slice: do not
	// change it until the reservation settles.
	Subjects []Subject
	// Amount is the worst-case cost to reserve.
	Amount money.Micros
	// EnforceBalance refuses the request when the organization's prepaid
	// balance is used up.
	EnforceBalance bool
}

// Refusal is a request refused by a limit: 429 (or 402 for an exhausted
// balance) with a message naming the window and when it resets.
type Refusal struct {
	Status     int
	Message    string
	RetryAfter time.Duration // zero when the window never resets (total)
}

func (r *Refusal) Error() string { return r.Message }

// ContendedError is a leased reservation that gave up: each time it grew
// the lease on Window, other requests used the growth up first. The
// window is busy, not out of budget, and the database answered; the
// request was not admitted, so it can be sent again at once.
type ContendedError struct {
	Window string // e.g. key "frontend" day
	Tries  int
}

func (e *ContendedError) Error() string {
	return fmt.Sprintf("reserve budget: the lease on %s kept being used up by other requests (%d tries)", e.Window, e.Tries)
}

// Alert is one warn threshold crossed by settled spend.
type Alert struct {
	OrgID    int
	Window   string // e.g. key "frontend" day
	Start    time.Time
	Spent    money.Micros
	Warn     money.Micros
	WindowID int
}

// slot is one spend window a request touches.
type slot struct {
	subject *Subject // in the Request's Subjects, which the Reservation keeps alive
	window  Window
	start   time.Time
	warn    *money.Micros
	block   *money.Micros
	id      int
	spent   money.Micros
	// reserved is the window's reserved amount before this request.
	reserved money.Micros
	warned   bool
	// held is set once the embedded or leased mode holds the request's
	// amount in the window.
	held bool
	// key names the window in the embedded and leased modes' map.
	key memKey
}

func (s *slot) limited() bool { return s.warn != nil || s.block != nil }

// Reservation is a request's hold on its windows until it settles.
type Reservation struct {
	b        *Budgets
	id       int64
	orgID    int
	amount   money.Micros
	slots    []*slot
	warnings []string
	settled  bool
	// held is set when the embedded mode holds amount in the limited
	// windows (the locking mode's equivalent is id != 0).
	held bool
}

// Warnings are the windows already past their warn threshold when the
// request was admitted, as X-Sluice-Budget-Warning values:
// `key "frontend" day $52.10/$50.00`.
func (r *Reservation) Warnings() []string { return r.warnings }

// Reserve holds req.Amount in every window of req.Subjects that has a
// limit, or refuses with *Refusal if any block limit would be passed. The
// limited windows' rows are upserted with one statement that also locks
// them (ON CONFLICT DO UPDATE), so the check and the hold are atomic
// against other requests and replicas; SQLite's immediate transactions
// give the same on one file.
func (b *Budgets) Reserve(ctx context.Context, req Request) (*Reservation, error) {
	var res *Reservation
	err := b.retry(ctx, func() error {
		var err error
		res, err = b.reserve(ctx, req)
		return err
	})
	return res, err
}

func (b *Budgets) reserve(ctx context.Context, req Request) (*Reservation, error) {
	now := b.Now().UTC()
	res := &Reservation{b: b, orgID: req.OrgID, amount: req.Amount}
	// The slots are built in the one order every transaction that locks
	// window rows takes (ORDER BY scope, scope_id, "window"), so that two
	// of them never wait on each other in a cycle: subjects by scope and ID,
	// each one's windows by name. limited keeps that order.
	var starts [len(windows)]time.Time
	for i, w := range windows {
		starts[i] = w.Start(now)
	}
	n := len(req.Subjects) * len(windows)
	backing := make([]slot, 0, n) // one allocation for the request's slots
	res.slots = make([]*slot, 0, n)
	var limited []*slot
	var orderBuf [4]int
	for _, j := range subjectOrder(req.Subjects, orderBuf[:0]) {
		subj := &req.Subjects[j]
		for i, w := range windows {
			warn, block := subj.Limits.For(w)
			backing = append(backing, slot{subject: subj, window: w, start: starts[i], warn: warn, block: block,
				key: newKey(subj.Scope, subj.ID, w, starts[i])})
			s := &backing[len(backing)-1]
			res.slots = append(res.slots, s)
			if s.limited() {
				limited = append(limited, s)
			}
		}
	}
	if len(limited) == 0 && !req.EnforceBalance {
		return res, nil
	}
	if b.mem != nil {
		return b.reserveMemory(ctx, res, limited, req.EnforceBalance)
	}

	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reserve budget: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit

	if req.EnforceBalance {
		var balance int64
		err := tx.QueryRowContext(ctx, b.q("SELECT current_balance FROM balances WHERE organization_id = ?"), req.OrgID).Scan(&balance)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reserve budget: read balance: %w", err)
		}
		if balance <= 0 {
			return nil, &Refusal{Status: 402, Message: fmt.Sprintf("the organization's prepaid balance is used up (%s); ask an admin to top it up", money.Micros(balance))}
		}
	}
	if len(limited) == 0 {
		return res, tx.Commit()
	}
	if err := b.upsert(ctx, tx, limited, now, nil); err != nil {
		return nil, fmt.Errorf("reserve budget: %w", err)
	}
	for _, s := range limited {
		if s.block != nil && s.spent+s.reserved+req.Amount > *s.block {
			return nil, b.refusal(s, req.Amount, now)
		}
		if s.warn != nil && s.spent >= *s.warn {
			res.warnings = append(res.warnings, fmt.Sprintf("%s %s/%s", s.subject.label(s.window), s.spent, *s.warn))
		}
	}
	if req.Amount > 0 {
		ids := make([]int, len(limited))
		for i, s := range limited {
			ids[i] = s.id
		}
		if _, err := tx.ExecContext(ctx, b.q("UPDATE spend_windows SET reserved = reserved + ? WHERE id IN ("+placeholders(len(ids))+")"),
			append([]any{int64(req.Amount)}, intArgs(ids)...)...); err != nil {
			return nil, fmt.Errorf("reserve budget: hold: %w", err)
		}
		idsJSON, _ := json.Marshal(ids)
		if err := tx.QueryRowContext(ctx, b.q("INSERT INTO budget_reservations (created_at, expires_at, amount, window_ids) VALUES (?, ?, ?, ?) RETURNING id"),
			now, now.Add(b.TTL), int64(req.Amount), string(idsJSON)).Scan(&res.id); err != nil {
			return nil, fmt.Errorf("reserve budget: record reservation: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("reserve budget: commit: %w", err)
	}
	return res, nil
}

func (b *Budgets) refusal(s *slot, amount money.Micros, now time.Time) *Refusal {
	r := &Refusal{Status: 429}
	msg := fmt.Sprintf("budget exceeded: %s limit %s (spent %s, in flight %s, this request may cost up to %s)",
		s.subject.label(s.window), *s.block, s.spent, s.reserved, amount)
	if owner, inherited := s.subject.blockOwner(s.window); inherited {
		// The limit was set on the service and holds for each of its keys
		// that has none of its own: name where it is set.
		msg = fmt.Sprintf("budget exceeded: %s %s limit %s, which applies to each of its keys without a limit of their own (%s spent %s, in flight %s, this request may cost up to %s)",
			owner, s.window, *s.block, s.subject.label(s.window), s.spent, s.reserved, amount)
	}
	if end := s.window.End(now); !end.IsZero() {
		r.RetryAfter = end.Sub(now)
		msg += "; resets at " + end.Format(time.RFC3339)
	} else {
		msg += "; the total limit never resets, ask an admin to raise it"
	}
	r.Message = msg
	return r
}

// Settle replaces the reservation with the actual cost: spent grows in
// every window of the request, the hold is released, the prepaid balance
// shrinks, and each warn threshold crossed raises one alert. Settling twice
// does nothing the second time.
func (r *Reservation) Settle(ctx context.Context, actual money.Micros) error {
	if !r.close(actual) {
		return nil
	}
	ctx = context.WithoutCancel(ctx) // the client leaving must not lose the charge
	if r.b.mem != nil {
		r.settleMemory(actual, false)
		return nil
	}
	var alerts []Alert
	err := r.b.retry(ctx, func() error {
		var err error
		alerts, err = r.settle(ctx, actual)
		return err
	})
	if err != nil {
		return err
	}
	for _, a := range alerts {
		r.b.notify(a)
	}
	return nil
}

// close marks r settled, false when it was (or is nil); it warns when
// actual passes what was reserved.
func (r *Reservation) close(actual money.Micros) bool {
	if r == nil || r.settled {
		return false
	}
	r.settled = true
	if (r.id != 0 || r.held) && actual > r.amount {
		// The worst case was not worst enough (an upstream counted more
		// tokens than the body could hold): say so, since a block may be
		// passed by the difference.
		r.b.log.Warn("settled cost exceeded its reservation", "reserved", r.amount.String(), "actual", actual.String())
	}
	return true
}

func (r *Reservation) settle(ctx context.Context, actual money.Micros) ([]Alert, error) {
	b := r.b
	now := b.Now().UTC()
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("settle budget: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit

	release := false
	if r.id != 0 {
		res, err := tx.ExecContext(ctx, b.q("DELETE FROM budget_reservations WHERE id = ?"), r.id)
		if err != nil {
			return nil, fmt.Errorf("settle budget: %w", err)
		}
		// Zero rows: the sweeper already released an expired hold.
		n, _ := res.RowsAffected()
		release = n == 1
	}
	if actual > 0 || release {
		// Lock every window row in the canonical order first; the updates
		// below then touch only rows this transaction holds.
		if err := b.upsert(ctx, tx, r.slots, now, &actual); err != nil {
			return nil, fmt.Errorf("settle budget: %w", err)
		}
	}
	if release {
		var ids []int
		for _, s := range r.slots {
			if s.limited() {
				ids = append(ids, s.id)
			}
		}
		if _, err := tx.ExecContext(ctx, b.q("UPDATE spend_windows SET reserved = reserved - ? WHERE id IN ("+placeholders(len(ids))+")"),
			append([]any{int64(r.amount)}, intArgs(ids)...)...); err != nil {
			return nil, fmt.Errorf("settle budget: release: %w", err)
		}
	}
	if actual > 0 {
		if _, err := tx.ExecContext(ctx, b.q("UPDATE balances SET current_balance = current_balance - ?, updated_at = ? WHERE organization_id = ?"),
			int64(actual), now, r.orgID); err != nil {
			return nil, fmt.Errorf("settle budget: balance: %w", err)
		}
	}
	var alerts []Alert
	for _, s := range r.slots {
		if s.warn == nil || s.warned || s.spent < *s.warn {
			continue
		}
		res, err := tx.ExecContext(ctx, b.q("UPDATE spend_windows SET warned = ? WHERE id = ? AND warned = ?"), true, s.id, false)
		if err != nil {
			return nil, fmt.Errorf("settle budget: mark warning: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another request's settle crossed it first
		}
		a := Alert{OrgID: r.orgID, Window: s.subject.label(s.window), Start: s.start, Spent: s.spent, Warn: *s.warn, WindowID: s.id}
		if err := b.storeAlert(ctx, tx, a, now); err != nil {
			return nil, err
		}
		alerts = append(alerts, a)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("settle budget: commit: %w", err)
	}
	return alerts, nil
}

// retry runs fn again when PostgreSQL aborted it for a deadlock or a
// serialization failure; the canonical lock order makes those rare, and a
// settle must not lose a charge to one.
func (b *Budgets) retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		b.retries.Add(1)
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// Retries is how many budget transactions PostgreSQL aborted for a
// deadlock or a serialization failure and were run again. Window rows are
// locked before reservation and lease rows, in one order, so it stays at
// zero but for the locking mode's settle racing the sweeper over a request
// that outlived its reservation.
func (b *Budgets) Retries() int64 { return b.retries.Load() }

func retryable(err error) bool {
	var ce *commitError
	if errors.As(err, &ce) {
		return false // it may have been applied
	}
	var pqErr interface{ SQLState() string }
	if errors.As(err, &pqErr) {
		switch pqErr.SQLState() {
		case "40P01", "40001":
			return true
		}
	}
	return false
}

// subjectOrder returns the indexes of subjects ordered by scope, then ID,
// in buf. A request has a few subjects: an insertion sort without a
// closure is the cheapest way.
func subjectOrder(subjects []Subject, buf []int) []int {
	order := buf[:0]
	for j := range subjects {
		order = append(order, j)
		for k := len(order) - 1; k > 0; k-- {
			a, b := &subjects[order[k]], &subjects[order[k-1]]
			if cmp.Or(cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.ID, b.ID)) >= 0 {
				break
			}
			order[k], order[k-1] = order[k-1], order[k]
		}
	}
	return order
}

// storeAlert writes the crossing into the audit log, where admins see it.
func (b *Budgets) storeAlert(ctx context.Context, tx *sql.Tx, a Alert, now time.Time) error {
	changes, _ := json.Marshal(map[string]string{
		"spent": a.Spent.String(), "warn": a.Warn.String(), "windowStart": a.Start.Format(time.RFC3339),
	})
	_, err := tx.ExecContext(ctx, b.q(`INSERT INTO audit_events (created_at, organization_id, actor_type, actor_name, action, target_type, target_id, target_name, changes, outcome, error, client_ip)
VALUES (?, ?, 'system', 'budget', 'budgetWarning', 'SpendWindow', ?, ?, ?, 'success', '', '')`),
		now, a.OrgID, strconv.Itoa(a.WindowID), a.Window, string(changes))
	if err != nil {
		return fmt.Errorf("store budget alert: %w", err)
	}
	return nil
}

// upsert creates the slots' window rows if missing and reads them back
// locked. With add set, it also adds *add to their spent (settling).
func (b *Budgets) upsert(ctx context.Context, tx *sql.Tx, slots []*slot, now time.Time, add *money.Micros) error {
	args := make([]any, 0, len(slots)*spendArgs)
	var spent int64 // adding nothing leaves spent as it is
	if add != nil {
		spent = int64(*add)
	}
	for _, s := range slots {
		args = append(args, string(s.subject.Scope), s.subject.ID, string(s.window), s.start, spent, now)
	}
	rows, err := tx.QueryContext(ctx, b.q(spendUpsertSQL(len(slots))+spendReturning), args...)
	if err != nil {
		return fmt.Errorf("upsert spend windows: %w", err)
	}
	defer rows.Close()
	byKey := make(map[string]*slot, len(slots))
	for _, s := range slots {
		byKey[string(s.subject.Scope)+"/"+strconv.Itoa(s.subject.ID)+"/"+string(s.window)] = s
	}
	for rows.Next() {
		var r spendRow
		if err := r.scan(rows); err != nil {
			return err
		}
		if s := byKey[r.scope+"/"+strconv.Itoa(r.scopeID)+"/"+r.window]; s != nil {
			s.id, s.spent, s.reserved, s.warned = r.id, money.Micros(r.spent), money.Micros(r.reserved), r.warned
		}
	}
	return rows.Err()
}

// spendReturning, after spendUpsertSQL, reads back each row as spendRow
// scans it.
const spendReturning = ` RETURNING id, scope, scope_id, "window", spent, reserved, warned`

// spendRow is one spend window row as spendReturning reads it back.
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

// Sweep releases reservations that expired without settling (their
// process died) and returns how many. Run it periodically.
func (b *Budgets) Sweep(ctx context.Context) (int, error) {
	now := b.Now().UTC()
	rows, err := b.db.SQL.QueryContext(ctx, b.q("SELECT id FROM budget_reservations WHERE expires_at < ? LIMIT 500"), now)
	if err != nil {
		return 0, fmt.Errorf("sweep reservations: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		released, err := b.release(ctx, id)
		if err != nil {
			return n, err
		}
		if released {
			n++
		}
	}
	return n, nil
}

// release returns one expired reservation's hold, unless its request
// settled meanwhile (then the row is gone and nothing happens).
func (b *Budgets) release(ctx context.Context, id int64) (bool, error) {
	now := b.Now().UTC()
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var idsJSON string
	err = tx.QueryRowContext(ctx, b.q("SELECT window_ids FROM budget_reservations WHERE id = ? AND expires_at < ?"), id, now).Scan(&idsJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // settled, or a lease renewed, meanwhile
	} else if err != nil {
		return false, fmt.Errorf("release reservation %d: %w", id, err)
	}
	var windowIDs []int
	_ = json.Unmarshal([]byte(idsJSON), &windowIDs)
	if b.db.Dialect == dialect.Postgres && len(windowIDs) > 0 {
		// Window rows first, in the canonical order, as leases' grants
		// and flushes lock them before their lease row.
		rows, err := tx.QueryContext(ctx, b.q(`SELECT id FROM spend_windows WHERE id IN (`+placeholders(len(windowIDs))+`) ORDER BY scope, scope_id, "window" FOR UPDATE`), intArgs(windowIDs)...)
		if err != nil {
			return false, fmt.Errorf("release reservation %d: lock windows: %w", id, err)
		}
		rows.Close()
	}
	// Still expired: a lease renewed since the SELECT stays.
	var amount int64
	q := "DELETE FROM budget_reservations WHERE id = ? AND expires_at < ? RETURNING amount"
	if err := tx.QueryRowContext(ctx, b.q(q), id, now).Scan(&amount); errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("release reservation %d: %w", id, err)
	}
	if len(windowIDs) > 0 {
		if _, err := tx.ExecContext(ctx, b.q("UPDATE spend_windows SET reserved = reserved - ? WHERE id IN ("+placeholders(len(windowIDs))+")"),
			append([]any{amount}, intArgs(windowIDs)...)...); err != nil {
			return false, fmt.Errorf("release reservation %d: %w", id, err)
		}
	}
	return true, tx.Commit()
}

// Run does the mode's background work until ctx ends: the embedded and
// leased modes write their spend every 100 ms (the leased mode also hands
// back leases idle for a second); the locking and leased modes release
// expired reservations and leases every 30 s (the embedded mode's holds
// live in memory, so none can expire).
func (b *Budgets) Run(ctx context.Context) {
	flush := time.NewTicker(100 * time.Millisecond)
	defer flush.Stop()
	if b.mem == nil {
		flush.Stop()
	}
	sweep := time.NewTicker(30 * time.Second)
	defer sweep.Stop()
	if b.mem != nil && !b.mem.leased {
		sweep.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			// A hung database must not hold flushMu (and the requests that
			// load a window behind it) for ever.
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			var err error
			if b.mem.leased {
				err = b.flushLeased(fctx, leaseIdle)
			} else {
				err = b.Flush(fctx)
			}
			cancel()
			if err != nil {
				b.log.Warn("write budget spend; retrying at the next flush", "err", err)
			}
		case <-sweep.C:
			if n, err := b.Sweep(ctx); err != nil {
				b.log.Warn("sweep expired budget reservations", "err", err)
			} else if n > 0 {
				b.log.Info("released expired budget reservations and leases", "count", n)
			}
		}
	}
}

func (b *Budgets) q(s string) string { return database.Rebind(b.db.Dialect, s) }

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
