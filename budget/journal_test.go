package budget_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
)

// TestJournalWritesSpendInTheCallersTransaction: journaled spend counts in
// memory at once, reaches the windows only in the transaction that writes
// it (a rolled-back one leaves nothing, and the budget's own flush never
// writes it too), and a settlement whose record is dropped still counts
// through the flush. Leases end with nothing left reserved, and the warn
// threshold the journaled spend crosses raises one alert.
func TestJournalWritesSpendInTheCallersTransaction(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		org, err := auth.CreateOrganization(ctx, db.Client, "acme", false)
		if err != nil {
			t.Fatal(err)
		}
		alerts := make(chan budget.Alert, 10)
		b := mk(budget.Options{Alerts: alerts})
		subj := keySubject(7, budget.Limits{nil, nil, usd(0.0005), nil, nil, nil, usd(1)}) // day warn $0.0005, total block $1
		settle := func(actual money.Micros) *budget.Settlement {
			t.Helper()
			r, err := b.Reserve(ctx, budget.Request{OrgID: org.ID, Subjects: []budget.Subject{subj}, Amount: 1000})
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.SettleJournaled(ctx, actual)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		// write runs WriteJournal in a transaction that commits or not.
		write := func(commit bool, settled ...*budget.Settlement) {
			t.Helper()
			b.LockJournal()
			defer b.UnlockJournal()
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			done, err := b.WriteJournal(ctx, tx, settled)
			if err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			done(commit)
		}
		check := func(step string, wantDB, wantSeen money.Micros) {
			t.Helper()
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, w := range []spendwindow.Window{spendwindow.WindowHour, spendwindow.WindowDay, spendwindow.WindowMonth, spendwindow.WindowTotal} {
				if got, _ := spent(t, db, spendwindow.ScopeKey, 7, w); got != wantDB {
					t.Fatalf("%s: the %s window holds %d µ$ in the database, want %d", step, w, got, wantDB)
				}
			}
			now, err := b.Current(ctx, subj)
			if err != nil {
				t.Fatal(err)
			}
			if total := now[len(now)-1]; total.Spent != wantSeen || total.Reserved != 0 {
				t.Fatalf("%s: the budget sees %d µ$ spent and %d reserved, want %d and 0", step, total.Spent, total.Reserved, wantSeen)
			}
		}
		s1, s2 := settle(800), settle(500)
		check("settled, not written", 0, 1300)
		write(false, s1, s2)
		check("written in a transaction rolled back", 0, 1300)
		write(true, s1, s2)
		check("written in a transaction committed", 1300, 1300)
		settle(200).WriteBehind()
		check("dropped, handed to the flush", 1500, 1500)
		if _, reserved := spent(t, db, spendwindow.ScopeKey, 7, spendwindow.WindowTotal); reserved != 0 {
			t.Fatalf("%d µ$ still reserved in the database after the flush", reserved)
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.Action("budgetWarning"), auditevent.OrganizationID(org.ID)).CountX(ctx); n != 1 || len(alerts) != 1 {
			t.Fatalf("day warning crossings stored %d, notified %d; want exactly 1", n, len(alerts))
		}
	})
}

// BenchmarkReserveSettleJournaled is BenchmarkReserveSettle's request path
// with the spend journaled, as the server runs it, plus its share of the
// journal writes: one transaction per 1,000 settlements, as a usage batch
// carries them.
func BenchmarkReserveSettleJournaled(b *testing.B) {
	modes := []struct {
		name, dialect string
		mk            func(*database.DB, budget.Options) budget.Ledger
	}{
		{"embedded", dialect.SQLite, newEmbedded}, {"leased", dialect.Postgres, newLeased},
	}
	for _, mode := range modes {
		b.Run(testenv.Name(mode.dialect)+"-"+mode.name, func(b *testing.B) {
			db := testenv.New(b, mode.dialect)
			bud := mode.mk(db, budget.Options{Log: quiet})
			ctx := context.Background()
			subjects := benchSubjects()
			var settled []*budget.Settlement
			write := func() {
				bud.LockJournal()
				defer bud.UnlockJournal()
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				done, err := bud.WriteJournal(ctx, tx, settled)
				if err != nil {
					b.Fatal(err)
				}
				err = tx.Commit()
				done(err == nil)
				if err != nil {
					b.Fatal(err)
				}
				settled = settled[:0]
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := bud.Reserve(ctx, budget.Request{OrgID: 1, Subjects: subjects, Amount: 1000})
				if err != nil {
					b.Fatal(err)
				}
				s, err := r.SettleJournaled(ctx, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if settled = append(settled, s); len(settled) == 1000 {
					write()
				}
			}
			write()
		})
	}
}

// benchSubjects are a request's key, service and organization with day
// and month blocks far from reach, for the benchmarks.
func benchSubjects() []budget.Subject {
	return []budget.Subject{
		keySubject(1, budget.Limits{2: usd(1e6), 3: usd(2e6)}),
		{Scope: budget.ScopeService, ID: 1, Name: "svc", Limits: budget.Limits{5: usd(1e7)}},
		{Scope: budget.ScopeOrg, ID: 1, Name: "org"},
	}
}
