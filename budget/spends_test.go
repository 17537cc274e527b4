package budget_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// TestSpendsEqualsCurrent: for keys and services with varied limits,
// settled spend in this hour and in an earlier one, spend in flight and
// none at all, and more subjects than one batched read names, Spends
// answers for each exactly what Current does.
func TestSpendsEqualsCurrent(t *testing.T) {
	eachMode(t, func(t *testing.T, db *database.DB, mk func(budget.Options) budget.Ledger) {
		ctx := context.Background()
		clk := newClock("2026-03-31T22:30:00Z")
		b := mk(budget.Options{Now: clk.Now})
		const n = 620
		var subjects []budget.Subject
		for i := 1; i <= n; i++ {
			var l budget.Limits
			if i%3 == 0 {
				l[1] = usd(float64(i))
			}
			if i%5 == 0 {
				l[2], l[6] = usd(1), usd(float64(2*i))
			}
			s := keySubject(i, l)
			if i%4 == 0 {
				s = budget.Subject{Scope: budget.ScopeService, ID: i, Name: fmt.Sprintf("svc-%d", i), Limits: l}
			}
			subjects = append(subjects, s)
		}
		for i, s := range subjects {
			if i%7 == 0 {
				if _, err := spend(ctx, b, 1, money.Micros(1000+i), s); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Set(clk.Now().Add(time.Hour)) // a new hour, day and month
		for i, s := range subjects {
			switch {
			case i%11 == 0:
				if _, err := spend(ctx, b, 1, money.Micros(50+i), s); err != nil {
					t.Fatal(err)
				}
			case i%13 == 0:
				if _, err := b.Reserve(ctx, budget.Request{OrgID: 1, Subjects: []budget.Subject{s}, Amount: money.Micros(70 + i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := b.Spends(ctx, subjects)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("Spends answered %d subjects of %d", len(got), n)
		}
		nonzero := 0
		for i, s := range subjects {
			want, err := b.Current(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("%s %d: Spends %s, Current %s", s.Scope, s.ID, show(got[i]), show(want))
			}
			for _, sp := range want {
				if sp.Spent != 0 || sp.Reserved != 0 {
					nonzero++
				}
			}
		}
		if nonzero == 0 {
			t.Fatal("no subject had any spend: the comparison proves nothing")
		}
	})
}

func show(spends []*budget.Spend) string {
	var out string
	for _, s := range spends {
		out += fmt.Sprintf("[%s %s spent %s reserved %s warn %v block %v] ", s.Window, s.WindowStart.Format(time.RFC3339), s.Spent, s.Reserved, s.Warn, s.Block)
	}
	return out
}
