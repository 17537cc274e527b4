package changehook_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apistandard"
	"github.com/sluicehq/sluice/internal/testenv"
)

// recorder is a Publisher that remembers what it was told.
type recorder struct {
	mu     sync.Mutex
	topics []string
}

func (r *recorder) Publish(_ context.Context, topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics = append(r.topics, topic)
	return nil
}

// got is the topics published, sorted: a transaction's commit hooks run
// in no promised order.
func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.topics)
	slices.Sort(out)
	return out
}

func standard(client interface {
	Create() *ent.APIStandardCreate
}, handle string) *ent.APIStandardCreate {
	return client.Create().SetAPIStandardHandle(handle).SetDescription("d").
		SetKeyMethod(apistandard.KeyMethodAuthBearer).SetKeyField("Authorization")
}

// A mutation's topic is published once per operation: at once outside a
// transaction, only after the commit inside one, never for a rollback
// or a failed mutation.
func TestHookPublishesCommittedChanges(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		for _, c := range []struct {
			name string
			run  func(ctx context.Context, t *testing.T) []string // topics seen before the end
			want []string
		}{
			{"outside a transaction", func(ctx context.Context, t *testing.T) []string {
				standard(db.Client.APIStandard, "plain").ExecX(ctx)
				db.Client.APIStandard.Update().Where(apistandard.APIStandardHandle("plain")).SetDescription("e").ExecX(ctx)
				return nil
			}, []string{changefeed.TopicStandards}},
			{"committed transaction", func(ctx context.Context, t *testing.T) []string {
				tx, err := db.Client.Tx(ctx)
				if err != nil {
					t.Fatal(err)
				}
				standard(tx.APIStandard, "tx-1").ExecX(ctx)
				standard(tx.APIStandard, "tx-2").ExecX(ctx)
				tx.ModelPrice.Create().SetProvider("openai").SetModel("tx-model").
					SetInputPerMtok(1).SetOutputPerMtok(2).ExecX(ctx)
				before := rec(ctx).got()
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				return before
			}, []string{changefeed.TopicPrices, changefeed.TopicStandards}},
			{"rolled-back transaction", func(ctx context.Context, t *testing.T) []string {
				tx, err := db.Client.Tx(ctx)
				if err != nil {
					t.Fatal(err)
				}
				standard(tx.APIStandard, "rolled-back").ExecX(ctx)
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				return nil
			}, nil},
			{"failed mutation", func(ctx context.Context, t *testing.T) []string {
				err := standard(db.Client.APIStandard, "plain").Exec(ctx) // the handle is taken
				if !ent.IsConstraintError(err) {
					t.Fatalf("creating a taken handle: err = %v, want a constraint error", err)
				}
				return nil
			}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := &recorder{}
				ctx := changehook.Collect(context.Background(), r, nil)
				ctx = context.WithValue(ctx, recKey{}, r)
				if before := c.run(ctx, t); len(before) != 0 {
					t.Errorf("published before the commit: %v", before)
				}
				if got := r.got(); !slices.Equal(got, c.want) {
					t.Errorf("published %v, want %v", got, c.want)
				}
			})
		}
	})
}

type recKey struct{}

func rec(ctx context.Context) *recorder { return ctx.Value(recKey{}).(*recorder) }

// A publish that fails is logged, not returned: the change is saved.
func TestHookKeepsTheChangeWhenPublishingFails(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := changehook.Collect(context.Background(), failing{}, nil)
		if err := standard(db.Client.APIStandard, "kept").Exec(ctx); err != nil {
			t.Fatalf("create with a failing publisher: %v", err)
		}
		if !db.Client.APIStandard.Query().Where(apistandard.APIStandardHandle("kept")).ExistX(ctx) {
			t.Error("the change was not saved")
		}
	})
}

type failing struct{}

func (failing) Publish(context.Context, string) error { return errors.New("feed down") }
