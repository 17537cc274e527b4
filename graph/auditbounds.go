package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent/auditevent"
)

// The bounds of one audit row: however large a mutation's input, its row
// holds at most about auditChangesMax bytes of changes and auditErrorMax
// of error.
const (
	auditChangesMax = 4 << 10 // the changes of one row, as JSON
	auditValueMax   = 500     // one value
	auditItemMax    = 64      // one item of a listed value
	auditListMax    = 20      // lists longer than this are recorded as their length
	auditErrorMax   = 1 << 10
	auditNameMax    = 100 // an actor name a caller without a login gave
	auditActionsMax = 10  // distinct actions named in an anonymous summary
)

// capString cuts s to at most max bytes, on a character boundary, marking
// the cut with "…".
func capString(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// auditChanges records a mutation's arguments within auditChangesMax:
// fields in name order while they fit, then a count of those left out.
func auditChanges(args map[string]any) map[string]string {
	all := map[string]string{}
	flatten("", args, all)
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	const reserve = 64 // room for the "fields left out" entry
	out := map[string]string{}
	size := 2
	for i, k := range names {
		entry, _ := json.Marshal(map[string]string{capString(k, auditValueMax): all[k]})
		if size+len(entry)+reserve > auditChangesMax {
			out["…"] = fmt.Sprintf("%d more fields not recorded", len(names)-i)
			break
		}
		out[capString(k, auditValueMax)] = all[k]
		size += len(entry)
	}
	return out
}

type anonRefusalsKey struct{}

// anonRefusals gathers the refused mutations of one request without a
// login, for a single summary row.
type anonRefusals struct {
	mu        sync.Mutex
	count     int
	actions   map[string]int
	first     string            // the first refused mutation
	changes   map[string]string // its arguments
	username  string
	outcome   auditevent.Outcome
	errorText string
}

func (r *anonRefusals) add(action string, args map[string]any, changes map[string]string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	r.actions[action]++
	if r.count == 1 {
		r.first, r.changes, r.username = action, changes, usernameArg(args)
		r.outcome, r.errorText = auditOutcome(err)
	}
}

// summary lists the request's actions with their counts, most frequent
// first, at most auditActionsMax of them.
func (r *anonRefusals) summary() string {
	names := make([]string, 0, len(r.actions))
	for a := range r.actions {
		names = append(names, a)
	}
	sort.Slice(names, func(i, j int) bool {
		if r.actions[names[i]] != r.actions[names[j]] {
			return r.actions[names[i]] > r.actions[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, auditActionsMax+1)
	for i, a := range names {
		if i == auditActionsMax {
			parts = append(parts, fmt.Sprintf("%d more actions", len(names)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s×%d", a, r.actions[a]))
	}
	return capString(strings.Join(parts, ", "), auditValueMax)
}

// recordAnonymous writes the one row of a request's refused mutations
// without a login, unless its address has used up its rows this minute;
// then the row is counted and dropped.
func (a auditor) recordAnonymous(ctx context.Context, r *anonRefusals) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 {
		return
	}
	ip := auth.ClientIPFrom(ctx)
	if _, wait, _ := a.anon.Take(ctx, "audit:"+ip); wait > 0 {
		a.dropped.add(ctx, a, ip)
		return
	}
	changes := r.changes
	if r.count > 1 {
		// The first mutation's arguments, with the request's tally in
		// place of whatever does not fit beside it.
		changes = map[string]string{"refusedMutations": fmt.Sprint(r.count), "actions": r.summary()}
		budget := auditChangesMax - 2*auditValueMax
		names := make([]string, 0, len(r.changes))
		for k := range r.changes {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if budget -= len(k) + len(r.changes[k]) + 6; budget < 0 {
				break
			}
			changes["first."+k] = r.changes[k]
		}
	}
	msg := r.errorText
	if r.count > 1 {
		msg = capString(fmt.Sprintf("%s (and %d more refused mutations in the same request)", msg, r.count-1), auditErrorMax)
	}
	ev := a.client.AuditEvent.Create().
		SetAction(r.first).
		SetActorType(auditevent.ActorTypeAnonymous).
		SetActorName(r.username).
		SetChanges(changes).
		SetOutcome(r.outcome).
		SetError(msg).
		SetClientIP(ip)
	a.write(ctx, r.first, ev)
}

// droppedRows counts the anonymous summaries dropped by the per-address
// limit and says so in the log at most once a minute.
type droppedRows struct {
	mu     sync.Mutex
	count  int
	logged time.Time
}

func (d *droppedRows) add(ctx context.Context, a auditor, ip string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count++
	if time.Since(d.logged) < time.Minute {
		return
	}
	a.log.WarnContext(ctx, "dropped audit rows of refused mutations without a login: an address went over its rows a minute",
		"dropped_since_last_report", d.count, "address", ip)
	d.count, d.logged = 0, time.Now()
}
