// Package rollup keeps hourly sums of usage per key and model, written in
// the same transaction as the raw usage records they sum, so reports stay
// exact after raw records are pruned, and answers the usage query from them.
package rollup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

type key struct {
	hour                 time.Time
	org, service, apiKey int
	model                string
}

// Sums are the summed counters of a set of requests. The hourly table
// keeps input, output and cached input tokens (cache writes are priced
// into Cost), so the sums Query reads back count no cache writes.
type Sums struct {
	Requests, Errors, UnpricedRequests int64
	tokens.Tokens
	Cost         money.Micros
	LatencyUSSum int64
}

func (s *Sums) add(r *usagelog.Record) {
	s.Requests++
	if r.Status >= 400 {
		s.Errors++
	}
	if !r.Priced {
		s.UnpricedRequests++
	}
	s.Tokens.Add(r.Tokens)
	s.Cost += r.Cost
	s.LatencyUSSum += r.LatencyUs
}

func (s *Sums) merge(o Sums) {
	s.Requests += o.Requests
	s.Errors += o.Errors
	s.UnpricedRequests += o.UnpricedRequests
	s.Tokens.Add(o.Tokens)
	s.Cost += o.Cost
	s.LatencyUSSum += o.LatencyUSSum
}

// MeanLatency is the mean request latency, or zero without requests.
func (s Sums) MeanLatency() time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return time.Duration(s.LatencyUSSum/s.Requests) * time.Microsecond
}

// Execer runs a statement: a *sql.Tx, or an *ent.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Add sums a batch of usage records into their hours with one multi-row
// upsert. Call it in the transaction that inserts the records.
func Add(ctx context.Context, tx Execer, dialectName string, batch []usagelog.Record) error {
	if len(batch) == 0 {
		return nil
	}
	sums := map[key]*Sums{}
	var keys []key
	for i := range batch {
		r := &batch[i]
		k := key{r.CreatedAt.UTC().Truncate(time.Hour), r.OrganizationID, r.ServiceID, r.APIKeyID, r.Model}
		s := sums[k]
		if s == nil {
			s = &Sums{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.add(r)
	}
	// A fixed order keeps concurrent writers from deadlocking on rows.
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if !a.hour.Equal(b.hour) {
			return a.hour.Before(b.hour)
		}
		if a.apiKey != b.apiKey {
			return a.apiKey < b.apiKey
		}
		return a.model < b.model
	})
	args := make([]any, 0, len(keys)*rollupArgs)
	for _, k := range keys {
		s := sums[k]
		args = append(args, k.hour, k.org, k.service, k.apiKey, k.model, s.Requests, s.Errors, s.UnpricedRequests,
			s.InputTokens, s.OutputTokens, s.CachedInputTokens, int64(s.Cost), s.LatencyUSSum)
	}
	if _, err := tx.ExecContext(ctx, database.Rebind(dialectName, upsertSQL(len(keys))), args...); err != nil {
		return fmt.Errorf("roll up usage: %w", err)
	}
	return nil
}
