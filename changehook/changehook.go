// Package changehook announces admin data changes on the change feed
// (package changefeed) from the data layer: an ent hook maps each
// mutation's type to its topic, so that no mutation of cached data can
// forget to tell the caches.
package changehook

import (
	"context"
	"log/slog"
	"sync"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/ent"
)

// topics are the change-feed topics of the entities caches are built from.
var topics = map[string]string{
	ent.TypeAPIKey:             changefeed.TopicAPIKeys,
	ent.TypeService:            changefeed.TopicServices,
	ent.TypeServiceTarget:      changefeed.TopicServices,
	ent.TypeProviderCredential: changefeed.TopicCredentials,
	ent.TypeModelPrice:         changefeed.TopicPrices,
	ent.TypeAPIStandard:        changefeed.TopicStandards,
	ent.TypeOrganization:       changefeed.TopicSettings,
	ent.TypeProjectSettings:    changefeed.TopicSettings,
	ent.TypeBalance:            changefeed.TopicSettings,
}

// Topic returns the topic a mutation of the ent type typ is announced on.
func Topic(typ string) (string, bool) {
	t, ok := topics[typ]
	return t, ok
}

// Publisher announces a change to a topic (changefeed.Feed).
type Publisher interface {
	Publish(ctx context.Context, topic string) error
}

// operation publishes the topics of one operation's changes, each once.
type operation struct {
	pub  Publisher
	log  *slog.Logger
	mu   sync.Mutex
	sent map[string]bool
}

type operationKey struct{}

// Collect returns ctx under which the mutations of one operation (an admin
// API mutation) announce their topics on pub: each topic once, as soon as
// the first change to it is committed. Mutations under a context without
// Collect announce nothing; their owners (catalog sync, key rotation)
// publish what they must themselves.
func Collect(ctx context.Context, pub Publisher, log *slog.Logger) context.Context {
	if pub == nil {
		return ctx
	}
	return context.WithValue(ctx, operationKey{}, &operation{pub: pub, log: log, sent: map[string]bool{}})
}

// publish announces topic unless this operation already did. A failure is
// logged, not returned: the change is saved, and caches also expire on
// their own.
func (o *operation) publish(ctx context.Context, topic string) {
	o.mu.Lock()
	sent := o.sent[topic]
	o.sent[topic] = true
	o.mu.Unlock()
	if sent {
		return
	}
	if err := o.pub.Publish(context.WithoutCancel(ctx), topic); err != nil && o.log != nil {
		o.log.WarnContext(ctx, "publish change", "topic", topic, "err", err)
	}
}

// txMutation is a generated mutation, which knows its transaction.
type txMutation interface {
	Tx() (*ent.Tx, error)
}

// Hook announces each successful mutation of cached data on its topic,
// under a context prepared by Collect: at once outside a transaction,
// after the commit inside one, and never for a transaction rolled back.
func Hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			op, _ := ctx.Value(operationKey{}).(*operation)
			topic, cached := topics[m.Type()]
			if err != nil || op == nil || !cached {
				return v, err
			}
			tm, ok := m.(txMutation)
			if !ok {
				op.publish(ctx, topic)
				return v, nil
			}
			tx, txErr := tm.Tx()
			if txErr != nil { // not in a transaction: already committed
				op.publish(ctx, topic)
				return v, nil
			}
			tx.OnCommit(func(commit ent.Committer) ent.Committer {
				return ent.CommitFunc(func(cctx context.Context, tx *ent.Tx) error {
					if err := commit.Commit(cctx, tx); err != nil {
						return err
					}
					op.publish(ctx, topic)
					return nil
				})
			})
			return v, nil
		})
	}
}
