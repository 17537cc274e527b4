// Package rollup keeps hourly sums of usage per key and model, written in
// the same transaction as the raw usage records they sum, so reports stay
// exact after raw records are pruned, and answers the usage query from them.
//
// Each hour and model also has one row for the whole organization (service
// and key 0), and each day and model one more, so that the organization's
// report reads a row per hour (or day) and model however many keys were
// used, instead of summing every key's.
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

// key is a roll-up row's key. On a day row, hour is the day's start and
// service and apiKey are 0.
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

// Add sums a batch of usage records into their rows, adding to the rows
// that exist: each record's hour of its key, its organization's hour and
// its organization's day (on PostgreSQL in one statement a table, on
// SQLite one prepared statement a row). Call it in the transaction that
// inserts the records.
func Add(ctx context.Context, tx Execer, dialectName string, batch []usagelog.Record) error {
	if len(batch) == 0 {
		return nil
	}
	hours, days := rowSums{}, rowSums{}
	for i := range batch {
		r := &batch[i]
		k := key{r.CreatedAt.UTC().Truncate(time.Hour), r.OrganizationID, r.ServiceID, r.APIKeyID, r.Model}
		org := key{hour: k.hour, org: k.org, model: k.model}
		if k != org {
			hours.add(k, r)
		}
		hours.add(org, r)
		org.hour = k.hour.Truncate(24 * time.Hour)
		days.add(org, r)
	}
	// Writers lock hours before days, each in the order of the whole row
	// key, which keeps concurrent writers from deadlocking on rows.
	for _, t := range []struct {
		table *table
		rows  rowSums
	}{{hourly, hours}, {daily, days}} {
		keys := t.rows.sortedKeys()
		var err error
		if dialectName == dialect.Postgres {
			err = upsertColumns(ctx, tx, t.table, keys, t.rows)
		} else {
			err = upsertRows(ctx, tx, t.table, keys, t.rows)
		}
		if err != nil {
			return fmt.Errorf("roll up usage into %s: %w", t.table.name, err)
		}
	}
	return nil
}

// rowSums are the sums of a batch by roll-up row.
type rowSums map[key]*Sums

func (m rowSums) add(k key, r *usagelog.Record) {
	s := m[k]
	if s == nil {
		s = &Sums{}
		m[k] = s
	}
	s.add(r)
}

func (m rowSums) sortedKeys() []key {
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
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
	return keys
}

// counters are a row's sums in the order of rollupSums.
func (s *Sums) counters() []int64 {
	c := make([]int64, 0, len(rollupSums))
	c = append(c, s.Requests, s.Errors, s.UnpricedRequests, s.InputTokens, s.OutputTokens, s.CachedInputTokens,
		int64(s.Cost), s.LatencyUSSum, s.CacheWriteTokens, s.CacheWrite1hTokens, s.RefusedRequests)
	return append(c, s.Latency[:]...)
}

// upsertRows runs SQLite's single-row upsert once a row, prepared once.
func upsertRows(ctx context.Context, tx Execer, t *table, keys []key, sums rowSums) error {
	stmt, err := tx.PrepareContext(ctx, t.upsertSQLite)
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, 0, len(t.key)+len(rollupSums))
	for _, k := range keys {
		args = append(args[:0], k.hour)
		for _, id := range t.values(k) {
			args = append(args, id)
		}
		args = append(args, k.model)
		for _, c := range sums[k].counters() {
			args = append(args, c)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// upsertColumns runs PostgreSQL's upsert once, with an array a column.
func upsertColumns(ctx context.Context, tx Execer, t *table, keys []key, sums rowSums) error {
	n := len(keys)
	times := make([]string, n)
	models := make([]string, n)
	ints := make([][]int64, t.ids+len(rollupSums)) // the key's ids, then the sums
	for i := range ints {
		ints[i] = make([]int64, n)
	}
	for i, k := range keys {
		times[i], models[i] = k.hour.Format(time.RFC3339), k.model
		vals := append(t.values(k), sums[k].counters()...)
		for j, v := range vals {
			ints[j][i] = v
		}
	}
	args := []any{pq.Array(times)}
	for j := range t.ids {
		args = append(args, pq.Array(ints[j]))
	}
	args = append(args, pq.Array(models))
	for _, col := range ints[t.ids:] {
		args = append(args, pq.Array(col))
	}
	_, err := tx.ExecContext(ctx, database.Rebind(dialect.Postgres, t.upsertPostgres), args...)
	return err
}
