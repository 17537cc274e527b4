package budget_test

import (
	"cmp"
	"context"
	"entgo.io/ent/dialect"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func usd(f float64) *money.Micros { m := money.FromUSD(f); return &m }

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock(s string) *clock   { t, _ := time.Parse(time.RFC3339, s); return &clock{t: t} }
func keySubject(id int, l budget.Limits) budget.Subject {
	return budget.Subject{Scope: budget.ScopeKey, ID: id, Name: fmt.Sprintf("key-%d", id), Limits: l}
}

// eachMode runs fn on each dialect in each ledger that dialect serves:
// the leased one on both, the embedded one of the SQLite default on
// SQLite. fn gets a constructor for the ledger, which sets its log.
func eachMode(t *testing.T, fn func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger)) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		t.Run("leased", func(t *testing.T) {
			fn(t, db, func(o budget.Options) budget.Ledger { o.Log = quiet; return budget.NewLeased(db, o) })
		})
		if db.Dialect == dialect.SQLite {
			t.Run("embedded", func(t *testing.T) {
				edb := testenv.New(t, db.Dialect)
				fn(t, edb, func(o budget.Options) budget.Ledger { o.Log = quiet; return budget.NewEmbedded(edb, o) })
			})
		}
	})
}

// newEmbedded and newLeased are the constructors as one function type.
func newEmbedded(db *database.DB, o budget.Options) budget.Ledger { return budget.NewEmbedded(db, o) }
func newLeased(db *database.DB, o budget.Options) budget.Ledger   { return budget.NewLeased(db, o) }

// spend reserves amount and settles it at the same cost.
func spend(ctx context.Context, b budget.Ledger, orgID int, amount money.Micros, subjects ...budget.Subject) (*budget.Reservation, error) {
	r, err := b.Reserve(ctx, budget.Request{OrgID: orgID, Subjects: subjects, Amount: amount})
	if err != nil {
		return nil, err
	}
	return r, r.Settle(ctx, amount)
}

func spent(t *testing.T, db *database.DB, scope spendwindow.Scope, id int, w spendwindow.Window) (money.Micros, money.Micros) {
	t.Helper()
	rows := db.Client.SpendWindow.Query().Where(spendwindow.ScopeEQ(scope), spendwindow.ScopeID(id), spendwindow.WindowEQ(w)).AllX(context.Background())
	var s, r int64
	for _, row := range rows {
		s += row.Spent
		r += row.Reserved
	}
	return money.Micros(s), money.Micros(r)
}

// TestConcurrentRequestsNeverOverspend: a $1.00 block, 200 concurrent
// requests of $0.02 each: exactly 50 pass, the rest get 429, and spend ends
// at $1.00 — twenty times over, on each dialect.
func TestConcurrentRequestsNeverOverspend(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		b := mk(budget.Options{})
		ctx := context.Background()
		for round := 0; round < 20; round++ {
			subj := keySubject(1000+round, budget.Limits{6: usd(1.00)})
			svc := budget.Subject{Scope: budget.ScopeService, ID: 1000 + round, Name: "svc"}
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := spend(ctx, b, 1, money.FromUSD(0.02), subj, svc)
					var ref *budget.Refusal
					switch {
					case err == nil:
						ok.Add(1)
					case errors.As(err, &ref) && ref.Status == 429:
						refused.Add(1)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				}()
			}
			wg.Wait()
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			s, r := spent(t, db, spendwindow.ScopeKey, subj.ID, spendwindow.WindowTotal)
			if ok.Load() != 50 || refused.Load() != 150 || s != money.FromUSD(1.00) || r != 0 {
				t.Fatalf("round %d: %d passed, %d refused, spent %s, reserved %s; want 50, 150, $1.00, $0",
					round, ok.Load(), refused.Load(), s, r)
			}
		}
	})
}

// TestTwoGatewaysShareTheBlock: two leased ledgers over two connection
// pools to one PostgreSQL (as two replicas have) hold one block between
// them: never more than the 50 requests that fit, a few refused while the
// other replica holds an unused slice, admitted once the slices are
// handed back.
func TestTwoGatewaysShareTheBlock(t *testing.T) {
	target := testenv.Target(t, "postgres")
	ctx := context.Background()
	var dbs [2]*database.DB
	for i := range dbs {
		db, err := database.Open(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	if _, err := migrationsApply(ctx, dbs[0]); err != nil {
		t.Fatal(err)
	}
	b1, b2 := budget.NewLeased(dbs[0], budget.Options{Log: quiet}), budget.NewLeased(dbs[1], budget.Options{Log: quiet})
	subj := keySubject(8, budget.Limits{6: usd(1.00)})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(b *budget.Leased) {
			defer wg.Done()
			if _, err := spend(ctx, b, 1, money.FromUSD(0.02), subj); err == nil {
				ok.Add(1)
			}
		}([]*budget.Leased{b1, b2}[i%2])
	}
	wg.Wait()
	for _, b := range []*budget.Leased{b1, b2} {
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, r := spent(t, dbs[0], spendwindow.ScopeKey, subj.ID, spendwindow.WindowTotal)
	if ok.Load() > 50 || ok.Load() < 40 || s != money.FromUSD(0.02)*money.Micros(ok.Load()) || r != 0 {
		t.Fatalf("two gateways: %d passed, spent %s, reserved %s after the flush; want at most 50 (and not far fewer), spent matching, nothing held", ok.Load(), s, r)
	}
	// Whatever a lease kept from a request is usable now, and no more.
	for n := ok.Load(); n < 50; n++ {
		if _, err := spend(ctx, []*budget.Leased{b1, b2}[n%2], 1, money.FromUSD(0.02), subj); err != nil {
			t.Fatalf("request %d refused with $%.2f left: %v", n+1, float64(50-n)*0.02, err)
		}
	}
	if _, err := spend(ctx, b1, 1, money.FromUSD(0.02), subj); err == nil {
		t.Fatal("a 51st request passed the $1.00 block")
	}
}

// TestLeases: the leased mode admits requests against a lease without a
// reservation row each, hands the unused part back when flushed, and a
// dead replica's lease is swept back after it expires.
func TestLeases(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := newClock("2026-03-01T10:00:00Z")
		b := budget.NewLeased(db, budget.Options{Log: quiet, Now: clk.Now})
		subj := keySubject(9, budget.Limits{3: usd(10), 6: usd(100)})
		for i := 0; i < 100; i++ {
			if _, err := spend(ctx, b, 1, money.FromUSD(0.01), subj); err != nil {
				t.Fatal(err)
			}
		}
		// One lease per blocked window (day and total), not one row a request.
		if n := db.Client.BudgetReservation.Query().CountX(ctx); n != 2 {
			t.Fatalf("%d reservation rows after 100 requests; want 2 leases", n)
		}
		_, held := spent(t, db, spendwindow.ScopeKey, 9, spendwindow.WindowDay)
		if held == 0 {
			t.Fatal("the day window holds no lease")
		}
		// What admins read: the spend so far and what is in flight, not
		// the lease.
		inFlight, err := b.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{subj}, Amount: money.FromUSD(0.05)})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := b.Current(ctx, subj)
		if err != nil {
			t.Fatal(err)
		}
		if day := cur[1]; day.Window != budget.Day || day.Spent != money.FromUSD(1.00) || day.Reserved != money.FromUSD(0.05) {
			t.Fatalf("Current day = spent %s, reserved %s; want $1.00 and the $0.05 in flight", day.Spent, day.Reserved)
		}
		inFlight.Settle(ctx, 0)
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s, r := spent(t, db, spendwindow.ScopeKey, 9, spendwindow.WindowDay)
		if s != money.FromUSD(1.00) || r != 0 || db.Client.BudgetReservation.Query().CountX(ctx) != 0 {
			t.Fatalf("after the flush: spent %s, reserved %s; want $1.00, $0 and no lease rows", s, r)
		}

		// A replica that leases and dies: its lease holds budget until it
		// expires, then another replica's sweep returns it.
		dead := budget.NewLeased(db, budget.Options{Log: quiet, Now: clk.Now})
		if _, err := dead.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{subj}, Amount: money.FromUSD(8.50)}); err != nil {
			t.Fatal(err)
		}
		heldUntilSwept(t, b, clk, subj, money.FromUSD(1.00), 2)
		b.Flush(ctx)
		if s, r := spent(t, db, spendwindow.ScopeKey, 9, spendwindow.WindowDay); s != money.FromUSD(2.00) || r != 0 {
			t.Fatalf("spent %s reserved %s; want $2.00 and $0", s, r)
		}
	})
}

// TestLeaseCoversABurst: with headroom to spare, one grant covers
// thousands of equal requests, so that a request rarely waits for the
// database (each grant is a round trip on some request's path).
func TestLeaseCoversABurst(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		b := budget.NewLeased(db, budget.Options{Log: quiet, Now: newClock("2026-03-01T10:00:00Z").Now})
		subj := keySubject(9, budget.Limits{3: usd(1_000_000)})
		amount := money.FromUSD(0.001)
		if _, err := spend(ctx, b, 1, amount, subj); err != nil {
			t.Fatal(err)
		}
		_, leased := spent(t, db, spendwindow.ScopeKey, 9, spendwindow.WindowDay)
		for i := 0; i < 2000; i++ {
			if _, err := spend(ctx, b, 1, amount, subj); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing was flushed, so the database's reserved is the lease
		// alone; any grant after the first would have grown it.
		if _, r := spent(t, db, spendwindow.ScopeKey, 9, spendwindow.WindowDay); r != leased {
			t.Fatalf("the lease grew from %s to %s within 2,001 requests of %s; want one grant for them all", leased, r, amount)
		}
	})
}

// TestWindowsRollOver: with the clock moved, an hour block resets at the
// top of the hour, a month block at the month's start, a total never.
func TestWindowsRollOver(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		clk := newClock("2026-01-31T23:59:30Z")
		b := mk(budget.Options{Now: clk.Now})
		cases := []struct {
			name   string
			limits budget.Limits
			later  string
			resets bool
			retry  time.Duration
		}{
			{"hour", budget.Limits{1: usd(1)}, "2026-02-01T00:00:00Z", true, 30 * time.Second},
			{"month", budget.Limits{5: usd(1)}, "2026-02-01T00:00:00Z", true, 30 * time.Second},
			{"total", budget.Limits{6: usd(1)}, "2027-06-01T00:00:00Z", false, 0},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				clk.Set(mustTime("2026-01-31T23:59:30Z"))
				subj := keySubject(i+1, c.limits)
				if _, err := spend(ctx, b, 1, money.FromUSD(1), subj); err != nil {
					t.Fatal(err)
				}
				_, err := spend(ctx, b, 1, money.FromUSD(0.01), subj)
				var ref *budget.Refusal
				if !errors.As(err, &ref) || ref.RetryAfter != c.retry || !strings.Contains(ref.Message, fmt.Sprintf(`key "key-%d" %s limit $1.00`, i+1, c.name)) {
					t.Fatalf("over the block: %v (retry %v), want a refusal naming the window, retry after %v", err, ref, c.retry)
				}
				clk.Set(mustTime(c.later))
				_, err = spend(ctx, b, 1, money.FromUSD(0.01), subj)
				if (err == nil) != c.resets {
					t.Fatalf("after %s: err = %v, want reset %v", c.later, err, c.resets)
				}
			})
		}
	})
}

// TestWarnOncePerCrossing: concurrent requests push a window past its warn
// threshold; exactly one alert is stored, and later requests carry the
// warning header value.
func TestWarnOncePerCrossing(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		org, err := auth.CreateOrganization(ctx, db.Client, "acme", false)
		if err != nil {
			t.Fatal(err)
		}
		alerts := make(chan budget.Alert, 10)
		b := mk(budget.Options{Alerts: alerts})
		subj := keySubject(42, budget.Limits{2: usd(0.50), 3: usd(10)})
		r, _ := spend(ctx, b, org.ID, money.FromUSD(0.10), subj)
		if len(r.Warnings()) != 0 {
			t.Fatalf("warning below the threshold: %v", r.Warnings())
		}
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); spend(ctx, b, org.ID, money.FromUSD(0.05), subj) }()
		}
		wg.Wait()
		b.Flush(ctx)
		n := db.Client.AuditEvent.Query().Where(auditevent.Action("budgetWarning"), auditevent.OrganizationID(org.ID)).CountX(ctx)
		if n != 1 || len(alerts) != 1 {
			t.Fatalf("alerts stored %d, notified %d; want exactly 1", n, len(alerts))
		}
		a := <-alerts
		if a.Window != `key "key-42" day` || a.Spent < money.FromUSD(0.50) {
			t.Fatalf("alert = %+v", a)
		}
		r, _ = spend(ctx, b, org.ID, money.FromUSD(0.01), subj)
		if len(r.Warnings()) != 1 || r.Warnings()[0] != `key "key-42" day $2.10/$0.50` {
			t.Fatalf("warning header values = %q", r.Warnings())
		}
		b.Flush(ctx)
		if n := db.Client.AuditEvent.Query().Where(auditevent.Action("budgetWarning")).CountX(ctx); n != 1 {
			t.Fatalf("a second alert for the same crossing: %d", n)
		}
	})
}

// TestSweptLeaseIsNotUsed: a replica that could not renew its lease for
// longer than the lease lives (stalled, or cut off from the database) finds
// it swept before admitting anything more against it, while another
// replica spends the headroom the sweep returned. The block is passed only
// by what the stalled replica had settled and could not write before the
// sweep (here $0.01), never by new admissions.
func TestSweptLeaseIsNotUsed(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := newClock("2026-03-01T10:00:00Z")
		opts := budget.Options{Log: quiet, Now: clk.Now}
		stalled, other := budget.NewLeased(db, opts), budget.NewLeased(db, opts)
		subj := keySubject(13, budget.Limits{6: usd(1.00)})
		if _, err := spend(ctx, stalled, 1, money.FromUSD(0.01), subj); err != nil {
			t.Fatal(err)
		}
		clk.Set(clk.Now().Add(2 * time.Minute))
		if n, err := other.Sweep(ctx); n != 1 || err != nil {
			t.Fatalf("Sweep = %d, %v; want the stalled replica's lease", n, err)
		}
		n := 0
		for ; n < 200; n++ {
			if _, err := spend(ctx, other, 1, money.FromUSD(0.01), subj); err != nil {
				break
			}
		}
		if err := other.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := spend(ctx, stalled, 1, money.FromUSD(0.01), subj); err == nil {
			t.Fatal("the stalled replica admitted a request against its swept lease")
		}
		// A live lease flushed in the same statements as the swept one
		// is written as usual.
		live := keySubject(14, budget.Limits{6: usd(1.00)})
		if _, err := spend(ctx, stalled, 1, money.FromUSD(0.02), live); err != nil {
			t.Fatal(err)
		}
		if err := stalled.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s, r := spent(t, db, spendwindow.ScopeKey, 13, spendwindow.WindowTotal)
		if s != money.FromUSD(1.01) || r != 0 || n != 100 {
			t.Fatalf("spent %s, reserved %s after %d requests of the other replica; want $1.01 (the block and the stalled replica's unwritten $0.01), $0 and 100", s, r, n)
		}
		if s, r := spent(t, db, spendwindow.ScopeKey, 14, spendwindow.WindowTotal); s != money.FromUSD(0.02) || r != 0 {
			t.Fatalf("the live lease's window: spent %s, reserved %s; want $0.02 and $0", s, r)
		}
	})
}

// TestLeaseOnDeletedWindow: a window's rows deleted with its key while a
// lease holds part of them (rules.go deletes a key's spend windows) leave
// the recreated row's reserved at zero, not negative, and the window
// usable.
func TestLeaseOnDeletedWindow(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		b := budget.NewLeased(db, budget.Options{Log: quiet})
		subj := keySubject(17, budget.Limits{6: usd(1.00)})
		for i := 0; i < 3; i++ {
			if _, err := spend(ctx, b, 1, money.FromUSD(0.01), subj); err != nil {
				t.Fatal(err)
			}
		}
		db.Client.SpendWindow.Delete().Where(spendwindow.ScopeEQ(spendwindow.ScopeKey), spendwindow.ScopeID(17)).ExecX(ctx)
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, r := spent(t, db, spendwindow.ScopeKey, 17, spendwindow.WindowTotal); r != 0 {
			t.Fatalf("reserved %s in the recreated window; want $0", r)
		}
		if _, err := spend(ctx, b, 1, money.FromUSD(0.01), subj); err != nil {
			t.Fatalf("the window is unusable after its row was recreated: %v", err)
		}
		b.Flush(ctx)
		if s, r := spent(t, db, spendwindow.ScopeKey, 17, spendwindow.WindowTotal); s != money.FromUSD(0.04) || r != 0 {
			t.Fatalf("spent %s reserved %s; want $0.04 and $0", s, r)
		}
	})
}

// TestRemovedWarnLimitDoesNotAlert: once an admin removes a warn limit,
// spend past the old threshold raises no alert, in every mode.
func TestRemovedWarnLimitDoesNotAlert(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		org, err := auth.CreateOrganization(ctx, db.Client, "warned", false)
		if err != nil {
			t.Fatal(err)
		}
		b := mk(budget.Options{})
		withWarn := keySubject(19, budget.Limits{2: usd(0.50), 3: usd(10)})
		withoutWarn := keySubject(19, budget.Limits{3: usd(10)})
		if _, err := spend(ctx, b, org.ID, money.FromUSD(0.10), withWarn); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if _, err := spend(ctx, b, org.ID, money.FromUSD(0.10), withoutWarn); err != nil {
				t.Fatal(err)
			}
		}
		b.Flush(ctx)
		if n := db.Client.AuditEvent.Query().Where(auditevent.Action("budgetWarning"), auditevent.OrganizationID(org.ID)).CountX(ctx); n != 0 {
			t.Fatalf("%d alerts for a warn limit that was removed before the spend crossed it", n)
		}
	})
}

// TestLeasesNeverDeadlock: grants, write-behind flushes that move spend
// out of leases and hand them back, and another replica's grants on the
// same windows, all at once: PostgreSQL never aborts one of them for a
// deadlock (each would stall its requests for deadlock_timeout, a second).
func TestLeasesNeverDeadlock(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		b1, b2 := budget.NewLeased(db, budget.Options{Log: quiet}), budget.NewLeased(db, budget.Options{Log: quiet})
		subjects := []budget.Subject{
			keySubject(11, budget.Limits{3: usd(1000), 5: usd(2000)}),
			{Scope: budget.ScopeService, ID: 11, Name: "svc", Limits: budget.Limits{3: usd(1000), 6: usd(5000)}},
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, b := range []*budget.Leased{b1, b2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
						// An explicit flush also hands every unused lease
						// back, so the requests keep leasing anew.
						if err := b.Flush(ctx); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		var requests sync.WaitGroup
		for i := 0; i < 16; i++ {
			requests.Add(1)
			go func(b *budget.Leased) {
				defer requests.Done()
				for j := 0; j < 60; j++ {
					if _, err := spend(ctx, b, 1, money.FromUSD(0.01), subjects...); err != nil {
						t.Error(err)
						return
					}
				}
			}([]*budget.Leased{b1, b2}[i%2])
		}
		requests.Wait()
		close(stop)
		wg.Wait()
		for _, b := range []*budget.Leased{b1, b2} {
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := b1.Retries() + b2.Retries(); n != 0 {
			t.Fatalf("%d budget transactions were aborted for a deadlock and retried", n)
		}
		s, r := spent(t, db, spendwindow.ScopeService, 11, spendwindow.WindowDay)
		if s != money.FromUSD(0.01)*16*60 || r != 0 {
			t.Fatalf("spent %s, reserved %s; want $9.60 and $0", s, r)
		}
	})
}

// heldUntilSwept checks that a hold of a dead process refuses a request of
// amount until the clock passes the hold's expiry and Sweep returns want
// holds, after which the request passes.
func heldUntilSwept(t *testing.T, b *budget.Leased, clk *clock, subj budget.Subject, amount money.Micros, want int) {
	t.Helper()
	ctx := context.Background()
	if _, err := spend(ctx, b, 1, amount, subj); err == nil {
		t.Fatal("the dead process's hold did not count")
	}
	if n, _ := b.Sweep(ctx); n != 0 {
		t.Fatalf("swept %d before expiry", n)
	}
	clk.Set(clk.Now().Add(2 * time.Minute))
	if n, err := b.Sweep(ctx); n != want || err != nil {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, want)
	}
	if _, err := spend(ctx, b, 1, amount, subj); err != nil {
		t.Fatalf("budget still held after the sweep: %v", err)
	}
}

func TestBalanceEnforced(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		org, _ := auth.CreateOrganization(ctx, db.Client, "prepaid", false)
		db.Client.Balance.Update().SetCurrentBalance(money.FromUSD(0.05)).ExecX(ctx)
		b := mk(budget.Options{})
		req := budget.Request{OrgID: org.ID, EnforceBalance: true, Amount: money.FromUSD(0.04),
			Subjects: []budget.Subject{{Scope: budget.ScopeOrg, ID: org.ID, Name: "prepaid"}}}
		for i := 0; i < 2; i++ {
			r, err := b.Reserve(ctx, req)
			if err != nil {
				t.Fatalf("request %d refused with balance left: %v", i, err)
			}
			r.Settle(ctx, money.FromUSD(0.04))
		}
		_, err := b.Reserve(ctx, req)
		var ref *budget.Refusal
		if !errors.As(err, &ref) || ref.Status != 402 || !strings.Contains(ref.Message, "balance is used up") {
			t.Fatalf("at zero balance: %v", err)
		}
	})
}

func TestWindowBoundaries(t *testing.T) {
	at := mustTime("2026-12-31T23:45:10Z")
	cases := []struct {
		w          budget.Window
		start, end string
	}{
		{budget.Hour, "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z"},
		{budget.Day, "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"},
		{budget.Month, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{budget.Total, "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		if s := c.w.Start(at).Format(time.RFC3339); s != c.start {
			t.Errorf("%s start = %s, want %s", c.w, s, c.start)
		}
		if e := c.w.End(at).Format(time.RFC3339); e != c.end {
			t.Errorf("%s end = %s, want %s", c.w, e, c.end)
		}
	}
}

func mustTime(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

// BenchmarkReserveSettle measures one request's budget work: reserve in
// the limited windows of a key and a service, settle in all twelve.
func BenchmarkReserveSettle(b *testing.B) {
	modes := []struct {
		name, dialect string
		mk            func(*database.DB, budget.Options) budget.Ledger
	}{
		{"embedded", dialect.SQLite, newEmbedded},
		{"leased", dialect.SQLite, newLeased}, {"leased", dialect.Postgres, newLeased},
	}
	for _, mode := range modes {
		b.Run(testenv.Name(mode.dialect)+"-"+mode.name, func(b *testing.B) {
			db := testenv.New(b, mode.dialect)
			bud := mode.mk(db, budget.Options{Log: quiet})
			ctx := context.Background()
			subjects := benchSubjects()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := spend(ctx, bud, 1, 1000, subjects...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeasedFlush measures the leased mode's background flush (with
// the requests that fill it: one spend per key): each key's day and month
// windows are leased, so a flush writes 4×keys windows' spend and moves it
// out of 2×keys leases, which it keeps.
func BenchmarkLeasedFlush(b *testing.B) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		for _, keys := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s-keys=%d", testenv.Name(d), keys), func(b *testing.B) {
				db := testenv.New(b, d)
				bud := budget.NewLeased(db, budget.Options{Log: quiet})
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for k := 1; k <= keys; k++ {
						if _, err := spend(ctx, bud, 1, 1000, keySubject(k, budget.Limits{3: usd(1e6), 5: usd(1e7)})); err != nil {
							b.Fatal(err)
						}
					}
					if err := bud.FlushTick(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestEmbeddedKeepsSpendAcrossLimitsAndRestarts: spend settled while a
// window had no limit counts once a limit appears, and flushed spend is
// there for the next process.
func TestEmbeddedKeepsSpendAcrossLimitsAndRestarts(t *testing.T) {
	db := testenv.New(t, dialect.SQLite)
	ctx := context.Background()
	b := budget.NewEmbedded(db, budget.Options{Log: quiet})
	if _, err := spend(ctx, b, 1, money.FromUSD(0.60), keySubject(3, budget.Limits{})); err != nil {
		t.Fatal(err)
	}
	limited := keySubject(3, budget.Limits{6: usd(1.00)})
	if _, err := b.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{limited}, Amount: money.FromUSD(0.50)}); err == nil {
		t.Fatal("spend from before the limit was set did not count")
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	next := budget.NewEmbedded(db, budget.Options{Log: quiet})
	if _, err := next.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{limited}, Amount: money.FromUSD(0.50)}); err == nil {
		t.Fatal("a new process did not see the flushed spend")
	}
	if _, err := next.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{limited}, Amount: money.FromUSD(0.40)}); err != nil {
		t.Fatalf("$0.40 more should fit under $1.00: %v", err)
	}
}

// TestFlushWritesEveryWindow: flushes carry more windows than one
// statement takes, and in the leased mode more leases than one: first 56
// windows of one start each (25 of them leased), then, across a month's end, both starts of the hour, day and month
// windows that rolled over since the last flush. Every row ends with
// exactly its own spend and nothing left reserved.
func TestFlushWritesEveryWindow(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		clk := newClock("2026-01-31T23:59:30Z")
		b := mk(budget.Options{Now: clk.Now})
		const keys = 12 // 12 keys × 4 windows, plus the service's and the org's
		subjects := func(i int) []budget.Subject {
			// Day and month blocks: leased windows in the leased mode.
			return []budget.Subject{keySubject(i, budget.Limits{3: usd(10), 5: usd(100)}),
				{Scope: budget.ScopeService, ID: 1, Name: "svc", Limits: budget.Limits{3: usd(100)}},
				{Scope: budget.ScopeOrg, ID: 1, Name: "org"}}
		}
		for i := 1; i <= keys; i++ {
			if _, err := spend(ctx, b, 1, money.FromUSD(0.005), subjects(i)...); err != nil {
				t.Fatal(err)
			}
		}
		// A flush of 56 windows, no two starts of one window among them.
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= keys; i++ {
			if s, r := spent(t, db, spendwindow.ScopeKey, i, spendwindow.WindowDay); s != money.FromUSD(0.005) || r != 0 {
				t.Fatalf("key %d day after the first flush: spent %s, reserved %s; want $0.005 and $0", i, s, r)
			}
		}
		for i := 1; i <= keys; i++ {
			if _, err := spend(ctx, b, 1, money.FromUSD(0.005), subjects(i)...); err != nil {
				t.Fatal(err)
			}
		}
		clk.Set(mustTime("2026-02-01T00:00:10Z"))
		for i := 1; i <= keys; i++ {
			if _, err := spend(ctx, b, 1, money.FromUSD(0.02), subjects(i)...); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		check := func(scope spendwindow.Scope, id int, old, cur money.Micros) {
			t.Helper()
			for _, w := range []spendwindow.Window{spendwindow.WindowHour, spendwindow.WindowDay, spendwindow.WindowMonth, spendwindow.WindowTotal} {
				rows := db.Client.SpendWindow.Query().Where(spendwindow.ScopeEQ(scope), spendwindow.ScopeID(id), spendwindow.WindowEQ(w)).AllX(ctx)
				got := map[bool]money.Micros{}
				for _, r := range rows {
					if r.Reserved != 0 {
						t.Errorf("%s %d %s from %s: reserved %d after the flush, want 0", scope, id, w, r.WindowStart, r.Reserved)
					}
					got[r.WindowStart.Before(mustTime("2026-02-01T00:00:00Z"))] += money.Micros(r.Spent)
				}
				want := map[bool]money.Micros{true: old, false: cur}
				if w == spendwindow.WindowTotal {
					want = map[bool]money.Micros{true: old + cur}
				}
				if len(got) != len(want) || got[true] != want[true] || got[false] != want[false] {
					t.Errorf("%s %d %s: spent (old window, new window) = (%s, %s), want (%s, %s)", scope, id, w, got[true], got[false], want[true], want[false])
				}
			}
		}
		for i := 1; i <= keys; i++ {
			check(spendwindow.ScopeKey, i, money.FromUSD(0.01), money.FromUSD(0.02))
		}
		check(spendwindow.ScopeService, 1, keys*money.FromUSD(0.01), keys*money.FromUSD(0.02))
		check(spendwindow.ScopeOrg, 1, keys*money.FromUSD(0.01), keys*money.FromUSD(0.02))
	})
}

func TestLeasedStatementLen(t *testing.T) {
	cases := []struct {
		name string
		keys []budget.TestKey
		want int
	}{
		{"one", []budget.TestKey{{Scope: budget.ScopeKey, ID: 1, Window: budget.Day}}, 1},
		{"distinct", []budget.TestKey{{budget.ScopeKey, 1, budget.Day, 1}, {budget.ScopeKey, 1, budget.Hour, 1}, {budget.ScopeKey, 2, budget.Day, 1}}, 3},
		{"a window's two starts", []budget.TestKey{{budget.ScopeKey, 1, budget.Day, 1}, {budget.ScopeKey, 1, budget.Day, 2}, {budget.ScopeKey, 2, budget.Day, 1}}, 1},
		{"two starts further on", []budget.TestKey{{budget.ScopeKey, 1, budget.Day, 1}, {budget.ScopeKey, 2, budget.Day, 1}, {budget.ScopeKey, 2, budget.Day, 2}}, 2},
		{"same id, other scope", []budget.TestKey{{budget.ScopeKey, 1, budget.Day, 1}, {budget.ScopeService, 1, budget.Day, 1}}, 2},
		{"more than a statement takes", manyKeys(40), 16},
	}
	for _, c := range cases {
		if got := budget.LeasedStatementLen(c.keys); got != c.want {
			t.Errorf("%s: %d windows in the first statement, want %d", c.name, got, c.want)
		}
	}
}

func manyKeys(n int) []budget.TestKey {
	out := make([]budget.TestKey, n)
	for i := range out {
		out[i] = budget.TestKey{Scope: budget.ScopeKey, ID: i + 1, Window: budget.Day, Start: 1}
	}
	return out
}

// TestSlotOrder checks that a reservation holds its windows in the one
// order every transaction locks window rows in (ORDER BY scope, scope_id,
// "window"), whatever order the subjects come in: two reservations that
// took rows in different orders could deadlock.
func TestSlotOrder(t *testing.T) {
	for _, subjects := range [][]budget.Subject{
		{{Scope: budget.ScopeService, ID: 7}, {Scope: budget.ScopeKey, ID: 3}, {Scope: budget.ScopeOrg, ID: 1}, {Scope: budget.ScopeKey, ID: 2}},
		{{Scope: budget.ScopeOrg, ID: 1}, {Scope: budget.ScopeKey, ID: 9}},
		{{Scope: budget.ScopeKey, ID: 5}},
	} {
		keys := budget.SlotOrder(subjects)
		if len(keys) != len(subjects)*len(budget.Windows) {
			t.Fatalf("%d slots for %d subjects, want %d", len(keys), len(subjects), len(subjects)*len(budget.Windows))
		}
		seen := map[budget.TestKey]bool{}
		for i, k := range keys {
			seen[budget.TestKey{Scope: k.Scope, ID: k.ID, Window: k.Window}] = true
			if i == 0 {
				continue
			}
			p := keys[i-1]
			if cmp.Or(cmp.Compare(p.Scope, k.Scope), cmp.Compare(p.ID, k.ID), cmp.Compare(p.Window, k.Window)) >= 0 {
				t.Errorf("slot %d (%s %d %s) comes after %s %d %s", i, k.Scope, k.ID, k.Window, p.Scope, p.ID, p.Window)
			}
		}
		for _, s := range subjects {
			for _, w := range budget.Windows {
				if !seen[budget.TestKey{Scope: s.Scope, ID: s.ID, Window: w}] {
					t.Errorf("no slot for %s %d %s", s.Scope, s.ID, w)
				}
			}
		}
	}
}

// TestRefusalNamesTheLimitsOwner: a refusal names whoever set the limit
// that refused: the service for a limit its keys inherit, the key for its
// own.
func TestRefusalNamesTheLimitsOwner(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		b := mk(budget.Options{})
		cases := []struct {
			name       string
			keyDay     *money.Micros
			serviceDay *money.Micros
			want       string
			notWant    string
		}{
			{"set on the service only", nil, usd(1), `budget exceeded: service "chat-1" day limit $1.00, which applies to each of its keys`, `key "nc-app-1" day limit`},
			{"set on the key only", usd(1), nil, `budget exceeded: key "nc-app-2" day limit $1.00`, `service "chat-2"`},
			{"set on both, the key's is lower", usd(0.5), usd(1), `budget exceeded: key "nc-app-3" day limit $0.50`, `service "chat-3"`},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				id := i + 1
				svc := &ent.Service{ID: id, ServiceName: fmt.Sprintf("chat-%d", id), LimitCostDayBlock: c.serviceDay}
				key := &ent.APIKey{ID: id, Name: fmt.Sprintf("nc-app-%d", id), LimitCostDayBlock: c.keyDay}
				subjects := []budget.Subject{budget.KeySubject(key, svc), budget.ServiceSubject(svc)}
				if _, err := spend(ctx, b, 1, money.FromUSD(0.5), subjects...); err != nil {
					t.Fatal(err)
				}
				var ref *budget.Refusal
				for n := 0; n < 3 && ref == nil; n++ {
					_, err := spend(ctx, b, 1, money.FromUSD(0.5), subjects...)
					if err != nil && !errors.As(err, &ref) {
						t.Fatal(err)
					}
				}
				if ref == nil {
					t.Fatal("never refused past the block")
				}
				if !strings.Contains(ref.Message, c.want) || strings.Contains(ref.Message, c.notWant) {
					t.Errorf("refusal %q: want it to say %q and not %q", ref.Message, c.want, c.notWant)
				}
			})
		}
	})
}

// TestTotalRefusalSaysWhenARetryCanPass: a total limit never resets, so
// its refusal carries no wait when the spend itself is past it; when what
// is missing is held by requests in flight, which may settle for less, it
// says to try again in a second.
func TestTotalRefusalSaysWhenARetryCanPass(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		b := mk(budget.Options{})
		svc := &ent.Service{ID: 1, ServiceName: "chat", LimitCostTotalBlock: usd(1)}
		subjects := []budget.Subject{budget.ServiceSubject(svc)}
		held, err := b.Reserve(ctx, budget.Request{OrgID: 1, Amount: money.FromUSD(0.75), Subjects: subjects})
		if err != nil {
			t.Fatal(err)
		}
		var ref *budget.Refusal
		if _, err := b.Reserve(ctx, budget.Request{OrgID: 1, Amount: money.FromUSD(0.5), Subjects: subjects}); !errors.As(err, &ref) || ref.RetryAfter != time.Second {
			t.Fatalf("with $0.75 in flight of a $1 total: %v (retry after %v), want a refusal saying a second", err, ref)
		}
		if err := held.Settle(ctx, money.FromUSD(0.75)); err != nil {
			t.Fatal(err)
		}
		ref = nil
		if _, err := b.Reserve(ctx, budget.Request{OrgID: 1, Amount: money.FromUSD(0.5), Subjects: subjects}); !errors.As(err, &ref) || ref.RetryAfter != 0 ||
			!strings.Contains(ref.Message, "never resets") {
			t.Fatalf("with $0.75 spent of a $1 total: %v, want a refusal with no wait", err)
		}
	})
}
