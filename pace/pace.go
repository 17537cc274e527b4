// Package pace keeps request rates under their limits: requests per
// minute (rpm), input and output tokens per minute (tpm) and requests in
// flight (concurrency), for API keys, services and organizations. A
// request touches its key, its service and its organization; the caller
// passes each with the limits that apply to it (a key's own limits, else
// its service's: Limits.Inherit), and Acquire checks them all in one call.
//
// # The window
//
// A minute is rolling, not a calendar minute (which would admit twice the
// limit across its boundary). Time is cut into one-second buckets; an
// admission at a time in second s counts what was admitted in s and the 60
// seconds before it (61 buckets) and passes only if that plus its own cost
// stays within the limit. Any 60-second interval lies within 61
// consecutive buckets, all of which the last admission in it counted, so
// no 60-second interval ever holds more than the limit. The price of
// whole-second buckets: under sustained demand a subject gets its limit per
// 61 seconds, not per 60 (at least 98% of it). A token bucket of capacity
// L refilled at L/60 per second would admit up to 2L in some 60 seconds,
// which is why it is not used.
//
// Tokens are known only after the answer: Acquire holds the caller's
// estimate (at least 1) in the current bucket, and Permit.Settle replaces
// it with the real count: a lower count frees the difference in the bucket
// it was held in, a higher one adds the excess to the bucket of the
// settle. Excess settled above an estimate can pass a tpm limit (it was
// not known at admission); the next admissions wait until it slides out.
//
// # Two implementations
//
// Embedded keeps everything in memory, for the one process that owns an
// SQLite file. Leased is for replicas sharing PostgreSQL (it runs on
// SQLite as well): the database holds each subject's 61 buckets (the
// pace_windows table), and a replica leases a slice of the headroom for
// the current second with one locked read-and-update, then admits
// requests against the slice in memory until the second ends. A grant
// counts in the database's bucket at once, so the buckets' sum bounds what
// all replicas together admitted, whatever their number: the limit holds
// across replicas exactly as in one process, provided their clocks agree
// (a replica whose clock runs d ahead or behind shifts its admissions by d
// against the others'). Concurrency slots are leased the same way, as
// pace_slots rows each replica holds and renews.
//
// Stranded headroom in the leased mode: a slice granted for a second and
// not used in it holds back at most that slice (never more than a quarter
// of the headroom the replica last saw, or the one request's cost) until
// it goes back, which is at the replica's next grant or its next flush
// (every 100 ms), after the second ended; a replica that dies strands its
// last second's unused slice until that second leaves the window, at most
// 61 s. Under sustained demand (every replica using its slices up) nothing
// is stranded and a subject gets exactly its limit per 61 seconds. Free
// concurrency slots go back at the next flush, so another replica may be
// refused for up to 100 ms while this one holds free slots; a replica
// whose own requests keep taking its freed slots keeps them, so slots are
// not shared fairly between replicas under demand above the limit. A
// replica refused a slot refuses its next requests for the subject
// without asking the database for flushEvery (100 ms), and one refused a
// rate slice does the same until the second ends.
//
// Dead replicas: a replica renews its slots every SlotTTL/3; slots not
// renewed for SlotTTL are deleted by the next grant on their subject, so a
// replica stopped without releasing has its slots back within SlotTTL
// (30 s) of its last renewal. A replica that could not renew for SlotTTL/2
// confirms its slots before admitting more against them. The one way past
// a concurrency limit: a replica cut off from the database for longer
// than SlotTTL while its requests stay in flight, whose slots the others
// take meanwhile.
//
// When the database cannot be reached and a request needs a grant, the
// limiter refuses it with ErrUnavailable, or admits it unchecked with
// Options.FailOpen (the same policy as budgets' --budget-fail-open).
// Requests covered by slices already leased are admitted either way. A
// grant that could not reach the database makes the grants of the next
// 500 ms fail at once, so that requests do not pile up each waiting for a
// connection.
package pace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
)

// Kind is one of the three limits.
type Kind uint8

// The limits.
const (
	RPM         Kind = iota // requests per minute
	TPM                     // input + output tokens per minute
	Concurrency             // requests in flight
	kinds
)

// String is the limit's name, as the database stores it.
func (k Kind) String() string {
	switch k {
	case RPM:
		return "rpm"
	case TPM:
		return "tpm"
	case Concurrency:
		return "concurrency"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Scope is what a subject is.
type Scope uint8

// The scopes, in the order a request's subjects are checked.
const (
	ScopeKey Scope = iota
	ScopeService
	ScopeOrg
)

// String names the scope in messages: key, service, organization.
func (s Scope) String() string {
	switch s {
	case ScopeKey:
		return "key"
	case ScopeService:
		return "service"
	case ScopeOrg:
		return "organization"
	}
	return fmt.Sprintf("scope(%d)", s)
}

// column is the scope as the database stores it.
func (s Scope) column() string {
	if s == ScopeOrg {
		return "org"
	}
	return s.String()
}

// Limits are a subject's pace limits; zero is no limit.
type Limits struct {
	RPM, TPM, Concurrency int64
}

// Of is the limit of kind k.
func (l Limits) Of(k Kind) int64 {
	switch k {
	case RPM:
		return l.RPM
	case TPM:
		return l.TPM
	case Concurrency:
		return l.Concurrency
	}
	return 0
}

// Inherit is l with each limit l does not set taken from parent: a key's
// own limits override its service's, one limit at a time.
func (l Limits) Inherit(parent Limits) Limits {
	if l.RPM <= 0 {
		l.RPM = parent.RPM
	}
	if l.TPM <= 0 {
		l.TPM = parent.TPM
	}
	if l.Concurrency <= 0 {
		l.Concurrency = parent.Concurrency
	}
	return l
}

// Subject is a key, a service or an organization with the limits that
// apply to it.
type Subject struct {
	Scope Scope
	ID    int
	// Name is how refusals name the subject (a key's or a service's
	// name); empty names it by ID.
	Name   string
	Limits Limits
}

// Request is one request about to go upstream.
type Request struct {
	// Subjects are the request's key, service and organization; those
	// without limits cost nothing.
	Subjects []Subject
	// Tokens is the estimate of input + output tokens held against tpm
	// limits until Permit.Settle; below 1 holds 1.
	Tokens int64
}

// Status is one limit of one subject as it stands, for the rate-limit
// headers (x-ratelimit-limit-requests, -remaining-, -reset-, and
// anthropic-ratelimit-*).
type Status struct {
	Scope Scope
	ID    int
	Kind  Kind
	Limit int64
	// Remaining is what could be admitted now: requests, tokens or slots.
	Remaining int64
	// Reset is how long until the window is empty again; zero for
	// concurrency and for an empty window.
	Reset time.Duration
}

// Limiter admits requests under their subjects' pace limits.
type Limiter interface {
	// Acquire admits req, holding one request, its token estimate and one
	// slot in each limited subject, or refuses with *Refusal. With the
	// database unreachable it returns an error matching ErrUnavailable,
	// or, with Options.FailOpen, a permit whose Unchecked is true.
	Acquire(ctx context.Context, req Request) (*Permit, error)
	// Status is each limit of the subjects as it stands, in the order of
	// subjects and kinds.
	Status(subjects []Subject) []Status
	// Run does the background work until ctx ends: handing back unused
	// leases, renewing slots, forgetting idle subjects.
	Run(ctx context.Context)
	// Close hands back what the limiter holds that no request uses; the
	// server calls it at shutdown, after the requests ended.
	Close(ctx context.Context) error
}

// Options configure a limiter.
type Options struct {
	// Log receives the limiter's warnings; nil is slog.Default().
	Log *slog.Logger
	// Now is the clock; tests move it. Nil is time.Now.
	Now func() time.Time
	// FailOpen admits requests whose limits cannot be checked because the
	// database cannot be reached, instead of refusing with ErrUnavailable.
	FailOpen bool
}

// New returns the limiter for db: Embedded on SQLite, whose file one
// process owns; Leased on PostgreSQL, which replicas share.
func New(db *database.DB, opts Options) Limiter {
	if db.Dialect == dialect.Postgres {
		return NewLeased(db, opts)
	}
	return NewEmbedded(opts)
}

// Refusal is a request refused by a limit: 429 with Retry-After.
type Refusal struct {
	Kind  Kind
	Scope Scope
	ID    int
	Name  string // the subject's Name
	Limit int64
	// RetryAfter is how long until the request could be admitted (round
	// it up to whole seconds for Retry-After). For concurrency it is a
	// guess, as requests in flight end when they end; zero means the
	// request can never fit (its token estimate is above the limit).
	RetryAfter time.Duration
	// Status is every limit of the request's subjects as it stood.
	Status []Status
}

func (r *Refusal) Error() string {
	unit := map[Kind]string{RPM: "requests per minute", TPM: "tokens per minute", Concurrency: "requests in flight"}[r.Kind]
	subject := fmt.Sprintf("%s %d", r.Scope, r.ID)
	if r.Name != "" {
		subject = fmt.Sprintf("%s %q", r.Scope, r.Name)
	}
	msg := fmt.Sprintf("rate limit exceeded: %s: %s limit %d %s", subject, r.Kind, r.Limit, unit)
	if r.RetryAfter > 0 {
		return msg + fmt.Sprintf("; retry after %s", r.RetryAfter.Round(time.Millisecond))
	}
	return msg + "; the request's token estimate is above the limit"
}

// ErrUnavailable is a request whose limits could not be checked: the
// database could not be reached (503 unless fail-open).
var ErrUnavailable = errors.New("pace limits cannot be checked")

// UnavailableError is ErrUnavailable with its cause.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return fmt.Sprintf("%s: %v", ErrUnavailable, e.Err) }

// Is matches ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap is the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Tightest is the status of kind k with the least remaining, the one the
// x-ratelimit-*-requests and -tokens headers report; false when no
// subject has a limit of kind k.
func Tightest(statuses []Status, k Kind) (Status, bool) {
	var out Status
	found := false
	for _, s := range statuses {
		if s.Kind == k && (!found || s.Remaining < out.Remaining) {
			out, found = s, true
		}
	}
	return out, found
}
