package rollup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/usagerollup"
	"github.com/sluicehq/sluice/latencyhist"
	"github.com/sluicehq/sluice/money"
)

// Filter selects the usage a report sums. Zero values select everything
// of the organization (read from its own rows).
type Filter struct {
	OrgID               int
	ServiceID, APIKeyID int
	Model               string
	From, To            time.Time // [From, To); zero is open
}

// predicate selects the filter's roll-up rows: the organization's own
// rows unless a service or key is named, whose rows are its part.
func (f Filter) predicate() *entsql.Predicate {
	if f.ServiceID == 0 && f.APIKeyID == 0 {
		return entsql.And(f.part(), entsql.EQ(usagerollup.FieldServiceID, 0), entsql.EQ(usagerollup.FieldAPIKeyID, 0))
	}
	return f.part()
}

// part selects the filter's rows among every row of the organization,
// its own and its keys' alike.
func (f Filter) part() *entsql.Predicate {
	preds := []*entsql.Predicate{entsql.EQ(usagerollup.FieldOrganizationID, f.OrgID)}
	if f.ServiceID != 0 {
		preds = append(preds, entsql.EQ(usagerollup.FieldServiceID, f.ServiceID))
	}
	if f.APIKeyID != 0 {
		preds = append(preds, entsql.EQ(usagerollup.FieldAPIKeyID, f.APIKeyID))
	}
	if f.Model != "" {
		preds = append(preds, entsql.EQ(usagerollup.FieldModel, f.Model))
	}
	if !f.From.IsZero() {
		preds = append(preds, entsql.GTE(usagerollup.FieldHour, f.From.UTC().Truncate(time.Hour)))
	}
	if !f.To.IsZero() {
		preds = append(preds, entsql.LT(usagerollup.FieldHour, f.To.UTC()))
	}
	return entsql.And(preds...)
}

// Bucket is the width of a report's time series.
type Bucket string

// The buckets.
const (
	ByHour Bucket = "HOUR"
	ByDay  Bucket = "DAY"
)

// Point is one bucket of a time series.
type Point struct {
	Start time.Time
	Sums
}

// ModelSums is one model's share of a report.
type ModelSums struct {
	Model string
	Sums
}

// Report is the usage a filter selects: its totals, a time series and the
// split by model.
type Report struct {
	Totals  Sums
	Series  []Point
	ByModel []ModelSums
	// Filter and Bucket are the report's, for splitting it further.
	Filter Filter
	Bucket Bucket
}

// Query sums the roll-ups a filter selects.
func Query(ctx context.Context, db *database.DB, f Filter, bucket Bucket) (*Report, error) {
	rep := &Report{Filter: f, Bucket: bucket}
	byModel := map[string]*Sums{}
	err := scanReport(ctx, db, f.predicate(), bucket, usagerollup.FieldModel, func(at time.Time, model string, s Sums) {
		if n := len(rep.Series); n == 0 || !rep.Series[n-1].Start.Equal(at) {
			rep.Series = append(rep.Series, Point{Start: at})
		}
		rep.Series[len(rep.Series)-1].merge(s)
		rep.Totals.merge(s)
		m := byModel[model]
		if m == nil {
			m = &Sums{}
			byModel[model] = m
		}
		m.merge(s)
	})
	if err != nil {
		return nil, err
	}
	for model, s := range byModel {
		rep.ByModel = append(rep.ByModel, ModelSums{Model: model, Sums: *s})
	}
	sort.Slice(rep.ByModel, func(i, j int) bool { return rep.ByModel[i].Cost > rep.ByModel[j].Cost })
	return rep, nil
}

// SplitBy names what a report is split by.
type SplitBy string

// The splits.
const (
	SplitModel   SplitBy = "MODEL"
	SplitService SplitBy = "SERVICE"
	SplitAPIKey  SplitBy = "API_KEY"
)

// Group is one model's, service's or key's share of a report: its sums
// and its time series.
type Group struct {
	// Key is the model, or the service's or key's ID.
	Key string
	Sums
	Series []Point
}

// Split sums the roll-ups a filter selects by model, service or key, the
// groups with the highest cost (then requests) first. A service's or key's
// share is read from its own rows, so requests with neither belong to no
// group.
func Split(ctx context.Context, db *database.DB, f Filter, bucket Bucket, by SplitBy) ([]Group, error) {
	col, pred := usagerollup.FieldModel, f.predicate()
	switch by {
	case SplitModel:
	case SplitService:
		col = usagerollup.FieldServiceID
		pred = entsql.And(f.part(), entsql.NEQ(usagerollup.FieldServiceID, 0))
	case SplitAPIKey:
		col = usagerollup.FieldAPIKeyID
		pred = entsql.And(f.part(), entsql.NEQ(usagerollup.FieldAPIKeyID, 0))
	default:
		return nil, fmt.Errorf("usage split: unknown split %q", by)
	}
	groups := map[string]*Group{}
	err := scanReport(ctx, db, pred, bucket, col, func(at time.Time, key string, s Sums) {
		g := groups[key]
		if g == nil {
			g = &Group{Key: key}
			groups[key] = g
		}
		if n := len(g.Series); n == 0 || !g.Series[n-1].Start.Equal(at) {
			g.Series = append(g.Series, Point{Start: at})
		}
		g.Series[len(g.Series)-1].merge(s)
		g.merge(s)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Cost != b.Cost {
			return a.Cost > b.Cost
		}
		if a.Requests != b.Requests {
			return a.Requests > b.Requests
		}
		return a.Key < b.Key
	})
	return out, nil
}

// scanReport reads the report of the rows where pred holds, by bucket and
// the group column, in bucket order, passing each row's sums to fn.
func scanReport(ctx context.Context, db *database.DB, pred *entsql.Predicate, bucket Bucket, group string, fn func(at time.Time, group string, s Sums)) error {
	q, args := reportSQL(db.Dialect, pred, bucket, group)
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("usage report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var start any = new(time.Time)
		if bucket == ByDay {
			start = new(string)
		}
		var key string
		var s Sums
		var cost int64
		var cacheWrites, cacheWrites1h, refused sql.NullInt64
		var buckets [latencyhist.Buckets]sql.NullInt64
		dest := []any{start, &key, &s.Requests, &s.Errors, &s.UnpricedRequests, &s.InputTokens, &s.OutputTokens, &s.CachedInputTokens, &cost, &s.LatencyUSSum, &cacheWrites, &cacheWrites1h, &refused}
		for i := range buckets {
			dest = append(dest, &buckets[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("usage report: %w", err)
		}
		s.Cost = money.Micros(cost)
		s.CacheWriteTokens, s.CacheWrite1hTokens, s.RefusedRequests = cacheWrites.Int64, cacheWrites1h.Int64, refused.Int64
		for i, b := range buckets {
			s.Latency[i] = b.Int64
		}
		at, err := bucketStart(start)
		if err != nil {
			return fmt.Errorf("usage report: %w", err)
		}
		fn(at, key, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("usage report: %w", err)
	}
	return nil
}

// bucketStart is a report row's bucket as scanned: an hour's time, or a
// day as YYYY-MM-DD in UTC.
func bucketStart(scanned any) (time.Time, error) {
	switch v := scanned.(type) {
	case *time.Time:
		return v.UTC(), nil
	case *string:
		day, err := time.Parse(time.DateOnly, *v)
		if err != nil {
			return time.Time{}, fmt.Errorf("read day %q: %w", *v, err)
		}
		return day, nil
	}
	return time.Time{}, fmt.Errorf("unexpected bucket %T", scanned)
}

// The batches of Prune: at most pruneBatch records, fewer when a batch
// takes longer than pruneBatchTime, so that no delete holds SQLite's one
// write lock (or PostgreSQL's I/O) for long.
const (
	pruneBatch     = 5000
	minPruneBatch  = 250
	pruneBatchTime = 100 * time.Millisecond
)

// Prune deletes raw usage records created before cutoff; their roll-ups
// stay. It deletes in short transactions of up to pruneBatch records, so
// that a long backlog holds no huge one; on SQLite, where writers take
// turns on one lock and a waiting writer polls for it, it rests between
// batches as long as the last one took (at least pruneBatchTime), so that
// the usage writer gets the lock between them instead of waiting out the
// whole prune.
func Prune(ctx context.Context, db *database.DB, cutoff time.Time) (int64, error) {
	var total int64
	size := pruneBatch
	for {
		start := time.Now()
		res, err := db.SQL.ExecContext(ctx, database.Rebind(db.Dialect, sqlPrune), cutoff.UTC(), size)
		if err != nil {
			return total, fmt.Errorf("prune usage records: %w", err)
		}
		took := time.Since(start)
		n, _ := res.RowsAffected()
		total += n
		if n < int64(size) {
			return total, nil
		}
		if took > pruneBatchTime {
			size = max(minPruneBatch, int(int64(size)*int64(pruneBatchTime)/int64(took)))
		} else {
			size = min(pruneBatch, size*2)
		}
		if db.Dialect == dialect.Postgres {
			continue
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(max(took, pruneBatchTime)):
		}
	}
}
