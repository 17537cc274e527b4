package pace_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/paceslot"
	"github.com/sluicehq/sluice/ent/pacewindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/pace"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable time source shared by a test's limiters.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func opts(c *clock) pace.Options { return pace.Options{Log: quiet, Now: c.Now} }

// subjects is a request's key, service and organization with these limits.
func subjects(id int, key, svc, org pace.Limits) []pace.Subject {
	return []pace.Subject{
		{Scope: pace.ScopeKey, ID: id, Limits: key},
		{Scope: pace.ScopeService, ID: id, Limits: svc},
		{Scope: pace.ScopeOrg, ID: id, Limits: org},
	}
}

// eachMode runs fn with a constructor of the limiter in each mode: the
// leased one on each dialect, the embedded one (no database) once.
func eachMode(t *testing.T, fn func(t *testing.T, db *database.DB, mk func(pace.Options) pace.Limiter)) {
	t.Run("embedded", func(t *testing.T) {
		fn(t, nil, func(o pace.Options) pace.Limiter { return pace.NewEmbedded(o) })
	})
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		t.Run("leased", func(t *testing.T) {
			fn(t, db, func(o pace.Options) pace.Limiter { return pace.NewLeased(db, o) })
		})
	})
}

// replicas is two leased limiters on one database, as two replicas.
func replicas(db *database.DB, o pace.Options) (*pace.Leased, *pace.Leased) {
	return pace.NewLeased(db, o), pace.NewLeased(db, o)
}

// clockedReplicas is two replicas sharing a test clock.
func clockedReplicas(db *database.DB) (*pace.Leased, *pace.Leased, *clock) {
	c := newClock()
	a, b := replicas(db, opts(c))
	return a, b, c
}

// refusalOf is err as a *Refusal, failing t when it is not one.
func refusalOf(t *testing.T, err error) *pace.Refusal {
	t.Helper()
	var r *pace.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v; want a *pace.Refusal", err)
	}
	return r
}

func TestInherit(t *testing.T) {
	for _, tt := range []struct {
		own, parent, want pace.Limits
	}{
		{pace.Limits{}, pace.Limits{RPM: 10, TPM: 20, Concurrency: 3}, pace.Limits{RPM: 10, TPM: 20, Concurrency: 3}},
		{pace.Limits{RPM: 5}, pace.Limits{RPM: 10, TPM: 20}, pace.Limits{RPM: 5, TPM: 20}},
		{pace.Limits{RPM: 50, TPM: 1, Concurrency: 9}, pace.Limits{RPM: 10, TPM: 20, Concurrency: 3}, pace.Limits{RPM: 50, TPM: 1, Concurrency: 9}},
		{pace.Limits{Concurrency: 2}, pace.Limits{}, pace.Limits{Concurrency: 2}},
	} {
		if got := tt.own.Inherit(tt.parent); got != tt.want {
			t.Errorf("%+v.Inherit(%+v) = %+v, want %+v", tt.own, tt.parent, got, tt.want)
		}
	}
}

func TestTightest(t *testing.T) {
	st := []pace.Status{
		{Scope: pace.ScopeKey, Kind: pace.RPM, Limit: 10, Remaining: 4},
		{Scope: pace.ScopeKey, Kind: pace.TPM, Limit: 1000, Remaining: 900},
		{Scope: pace.ScopeService, Kind: pace.RPM, Limit: 100, Remaining: 2},
		{Scope: pace.ScopeOrg, Kind: pace.RPM, Limit: 500, Remaining: 2},
	}
	for _, tt := range []struct {
		kind  pace.Kind
		scope pace.Scope
		ok    bool
	}{{pace.RPM, pace.ScopeService, true}, {pace.TPM, pace.ScopeKey, true}, {pace.Concurrency, 0, false}} {
		got, ok := pace.Tightest(st, tt.kind)
		if ok != tt.ok || ok && got.Scope != tt.scope {
			t.Errorf("Tightest(%s) = %+v, %v; want scope %s, %v", tt.kind, got, ok, tt.scope, tt.ok)
		}
	}
}

// TestUnlimited: a request whose subjects have no limits is admitted
// with a permit that holds nothing and allocates nothing.
func TestUnlimited(t *testing.T) {
	l := pace.NewEmbedded(opts(newClock()))
	req := pace.Request{Subjects: subjects(5, pace.Limits{}, pace.Limits{}, pace.Limits{}), Tokens: 100}
	allocs := testing.AllocsPerRun(100, func() {
		p, err := l.Acquire(context.Background(), req)
		if err != nil || p.Status() != nil {
			t.Fatalf("%v, %v", p, err)
		}
		p.Settle(50)
		p.Release()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per unlimited request; want 0", allocs)
	}
}

// TestRefusalNamesLimitAndSubject: a refusal says which limit of which
// subject refused and when to retry, and carries every limit of the
// request's subjects; a refused request holds nothing.
func TestRefusalNamesLimitAndSubject(t *testing.T) {
	eachMode(t, func(t *testing.T, _ *database.DB, mk func(pace.Options) pace.Limiter) {
		ctx := context.Background()
		c := newClock()
		l := mk(opts(c))
		svc := pace.Subject{Scope: pace.ScopeService, ID: 7, Name: "chat", Limits: pace.Limits{TPM: 1000}}
		org := pace.Subject{Scope: pace.ScopeOrg, ID: 9, Limits: pace.Limits{Concurrency: 3}}
		req := func(key int, keyLimits pace.Limits, tokens int64) (*pace.Permit, error) {
			return l.Acquire(ctx, pace.Request{Tokens: tokens, Subjects: []pace.Subject{
				{Scope: pace.ScopeKey, ID: key, Limits: keyLimits.Inherit(svc.Limits)}, svc, org}})
		}
		for i := 0; i < 2; i++ {
			if _, err := req(1, pace.Limits{RPM: 2}, 10); err != nil {
				t.Fatal(err)
			}
		}
		c.Add(1500 * time.Millisecond)
		_, err := req(1, pace.Limits{RPM: 2}, 10)
		r := refusalOf(t, err)
		if r.Kind != pace.RPM || r.Scope != pace.ScopeKey || r.ID != 1 || r.Limit != 2 {
			t.Fatalf("refusal %+v; want key 1's rpm limit 2", r)
		}
		if r.Error() != "rate limit exceeded: key 1: rpm limit 2 requests per minute; retry after 59.5s" {
			t.Errorf("message %q", r.Error())
		}
		if r.RetryAfter != 59500*time.Millisecond {
			t.Fatalf("RetryAfter %v; want 59.5s (second 0 leaves at 61 s)", r.RetryAfter)
		}
		byLimit := map[[2]int]pace.Status{}
		for _, s := range r.Status {
			byLimit[[2]int{int(s.Scope), int(s.Kind)}] = s
		}
		if s := byLimit[[2]int{int(pace.ScopeKey), int(pace.RPM)}]; s.Limit != 2 || s.Remaining != 0 || s.Reset != r.RetryAfter {
			t.Errorf("key rpm status %+v; want limit 2, remaining 0, reset %v", s, r.RetryAfter)
		}
		if s := byLimit[[2]int{int(pace.ScopeKey), int(pace.TPM)}]; s.Limit != 1000 || s.Remaining != 980 {
			t.Errorf("key tpm status (inherited from the service) %+v; want limit 1000, remaining 980", s)
		}
		if s := byLimit[[2]int{int(pace.ScopeOrg), int(pace.Concurrency)}]; s.Limit != 3 || s.Remaining != 1 || s.Reset != 0 {
			t.Errorf("org concurrency status %+v; want limit 3, remaining 1", s)
		}
		if len(r.Status) != 4 {
			t.Errorf("%d statuses; want 4 (key rpm and tpm, service tpm, org concurrency)", len(r.Status))
		}

		_, err = req(2, pace.Limits{}, 990)
		if r := refusalOf(t, err); r.Kind != pace.TPM || r.Scope != pace.ScopeService || r.ID != 7 ||
			r.Error() != `rate limit exceeded: service "chat": tpm limit 1000 tokens per minute; retry after 59.5s` {
			t.Fatalf("refusal %+v (%q); want service 7's tpm", r, r.Error())
		}
		p, err := req(3, pace.Limits{}, 1)
		if err != nil {
			t.Fatalf("third request in flight: %v", err)
		}
		_, err = req(4, pace.Limits{}, 1)
		if r := refusalOf(t, err); r.Kind != pace.Concurrency || r.Scope != pace.ScopeOrg || r.ID != 9 || r.RetryAfter <= 0 {
			t.Fatalf("refusal %+v; want organization 9's concurrency with a RetryAfter", r)
		}
		if st := p.Status(); len(st) != 3 || st[2].Kind != pace.Concurrency || st[2].Remaining != 0 {
			t.Fatalf("permit status %+v; want key tpm, service tpm, org concurrency with 0 remaining", st)
		}
		p.Release()
		if _, err := req(5, pace.Limits{}, 1); err != nil {
			t.Fatalf("after a release: %v", err)
		}
	})
}

// TestTPMEstimateThenSettle: the estimate is held at admission; settling
// lower frees the difference, settling higher counts the excess; what the
// window counts leaves it 61 seconds later.
func TestTPMEstimateThenSettle(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(pace.Options) pace.Limiter) {
		ctx := context.Background()
		c := newClock()
		l := mk(opts(c))
		subj := subjects(31, pace.Limits{TPM: 1000}, pace.Limits{}, pace.Limits{})
		acquire := func(tokens int64) (*pace.Permit, error) {
			return l.Acquire(ctx, pace.Request{Subjects: subj, Tokens: tokens})
		}
		p1, err := acquire(600)
		if err != nil {
			t.Fatal(err)
		}
		_, err = acquire(600)
		if r := refusalOf(t, err); r.Kind != pace.TPM || r.RetryAfter != 61*time.Second {
			t.Fatalf("refusal %+v; want tpm, retry after 61s", r)
		}
		p1.Settle(200)
		p1.Settle(5) // only the first settle counts
		p2, err := acquire(600)
		if err != nil {
			t.Fatalf("after settling 600 down to 200, 600 more: %v", err)
		}
		c.Add(2 * time.Second)
		p2.Settle(900)
		_, err = acquire(1)
		if r := refusalOf(t, err); r.Kind != pace.TPM {
			t.Fatalf("refusal %+v; want tpm (200 + 900 counted)", r)
		}
		if st := l.Status(subj); len(st) != 1 || st[0].Remaining != 0 {
			t.Fatalf("status %+v; want 0 remaining", st)
		}
		if db != nil {
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
			row := db.Client.PaceWindow.Query().Where(pacewindow.ScopeEQ(pacewindow.ScopeKey), pacewindow.ScopeID(31), pacewindow.KindEQ(pacewindow.KindTpm)).OnlyX(ctx)
			var sum int64
			for _, n := range row.Counts {
				sum += n
			}
			if sum != 1100 {
				t.Fatalf("the database counts %d tokens (%v); want 1100", sum, row.Counts)
			}
		}
		c.Add(59 * time.Second) // 61 s after the first admissions
		if _, err := acquire(700); err != nil {
			t.Fatalf("61 s later, the 800 held in second 0 left: %v", err)
		}
		if _, err := acquire(1); err == nil {
			t.Fatal("the 300 settled above the estimate in second 2 was not counted")
		}
		c.Add(2 * time.Second)
		if _, err := acquire(300); err != nil {
			t.Fatalf("63 s later, the 300 settled in second 2 left: %v", err)
		}
	})
}

// TestLongRequestSettles: a request that runs longer than a subject stays
// remembered (its estimate left the window, the subject saw no other
// admission) still has its real token count settled against the limit.
func TestLongRequestSettles(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(pace.Options) pace.Limiter) {
		ctx := context.Background()
		c := newClock()
		l := mk(opts(c))
		subj := subjects(32, pace.Limits{TPM: 1000}, pace.Limits{}, pace.Limits{})
		p, err := l.Acquire(ctx, pace.Request{Subjects: subj, Tokens: 100})
		if err != nil {
			t.Fatal(err)
		}
		c.Add(3 * time.Minute)
		switch l := l.(type) {
		case *pace.Embedded:
			l.ForgetIdle()
		case *pace.Leased:
			if err := l.FlushTick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		p.Settle(900)
		p.Release()
		// The estimate left the window long ago; the 800 above it count now.
		if _, err := l.Acquire(ctx, pace.Request{Subjects: subj, Tokens: 300}); err == nil {
			t.Fatal("the 900 tokens settled after a three-minute request were not counted")
		}
	})
}

// burst sends n concurrent requests spread over the limiters and returns
// the admitted count and the refusals.
func burst(t *testing.T, ls []pace.Limiter, n int, subj []pace.Subject) (int, []*pace.Refusal) {
	t.Helper()
	var ok atomic.Int64
	var mu sync.Mutex
	var refused []*pace.Refusal
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ls[i%len(ls)].Acquire(context.Background(), pace.Request{Subjects: subj, Tokens: 1})
			var r *pace.Refusal
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &r):
				mu.Lock()
				refused = append(refused, r)
				mu.Unlock()
			default:
				t.Errorf("acquire: %v", err)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load()), refused
}

// TestRPMAcrossReplicas: two limiters on one database, 300 concurrent
// requests against 60 rpm: exactly 60 pass (none stranded: each replica's
// demand uses its slices up), the rest are refused with a RetryAfter
// until second 0 leaves the window; nothing more passes in that minute,
// and the next minute admits 60 again.
func TestRPMAcrossReplicas(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		a, b, c := clockedReplicas(db)
		ls := []pace.Limiter{a, b}
		subj := subjects(41, pace.Limits{RPM: 60}, pace.Limits{}, pace.Limits{})
		c.Add(300 * time.Millisecond)
		for round := range 3 {
			ok, refused := burst(t, ls, 300, subj)
			if ok != 60 || len(refused) != 240 {
				t.Fatalf("round %d: %d admitted, %d refused; want 60 and 240", round, ok, len(refused))
			}
			for _, r := range refused {
				if r.Kind != pace.RPM || r.Scope != pace.ScopeKey || r.ID != 41 || r.RetryAfter <= 0 || r.RetryAfter > 61*time.Second {
					t.Fatalf("round %d: refusal %+v; want key 41's rpm with 0 < RetryAfter ≤ 61s", round, r)
				}
			}
			c.Add(30 * time.Second)
			if ok, _ := burst(t, ls, 20, subj); ok != 0 {
				t.Fatalf("round %d: %d admitted 30 s later; want 0", round, ok)
			}
			c.Add(31 * time.Second)
		}
	})
}

// TestRPMRollingAcrossReplicas: two limiters under sustained demand
// above 60 rpm, the clock moving in half seconds for 200 s with the
// background flush between steps: no 60 seconds ever hold more than 60
// admissions, and the limit is reached every 61 seconds (at least 60 per
// 61 s: 240 in 200 s, the admissions starting at 0, 61, 122 and 183 s).
func TestRPMRollingAcrossReplicas(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, b, c := clockedReplicas(db)
		reps := []*pace.Leased{a, b}
		subj := subjects(42, pace.Limits{RPM: 60}, pace.Limits{}, pace.Limits{})
		start := c.Now()
		var admitted []time.Duration
		for c.Now().Sub(start) < 200*time.Second {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := reps[i%2].Acquire(ctx, pace.Request{Subjects: subj}); err == nil {
						mu.Lock()
						admitted = append(admitted, c.Now().Sub(start))
						mu.Unlock()
					} else if !errors.As(err, new(*pace.Refusal)) {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for _, r := range reps {
				if err := r.FlushTick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			c.Add(500 * time.Millisecond)
		}
		slices.Sort(admitted)
		for i, from := range admitted {
			n, _ := slices.BinarySearch(admitted, from+60*time.Second)
			if n-i > 60 {
				t.Fatalf("%d admitted in the 60 s from %v", n-i, from)
			}
		}
		t.Logf("%d admitted in 200 s", len(admitted))
		if len(admitted) < 240 {
			t.Fatalf("%d admitted in 200 s; want at least 240", len(admitted))
		}
	})
}

// TestStrandedSliceGoesBack: a replica whose demand stops strands the
// rest of its slice (a quarter of the headroom it saw) only until its
// second ends: its next flush hands it back, and the other replica gets
// the whole limit in the minute.
func TestStrandedSliceGoesBack(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, b, c := clockedReplicas(db)
		subj := subjects(45, pace.Limits{RPM: 60}, pace.Limits{}, pace.Limits{})
		if _, err := a.Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := burst(t, []pace.Limiter{b}, 100, subj); ok != 45 {
			t.Fatalf("%d admitted while the other replica holds 14 unused; want 45", ok)
		}
		c.Add(time.Second)
		if err := a.FlushTick(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, _ := burst(t, []pace.Limiter{b}, 100, subj); ok != 14 {
			t.Fatalf("%d admitted once the unused slice went back; want 14", ok)
		}
	})
}

// TestConcurrencyAcrossReplicas: a limit of 5 in flight, shared by two
// limiters under contention, is never exceeded; released slots go back
// (at the flush) and the database holds none once all have ended.
func TestConcurrencyAcrossReplicas(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		// The real clock: a replica refused a slot asks again after 100 ms.
		o := pace.Options{Log: quiet}
		a, b := replicas(db, o)
		reps := []*pace.Leased{a, b}
		subj := subjects(51, pace.Limits{}, pace.Limits{}, pace.Limits{Concurrency: 5})
		var inFlight, most atomic.Int64
		var admitted [2]atomic.Int64
		done := make(chan struct{})
		flushed := make(chan struct{})
		go func() {
			defer close(flushed)
			for {
				select {
				case <-done:
					return
				case <-time.After(3 * time.Millisecond):
					for _, r := range reps {
						if err := r.FlushTick(ctx); err != nil {
							t.Error(err)
						}
					}
				}
			}
		}()
		var wg sync.WaitGroup
		for g := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 6 {
					p, err := reps[g%2].Acquire(ctx, pace.Request{Subjects: subj})
					if err != nil {
						if r := refusalOf(t, err); r.Kind != pace.Concurrency || r.Scope != pace.ScopeOrg {
							t.Errorf("refusal %+v; want the organization's concurrency", r)
						}
						time.Sleep(time.Millisecond)
						continue
					}
					admitted[g%2].Add(1)
					n := inFlight.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(2 * time.Millisecond)
					inFlight.Add(-1)
					p.Release()
					p.Release() // harmless
				}
			}()
		}
		wg.Wait()
		close(done)
		<-flushed
		if most.Load() > 5 || most.Load() < 2 {
			t.Fatalf("%d in flight at most; want between 2 and 5", most.Load())
		}
		if admitted[0].Load()+admitted[1].Load() < 5 {
			t.Fatalf("admitted %d and %d; want at least the limit", admitted[0].Load(), admitted[1].Load())
		}
		for _, r := range reps {
			if err := r.FlushTick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if held := db.Client.PaceSlot.Query().Where(paceslot.ScopeEQ(paceslot.ScopeOrg), paceslot.ScopeID(51)).CountX(ctx); held != 0 {
			t.Fatalf("%d slot rows left after every request ended; want 0", held)
		}
		for i := range 5 {
			if _, err := reps[1].Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
				t.Fatalf("slot %d after the others went back: %v", i+1, err)
			}
		}
		if _, err := reps[0].Acquire(ctx, pace.Request{Subjects: subj}); err == nil {
			t.Fatal("a sixth slot was granted")
		}
	})
}

// TestDeadReplicaSlots: a replica stopped without releasing its slots
// keeps them while it renews and loses them SlotTTL after its last
// renewal; the next grant on the subject deletes them.
func TestDeadReplicaSlots(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, b, c := clockedReplicas(db)
		subj := subjects(61, pace.Limits{Concurrency: 5}, pace.Limits{}, pace.Limits{})
		for range 5 {
			if _, err := a.Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
				t.Fatal(err)
			}
		}
		// a lives for 20 s, renewing; then it stops without releasing.
		for range 2 {
			c.Add(10 * time.Second)
			if err := a.FlushTick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		c.Add(pace.SlotTTL - time.Second)
		_, err := b.Acquire(ctx, pace.Request{Subjects: subj})
		if r := refusalOf(t, err); r.Kind != pace.Concurrency || r.RetryAfter <= 0 {
			t.Fatalf("refusal %+v; want concurrency with a RetryAfter", r)
		}
		if n, err := b.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before the expiry: %d, %v; want 0", n, err)
		}
		c.Add(2 * time.Second)
		if n, err := b.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep after the expiry: %d, %v; want the dead replica's row", n, err)
		}
		for i := range 5 {
			if _, err := b.Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
				t.Fatalf("slot %d SlotTTL after the dead replica's last renewal: %v", i+1, err)
			}
		}
		if _, err := b.Acquire(ctx, pace.Request{Subjects: subj}); err == nil {
			t.Fatal("a sixth slot was granted")
		}
	})
}

// TestRunHandsBack: the background work of a leased limiter hands back a
// released slot and, once its second ended, a slice's unused part, so
// that the database counts only what requests used.
func TestRunHandsBack(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		l := pace.NewLeased(db, pace.Options{Log: quiet})
		go l.Run(ctx)
		subj := subjects(75, pace.Limits{RPM: 60, Concurrency: 2}, pace.Limits{}, pace.Limits{})
		p, err := l.Acquire(ctx, pace.Request{Subjects: subj})
		if err != nil {
			t.Fatal(err)
		}
		p.Release()
		var slots int
		var counted int64
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			slots = db.Client.PaceSlot.Query().Where(paceslot.ScopeID(75)).CountX(ctx)
			row := db.Client.PaceWindow.Query().Where(pacewindow.ScopeID(75), pacewindow.KindEQ(pacewindow.KindRpm)).OnlyX(ctx)
			counted = 0
			for _, n := range row.Counts {
				counted += n
			}
			if slots == 0 && counted == 1 {
				return
			}
		}
		t.Fatalf("%d slot rows and %d requests counted after Run's flushes; want 0 and 1", slots, counted)
	})
}

// TestReleaseOnce: slots come back on release, and a second release of
// the same permit frees nothing more.
func TestReleaseOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, _ *database.DB, mk func(pace.Options) pace.Limiter) {
		ctx := context.Background()
		l := mk(opts(newClock()))
		subj := subjects(71, pace.Limits{Concurrency: 2}, pace.Limits{}, pace.Limits{})
		p1, err := l.Acquire(ctx, pace.Request{Subjects: subj})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
			t.Fatal(err)
		}
		p1.Release()
		p1.Release()
		if _, err := l.Acquire(ctx, pace.Request{Subjects: subj}); err != nil {
			t.Fatalf("after a release: %v", err)
		}
		if _, err := l.Acquire(ctx, pace.Request{Subjects: subj}); err == nil {
			t.Fatal("a second release freed a second slot")
		}
	})
}

// TestDatabaseUnreachable: with the database gone, requests covered by a
// slice already leased pass; a request that needs the database is refused
// with ErrUnavailable (not a *Refusal), or, failing open, admitted
// unchecked.
func TestDatabaseUnreachable(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		for _, failOpen := range []bool{false, true} {
			ctx := context.Background()
			target := testenv.Target(t, dialectName)
			db, err := database.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
				t.Fatal(err)
			}
			c := newClock()
			o := opts(c)
			o.FailOpen = failOpen
			l := pace.NewLeased(db, o)
			warm := subjects(81, pace.Limits{RPM: 60}, pace.Limits{}, pace.Limits{})
			if _, err := l.Acquire(ctx, pace.Request{Subjects: warm}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if p, err := l.Acquire(ctx, pace.Request{Subjects: warm}); err != nil || p.Unchecked() {
				t.Fatalf("fail open %v: a request within the leased slice: %v (unchecked %v); want admitted and checked", failOpen, err, p.Unchecked())
			}
			for _, limits := range []pace.Limits{{RPM: 60}, {TPM: 1000}, {Concurrency: 3}} {
				p, err := l.Acquire(ctx, pace.Request{Subjects: subjects(82, limits, pace.Limits{}, pace.Limits{}), Tokens: 10})
				if failOpen {
					if err != nil || !p.Unchecked() {
						t.Fatalf("fail open, %+v: %v (unchecked %v); want admitted unchecked", limits, err, p.Unchecked())
					}
					p.Settle(20)
					p.Release()
					continue
				}
				if !errors.Is(err, pace.ErrUnavailable) || errors.As(err, new(*pace.Refusal)) {
					t.Fatalf("fail closed, %+v: %v; want ErrUnavailable", limits, err)
				}
			}
			if !failOpen {
				// The grants after a failed one fail without trying for
				// 500 ms, then try again.
				tried := func() bool {
					_, err := l.Acquire(ctx, pace.Request{Subjects: subjects(83, pace.Limits{RPM: 5}, pace.Limits{}, pace.Limits{})})
					return errors.Is(err, pace.ErrUnavailable) && !strings.Contains(err.Error(), "a moment ago")
				}
				if tried() {
					t.Fatal("a grant right after a failed one tried the database")
				}
				c.Add(time.Second)
				if !tried() {
					t.Fatal("a grant a second after a failed one did not try the database")
				}
			}
			if err := l.Close(ctx); err == nil {
				t.Fatal("close with the database gone: nil error")
			}
		}
	})
}

// TestStatementsMatchSchema prepares every hand-written statement against
// the migrated schema, so that a renamed table or column fails here.
func TestStatementsMatchSchema(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		testenv.Prepare(t, db, pace.Statements(db.Dialect))
	})
}

// benchSubjects has every limit, high enough never to refuse.
var benchSubjects = subjects(91, pace.Limits{RPM: 1 << 40, TPM: 1 << 50, Concurrency: 1 << 30},
	pace.Limits{RPM: 1 << 40}, pace.Limits{TPM: 1 << 50})

func benchAcquire(b *testing.B, l pace.Limiter) {
	ctx := context.Background()
	req := pace.Request{Subjects: benchSubjects, Tokens: 500}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := l.Acquire(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		p.Release()
	}
}

// BenchmarkAcquireEmbedded is the admission check of the embedded
// limiter: five limits of three subjects, acquired and released.
func BenchmarkAcquireEmbedded(b *testing.B) {
	benchAcquire(b, pace.NewEmbedded(opts(newClock())))
}

// BenchmarkAcquireLeased is the same against slices already leased: the
// request path without the database.
func BenchmarkAcquireLeased(b *testing.B) {
	db := testenv.New(b, dialect.SQLite)
	l := pace.NewLeased(db, opts(newClock()))
	for _, s := range benchSubjects {
		for k, n := range map[pace.Kind]int64{pace.RPM: 1 << 40, pace.TPM: 1 << 50, pace.Concurrency: 1 << 30} {
			if s.Limits.Of(k) > 0 {
				l.HoldSlice(s, k, n)
			}
		}
	}
	benchAcquire(b, l)
}
