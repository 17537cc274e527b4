package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/money"
)

// memory is the state both ledgers keep: the spend windows and balances
// in memory, loaded from the database the first time they are used, so
// that a request's reserve and settle are a map update under one lock
// instead of database transactions, and the settled spend written behind.
type memory struct {
	db     *database.DB
	log    *slog.Logger
	now    func() time.Time
	alerts chan<- Alert
	// settled is the ledger's own part of settling into window w of s,
	// under mu: where warn crossings are found.
	settled func(w *memWindow, s *slot, orgID int)

	mu       sync.Mutex
	windows  map[memKey]*memWindow
	balances map[int]*memBalance
	// flushMu serializes flushes (the ticker's and Close's), window loads
	// and journal writes.
	flushMu sync.Mutex
	// flushes numbers flushes and holds one whose COMMIT failed (doubt.go);
	// guarded by flushMu.
	flushes flushLog
}

func (m *memory) init(db *database.DB, opts Options, settled func(w *memWindow, s *slot, orgID int)) {
	m.db, m.log, m.now, m.alerts, m.settled = db, opts.Log, opts.Now, opts.Alerts, settled
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.windows, m.balances, m.flushes = map[memKey]*memWindow{}, map[int]*memBalance{}, newFlushLog()
}

// clock is the time now, in UTC as windows start.
func (m *memory) clock() time.Time { return m.now().UTC() }

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

// less orders window keys as a reservation orders its slots (scope, ID,
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

// memWindow is one spend window in memory.
type memWindow struct {
	// reserved is what admitted requests hold until they settle.
	spent, reserved money.Micros
	warned          bool
	// loaded is set once spent includes what the database holds; a window
	// only settled into (it has no limit) is not loaded until it is needed.
	loaded bool
	// pending is settled spend not yet written; warnPending a crossing
	// not yet stored (embedded).
	pending     money.Micros
	warnPending *Alert
	// journal is settled spend on its way to the database with its
	// requests' usage records (SettleJournaled).
	journal money.Micros
	// lease is the leased ledger's share of the window (see lease); zero
	// in the embedded ledger.
	lease
}

// memBalance is settled spend not yet taken off the prepaid balance. The
// balance itself is read from the database when it is enforced, so an
// admin's top-up counts at once.
type memBalance struct {
	pending, journal money.Micros
}

// slot is one spend window a request touches.
type slot struct {
	subject *Subject // in the Request's Subjects, which the Reservation keeps alive
	window  Window
	start   time.Time
	warn    *money.Micros
	block   *money.Micros
	// key names the window in memory.
	key memKey
	// The window as admission saw it, for a refusal's message, and (leased)
	// its row as loading read it.
	id              int
	spent, reserved money.Micros
	warned          bool
	// held is set once the request's amount is held in the window.
	held bool
}

func (s *slot) limited() bool { return s.warn != nil || s.block != nil }

// open builds req's reservation: a slot for every window of every subject,
// and which of them are limited. The slots are built in the one order
// every transaction that locks window rows takes (ORDER BY scope,
// scope_id, "window"), so that two of them never wait on each other in a
// cycle: subjects by scope and ID, each one's windows by name. limited
// keeps that order.
func (m *memory) open(req Request, now time.Time) (*Reservation, []*slot) {
	res := &Reservation{m: m, orgID: req.OrgID, amount: req.Amount}
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
	return res, limited
}

// fitsFunc reports whether window w of s can hold amount more: false
// leaves the window for the ledger to make room in, an error refuses the
// request. It runs under mu.
type fitsFunc func(w *memWindow, s *slot, amount money.Micros, now time.Time) (bool, error)

// reserve is Reserve for both ledgers. read loads the windows not in
// memory yet; fits decides each limited window. grow makes room in the
// windows fits found short (a lease too small), holding the request's
// amount in the same step so that other requests cannot use the room
// first; then reserve looks again. grow is nil for a ledger whose fits
// never leaves a window short.
func (m *memory) reserve(ctx context.Context, req Request, read func(context.Context, []*slot) error, fits fitsFunc,
	grow func(context.Context, *slot, money.Micros) error) (*Reservation, error) {
	res, limited := m.open(req, m.clock())
	if len(limited) == 0 && !req.EnforceBalance {
		return res, nil
	}
	if err := m.load(ctx, res.slots, read); err != nil {
		return nil, fmt.Errorf("reserve budget: %w", err)
	}
	var balance int64
	if req.EnforceBalance {
		err := m.db.SQL.QueryRowContext(ctx, m.q(sqlBalanceRead), res.orgID).Scan(&balance)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reserve budget: read balance: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		short, err := m.admit(res, limited, req.EnforceBalance, money.Micros(balance), fits)
		if err != nil {
			m.unhold(res, limited)
			return nil, err
		}
		if len(short) == 0 {
			return res, nil
		}
		if attempt == maxLeaseAttempts {
			m.unhold(res, limited)
			return nil, &ContendedError{Window: short[0].subject.label(short[0].window), Tries: attempt}
		}
		for _, s := range short {
			if err := grow(ctx, s, res.amount); err != nil {
				m.unhold(res, limited)
				return nil, err
			}
		}
	}
}

// load reads the windows of slots that are not in memory yet with read.
// It runs outside mu, and read under flushMu: no flush may move pending
// spend into the database between reading the database and adding the
// pending spend to it. A window loaded twice by racing requests keeps the
// first copy.
func (m *memory) load(ctx context.Context, slots []*slot, read func(context.Context, []*slot) error) error {
	var missing []*slot
	m.mu.Lock()
	for _, s := range slots {
		if w, ok := m.windows[s.key]; !ok || !w.loaded {
			missing = append(missing, s)
		}
	}
	m.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	return read(ctx, missing)
}

// admit holds res.amount in every limited window that fits it, or
// refuses, all under the one lock; it returns the windows fits found
// short, if any, and then the request is not admitted yet.
func (m *memory) admit(res *Reservation, limited []*slot, enforceBalance bool, balance money.Micros, fits fitsFunc) ([]*slot, error) {
	now := m.clock()
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
		w := m.windows[s.key]
		if w == nil || !w.loaded {
			// Forgotten between load and lock: cannot happen while
			// forgetPast keeps a minute's grace, but never guess.
			return nil, fmt.Errorf("reserve budget: spend window %s was not loaded", s.subject.label(s.window))
		}
		if s.held {
			continue
		}
		s.spent, s.reserved = w.spent, w.reserved
		if s.block != nil {
			ok, err := fits(w, s, res.amount, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				short = append(short, s)
				continue
			}
		}
		w.reserved += res.amount
		s.held = true
	}
	if len(short) > 0 {
		return short, nil
	}
	for _, s := range limited {
		w := m.windows[s.key]
		w.lease.used = now
		if s.warn != nil && w.spent >= *s.warn {
			res.warnings = append(res.warnings, fmt.Sprintf("%s %s/%s", s.subject.label(s.window), w.spent, *s.warn))
		}
	}
	res.held = true
	return nil, nil
}

// unhold releases what a refused request held in some of its windows.
func (m *memory) unhold(res *Reservation, limited []*slot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range limited {
		if s.held {
			m.windows[s.key].reserved -= res.amount
			s.held = false
		}
	}
}

// settle moves r from its holds to its actual cost: the new spend is in
// memory at once (the next request sees it) and written at the next
// flush, or, journaled, with the request's usage record (Settlement).
func (m *memory) settle(r *Reservation, actual money.Micros, journaled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range r.slots {
		w := m.windows[s.key]
		if w == nil {
			// Not loaded at reserve (no limits): track it from here; the
			// flush adds to whatever the database holds.
			w = &memWindow{}
			m.windows[s.key] = w
		}
		if r.held && s.limited() {
			w.reserved -= r.amount
		}
		w.spent += actual
		if journaled {
			w.journal += actual
		} else {
			w.pending += actual
		}
		m.settled(w, s, r.orgID)
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

// forgetPast drops windows that ended and have nothing pending: they are
// in the database, and no request reserves in them any more.
func (m *memory) forgetPast() {
	now := m.clock()
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

// flushEvery is how often Run writes the settled spend behind.
const flushEvery = 100 * time.Millisecond

// tick runs one background flush.
func (m *memory) tick(ctx context.Context, flush func(context.Context) error) {
	// A hung database must not hold flushMu (and the requests that load a
	// window behind it) for ever.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := flush(ctx); err != nil {
		m.log.Warn("write budget spend; retrying at the next flush", "err", err)
	}
}

// notify logs a stored crossing and hands it to the webhook without
// blocking.
func (m *memory) notify(a Alert) {
	m.log.Warn("budget warning threshold crossed", "window", a.Window, "spent", a.Spent.String(), "warn", a.Warn.String())
	if m.alerts == nil {
		return
	}
	select {
	case m.alerts <- a:
	default:
		m.log.Warn("budget alert queue full; webhook notification dropped", "window", a.Window)
	}
}

// storeAlert writes the crossing into the audit log, where admins see it,
// in tx with the warned mark, through the same ent builder as every other
// audit event.
func (m *memory) storeAlert(ctx context.Context, tx *sql.Tx, a Alert, now time.Time) error {
	err := database.TxClient(m.db.Dialect, tx).AuditEvent.Create().
		SetCreatedAt(now).
		SetOrganizationID(a.OrgID).
		SetActorType(auditevent.ActorTypeSystem).
		SetActorName("budget").
		SetAction("budgetWarning").
		SetTargetType("SpendWindow").
		SetTargetID(strconv.Itoa(a.WindowID)).
		SetTargetName(a.Window).
		SetChanges(map[string]string{"spent": a.Spent.String(), "warn": a.Warn.String(), "windowStart": a.Start.Format(time.RFC3339)}).
		SetOutcome(auditevent.OutcomeSuccess).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store budget alert: %w", err)
	}
	return nil
}
