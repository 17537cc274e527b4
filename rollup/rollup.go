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
)

// Entry is what a usage record contributes to its hour.
type Entry struct {
	CreatedAt                                    time.Time
	OrgID, ServiceID, APIKeyID                   int
	Model                                        string
	Status                                       int
	InputTokens, OutputTokens, CachedInputTokens int64
	Cost                                         money.Micros
	Priced                                       bool
	LatencyUS                                    int64
}

type key struct {
	hour                 time.Time
	org, service, apiKey int
	model                string
}

// Sums are the summed counters of a set of requests.
type Sums struct {
	Requests, Errors, UnpricedRequests           int64
	InputTokens, OutputTokens, CachedInputTokens int64
	Cost                                         money.Micros
	LatencyUSSum                                 int64
}

func (s *Sums) add(e Entry) {
	s.Requests++
	if e.Status >= 400 {
		s.Errors++
	}
	if !e.Priced {
		s.UnpricedRequests++
	}
	s.InputTokens += e.InputTokens
	s.OutputTokens += e.OutputTokens
	s.CachedInputTokens += e.CachedInputTokens
	s.Cost += e.Cost
	s.LatencyUSSum += e.LatencyUS
}

func (s *Sums) merge(o Sums) {
	s.Requests += o.Requests
	s.Errors += o.Errors
	s.UnpricedRequests += o.UnpricedRequests
	s.InputTokens += o.InputTokens
	s.OutputTokens += o.OutputTokens
	s.CachedInputTokens += o.CachedInputTokens
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

// Add sums entries into their hours with one multi-row upsert. Call it in
// the transaction that inserts the raw records.
func Add(ctx context.Context, tx Execer, dialectName string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	sums := map[key]*Sums{}
	var keys []key
	for _, e := range entries {
		k := key{e.CreatedAt.UTC().Truncate(time.Hour), e.OrgID, e.ServiceID, e.APIKeyID, e.Model}
		s := sums[k]
		if s == nil {
			s = &Sums{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.add(e)
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
