package manage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/manage"
)

// Operations under a context carrying a transaction run in it: its owner
// commits them together or rolls them all back.
func TestOperationsJoinTheContextsTransaction(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		org, err := auth.DefaultOrganization(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		for _, commit := range []bool{false, true} {
			tx, err := db.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m := &manage.Manager{Client: tx.Client()}
			txCtx := ent.NewTxContext(ctx, tx)
			for i := range 2 {
				in := manage.CreateServiceInput{ServiceName: fmt.Sprintf("svc-%v-%d", commit, i), Provider: "openai", ModelsEnabled: []string{}}
				if _, err := m.CreateService(txCtx, org.ID, in); err != nil {
					t.Fatal(err)
				}
			}
			want := 0
			if commit {
				want, err = 2, tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := db.Client.Service.Query().CountX(ctx); n != want {
				t.Errorf("commit %v: %d services, want %d", commit, n, want)
			}
		}
	})
}
