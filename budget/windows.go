package budget

import (
	"fmt"
	"time"

	"github.com/sluicehq/sluice/money"
)

// Window is a calendar window in UTC, or the lifetime total.
type Window string

// The windows, shortest first.
const (
	Hour  Window = "hour"
	Day   Window = "day"
	Month Window = "month"
	Total Window = "total"
)

// Windows lists every window, shortest first.
var Windows = []Window{Hour, Day, Month, Total}

// totalStart is the window start of the lifetime total.
var totalStart = time.Unix(0, 0).UTC()

// Start is the beginning of the window containing t.
func (w Window) Start(t time.Time) time.Time {
	t = t.UTC()
	switch w {
	case Hour:
		return t.Truncate(time.Hour)
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return totalStart
}

// End is when the window containing t resets; zero for the total, which
// never does.
func (w Window) End(t time.Time) time.Time {
	s := w.Start(t)
	switch w {
	case Hour:
		return s.Add(time.Hour)
	case Day:
		return s.AddDate(0, 0, 1)
	case Month:
		return s.AddDate(0, 1, 0)
	}
	return time.Time{}
}

// Scope is whose spend a window counts.
type Scope string

// The scopes.
const (
	ScopeKey     Scope = "key"
	ScopeService Scope = "service"
	ScopeOrg     Scope = "org"
)

// Limits are the seven cost limits in the order of the LimitsMixin:
// hour warn, hour block, day warn, day block, month warn, month block,
// total block. nil means none.
type Limits [7]*money.Micros

// For returns the warn and block limits of a window.
func (l Limits) For(w Window) (warn, block *money.Micros) {
	switch w {
	case Hour:
		return l[0], l[1]
	case Day:
		return l[2], l[3]
	case Month:
		return l[4], l[5]
	}
	return nil, l[6]
}

// Inherit fills the limits l does not set from defaults: a key's limits
// default to its service's.
func (l Limits) Inherit(defaults Limits) Limits {
	for i := range l {
		if l[i] == nil {
			l[i] = defaults[i]
		}
	}
	return l
}

// Subject is one scope a request spends in, with its limits.
type Subject struct {
	Scope  Scope
	ID     int
	Name   string // for messages: the key's, service's or organization's name
	Limits Limits
	// own are the limits set on the subject itself and from names who set
	// the others (a key's service, `service "chat"`), so that a refusal
	// names the limit's real owner; from is empty when every limit is own.
	own  Limits
	from string
}

// label names a window of a subject the way people read it:
// key "frontend" day.
func (s Subject) label(w Window) string {
	return fmt.Sprintf("%s %q %s", s.Scope, s.Name, w)
}

// blockOwner names whoever set the block limit of window w: the subject
// itself (key "frontend"), or the service a key took it from.
func (s Subject) blockOwner(w Window) (owner string, inherited bool) {
	if _, own := s.own.For(w); own == nil && s.from != "" {
		return s.from, true
	}
	return fmt.Sprintf("%s %q", s.Scope, s.Name), false
}
