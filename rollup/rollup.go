// Package rollup keeps hourly sums of usage per key and model, written in
// the same transaction as the raw usage records they sum, so reports stay
// exact after raw records are pruned, and answers the usage query from them.
//
// Each hour and model also has one row for the whole organization (service
// and key 0), so that the organization's report reads a row per hour and
// model however many keys were used, instead of summing every key's.
package rollup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/latencyhist"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

type key struct {
	hour                 time.Time
	org, service, apiKey int
	model                string
}

// Sums are the summed counters of a set of requests. Hours summed before
// the roll-ups kept cache writes and latency histograms count none.
type Sums struct {
	Requests, Errors, UnpricedRequests int64
	// RefusedRequests is the part of Errors the gateway answered itself,
	// without calling an upstream; hours summed before it was kept count
	// none.
	RefusedRequests int64
	tokens.Tokens
	Cost         money.Micros
	LatencyUSSum int64
	// Latency counts the requests' latencies, for percentiles.
	Latency latencyhist.Histogram
}

func (s *Sums) add(r *usagelog.Record) {
	s.Requests++
	if r.Status >= 400 {
		s.Errors++
		if r.ProviderProtocol == "" {
			s.RefusedRequests++
		}
	}
	if !r.Priced {
		s.UnpricedRequests++
	}
	s.Tokens.Add(r.Tokens)
	s.Cost += r.Cost
	s.LatencyUSSum += r.LatencyUs
	s.Latency.Observe(time.Duration(r.LatencyUs) * time.Microsecond)
}

func (s *Sums) merge(o Sums) {
	s.Requests += o.Requests
	s.Errors += o.Errors
	s.RefusedRequests += o.RefusedRequests
	s.UnpricedRequests += o.UnpricedRequests
	s.Tokens.Add(o.Tokens)
	s.Cost += o.Cost
	s.LatencyUSSum += o.LatencyUSSum
	s.Latency.Add(&o.Latency)
}

// MeanLatency is the mean request latency, or zero without requests.
func (s Sums) MeanLatency() time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return time.Duration(s.LatencyUSSum/s.Requests) * time.Microsecond
}

// Execer runs and prepares statements: a *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// LatencyQuantile is the latency under which a fraction q of the requests
// with a recorded latency histogram fall (see package latencyhist for its
// precision); false when none has one.
func (s Sums) LatencyQuantile(q float64) (time.Duration, bool) { return s.Latency.Quantile(q) }

// Add sums a batch of usage records into their hours' rows, adding to the
// rows that exist (on PostgreSQL in one statement, on SQLite one prepared
// statement a row). Call it in the transaction that inserts the records.
func Add(ctx context.Context, tx Execer, dialectName string, batch []usagelog.Record) error {
	if len(batch) == 0 {
		return nil
	}
	sums := map[key]*Sums{}
	var keys []key
	for i := range batch {
		r := &batch[i]
		k := key{r.CreatedAt.UTC().Truncate(time.Hour), r.OrganizationID, r.ServiceID, r.APIKeyID, r.Model}
		both := [2]key{k, {hour: k.hour, org: k.org, model: k.model}}
		rows := both[:]
		if k == both[1] {
			rows = rows[:1] // a record without a service or key is its organization's row alone
		}
		for _, k := range rows {
			s := sums[k]
			if s == nil {
				s = &Sums{}
				sums[k] = s
				keys = append(keys, k)
			}
			s.add(r)
		}
	}
	// One order of the whole row key keeps concurrent writers from
	// deadlocking on rows (organizations' own rows share key 0).
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		switch {
		case !a.hour.Equal(b.hour):
			return a.hour.Before(b.hour)
		case a.org != b.org:
			return a.org < b.org
		case a.service != b.service:
			return a.service < b.service
		case a.apiKey != b.apiKey:
			return a.apiKey < b.apiKey
		}
		return a.model < b.model
	})
	if dialectName == dialect.Postgres {
		return upsertColumns(ctx, tx, keys, sums)
	}
	return upsertRows(ctx, tx, keys, sums)
}

// upsertRows runs SQLite's single-row upsert once a row, prepared once.
func upsertRows(ctx context.Context, tx Execer, keys []key, sums map[key]*Sums) error {
	stmt, err := tx.PrepareContext(ctx, sqlUpsertSQLite)
	if err != nil {
		return fmt.Errorf("roll up usage: %w", err)
	}
	defer stmt.Close()
	args := make([]any, 0, len(rollupKey)+len(rollupSums))
	for _, k := range keys {
		s := sums[k]
		args = append(args[:0], k.hour, k.org, k.service, k.apiKey, k.model, s.Requests, s.Errors, s.UnpricedRequests,
			s.InputTokens, s.OutputTokens, s.CachedInputTokens, int64(s.Cost), s.LatencyUSSum,
			s.CacheWriteTokens, s.CacheWrite1hTokens, s.RefusedRequests)
		for _, c := range s.Latency {
			args = append(args, c)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("roll up usage: %w", err)
		}
	}
	return nil
}

// upsertColumns runs PostgreSQL's upsert once, with an array a column.
func upsertColumns(ctx context.Context, tx Execer, keys []key, sums map[key]*Sums) error {
	n := len(keys)
	hours := make([]string, n)
	models := make([]string, n)
	ints := make([][]int64, 3+len(rollupSums)) // the key's ids, then the sums
	for i := range ints {
		ints[i] = make([]int64, n)
	}
	for i, k := range keys {
		s := sums[k]
		hours[i], models[i] = k.hour.Format(time.RFC3339), k.model
		vals := []int64{int64(k.org), int64(k.service), int64(k.apiKey), s.Requests, s.Errors, s.UnpricedRequests,
			s.InputTokens, s.OutputTokens, s.CachedInputTokens, int64(s.Cost), s.LatencyUSSum,
			s.CacheWriteTokens, s.CacheWrite1hTokens, s.RefusedRequests}
		for j, v := range vals {
			ints[j][i] = v
		}
		for b, c := range s.Latency {
			ints[len(vals)+b][i] = c
		}
	}
	args := []any{pq.Array(hours)}
	for j := range 3 {
		args = append(args, pq.Array(ints[j]))
	}
	args = append(args, pq.Array(models))
	for j := 3; j < len(rollupSums)+3; j++ {
		args = append(args, pq.Array(ints[j]))
	}
	if _, err := tx.ExecContext(ctx, database.Rebind(dialect.Postgres, sqlUpsertPostgres), args...); err != nil {
		return fmt.Errorf("roll up usage: %w", err)
	}
	return nil
}
