// Package budget keeps spend under its limits: before a request goes
// upstream its worst-case cost is held in every spend window that has a
// limit (key, service and organization; hour, day, month and total), and
// after the response the hold is settled to the real cost. Crossing a warn
// threshold raises exactly one alert per window.
//
// A Ledger does this with the windows in memory, written behind. Two
// implementations share the rules and the in-memory windows (memory.go):
// Embedded, for the one process that owns an SQLite file, and Leased, for
// replicas sharing PostgreSQL, which admit requests against slices of the
// headroom each replica leases from the database. New picks the one for
// the database.
package budget

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// Ledger holds a request's worst-case cost in the spend windows it
// touches before the request goes upstream, and settles the hold to the
// real cost after it (Reservation.Settle, or SettleJournaled).
type Ledger interface {
	// Reserve holds req.Amount in every window of req.Subjects that has a
	// limit, or refuses with *Refusal if a block limit (or an enforced
	// prepaid balance) would be passed. *ContendedError is a window too
	// busy for the request to get its share of; any other error means the
	// database could not be read.
	Reserve(ctx context.Context, req Request) (*Reservation, error)
	// Flush writes the settled spend, warn crossings and balance changes
	// not written yet; the server calls it at shutdown. On failure they
	// stay for the next flush.
	Flush(ctx context.Context) error
	// Current is the subject's spend in the current hour, day, month and
	// the total, with its limits, for the admin API.
	Current(ctx context.Context, s Subject) ([]*Spend, error)
	// Spends is Current of each subject, out[i] being subjects[i]'s, with
	// one flush and one query per scope for them all: for a page of keys
	// or services.
	Spends(ctx context.Context, subjects []Subject) ([][]*Spend, error)
	// Run does the background work until ctx ends: the write-behind flush
	// and, for replicas, the sweep of dead replicas' leases.
	Run(ctx context.Context)
	// LockJournal serialises journal writes with the ledger's own flushes
	// and window loads. Hold it from before the transaction that calls
	// WriteJournal begins until its done has run: SQLite's transactions
	// take the write lock at BEGIN, and PostgreSQL's hold window rows that
	// a flush waits for.
	LockJournal()
	// UnlockJournal releases LockJournal.
	UnlockJournal()
	// WriteJournal writes the settlements' spend in tx, the transaction
	// that writes their requests' usage records, with LockJournal held.
	// done must be called once tx has ended: committed, the memory is
	// brought in line and warn crossings are announced; not committed,
	// nothing changed and the settlements may be written again.
	WriteJournal(ctx context.Context, tx *sql.Tx, settled []*Settlement) (done func(committed bool), err error)
}

// Options configure a ledger.
type Options struct {
	// Log receives the ledger's warnings; nil is slog.Default().
	Log *slog.Logger
	// Now is the clock; tests move it across window boundaries. Nil is
	// time.Now.
	Now func() time.Time
	// Alerts receives each warn crossing after it is stored, for the
	// webhook; sends never block (a full channel drops the notification,
	// the stored alert remains).
	Alerts chan<- Alert
}

// New returns the ledger for db: Embedded on SQLite, whose file one
// process owns; Leased on PostgreSQL, which replicas share.
func New(db *database.DB, opts Options) Ledger {
	if db.Dialect == dialect.Postgres {
		return NewLeased(db, opts)
	}
	return NewEmbedded(db, opts)
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

// Reservation is a request's hold on its windows until it settles.
type Reservation struct {
	m        *memory
	orgID    int
	amount   money.Micros
	slots    []*slot
	warnings []string
	settled  bool
	// held is set when amount is held in the limited windows.
	held bool
}

// Warnings are the windows already past their warn threshold when the
// request was admitted, as X-Sluice-Budget-Warning values:
// `key "frontend" day $52.10/$50.00`.
func (r *Reservation) Warnings() []string { return r.warnings }

// Settle replaces the reservation with the actual cost: spent grows in
// every window of the request (the next request sees it), the hold is
// released, and the spend, the prepaid balance's decrease and any warn
// threshold crossed are written at the next flush. Settling twice does
// nothing the second time. It never fails; the error is the proxy's
// Reservation interface's.
func (r *Reservation) Settle(_ context.Context, actual money.Micros) error {
	if r.close(actual) {
		r.m.settle(r, actual, false)
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
	if r.held && actual > r.amount {
		// The worst case was not worst enough (an upstream counted more
		// tokens than the body could hold): say so, since a block may be
		// passed by the difference.
		r.m.log.Warn("settled cost exceeded its reservation", "reserved", r.amount.String(), "actual", actual.String())
	}
	return true
}

// refusal is the 429 for a request of amount that s's block refuses.
func refusal(s *slot, amount money.Micros, now time.Time) *Refusal {
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
	} else if s.spent+amount <= *s.block {
		// Requests in flight hold what is missing: they may settle for
		// less, so a retry soon may pass.
		r.RetryAfter = time.Second
		msg += "; requests in flight hold the rest, and what they do not spend comes back when they end"
	} else {
		msg += "; the total limit never resets, ask an admin to raise it"
	}
	r.Message = msg
	return r
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
