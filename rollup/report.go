package rollup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/usagerollup"
	"github.com/sluicehq/sluice/ent/usagerollupday"
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

// part selects the filter's rows among every hourly row of the
// organization, its own and its keys' alike.
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

// Query sums the roll-ups a filter selects. The organization's report by
// day reads whole days from its day rows and the hours of a partial first
// or last day from its hourly rows. The database sums each part by bucket
// and by model, so that what is read is a row a bucket and a model, not a
// row a bucket and model.
func Query(ctx context.Context, db *database.DB, f Filter, bucket Bucket) (*Report, error) {
	return query(ctx, db, f, bucket, rollupSums)
}

// QueryCounterSeries is Query whose series carry the counters alone, no
// latency histograms (so no percentiles): a chart of requests or cost
// reads a sixth of the columns for each bucket. The totals and the split
// by model are whole.
func QueryCounterSeries(ctx context.Context, db *database.DB, f Filter, bucket Bucket) (*Report, error) {
	return query(ctx, db, f, bucket, rollupCounters)
}

// query is Query with the columns its series sum.
func query(ctx context.Context, db *database.DB, f Filter, bucket Bucket, seriesSums []string) (*Report, error) {
	sum := &summer{series: map[time.Time]*Sums{}, byModel: map[string]*Sums{}}
	for _, part := range f.parts(bucket) {
		series, byModel := part.sql(db.Dialect, bucket, seriesSums)
		var start any = new(time.Time)
		if !part.days && bucket == ByDay {
			start = new(string) // the hourly rows by day: YYYY-MM-DD
		}
		if err := scanSums(ctx, db, series, []any{start}, func(s Sums) error {
			at, err := bucketStart(start)
			sumsOf(sum.series, at).merge(s)
			return err
		}); err != nil {
			return nil, fmt.Errorf("usage report by %s: %w", strings.ToLower(string(bucket)), err)
		}
		var model string
		if err := scanSums(ctx, db, byModel, []any{&model}, func(s Sums) error {
			sumsOf(sum.byModel, model).merge(s)
			sum.totals.merge(s)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("usage report by model: %w", err)
		}
	}
	rep := sum.report()
	rep.Filter, rep.Bucket = f, bucket
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

// Split sums the hourly roll-ups a filter selects by model, service or
// key, the groups with the highest cost (then requests) first. A
// service's or key's share is read from its own rows, so requests with
// neither belong to no group.
func Split(ctx context.Context, db *database.DB, f Filter, bucket Bucket, by SplitBy) ([]Group, error) {
	st, err := splitSQL(db.Dialect, f, bucket, by)
	if err != nil {
		return nil, fmt.Errorf("usage split: %w", err)
	}
	var start any = new(time.Time)
	if bucket == ByDay {
		start = new(string)
	}
	var key string
	groups := map[string]*Group{}
	series := map[string]map[time.Time]*Sums{}
	err = scanSums(ctx, db, st, []any{start, &key}, func(s Sums) error {
		at, err := bucketStart(start)
		g := groups[key]
		if g == nil {
			g = &Group{Key: key}
			groups[key], series[key] = g, map[time.Time]*Sums{}
		}
		g.merge(s)
		sumsOf(series[key], at).merge(s)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("usage split by %s: %w", strings.ToLower(string(by)), err)
	}
	out := make([]Group, 0, len(groups))
	for key, g := range groups {
		for at, s := range series[key] {
			g.Series = append(g.Series, Point{Start: at, Sums: *s})
		}
		sort.Slice(g.Series, func(i, j int) bool { return g.Series[i].Start.Before(g.Series[j].Start) })
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

// A part is a filter's range read from one roll-up table.
type part struct {
	Filter
	days bool // from the day rows, else the hourly rows
}

// sql is the part's two statements: its sums by bucket (of seriesSums)
// and by model (of every column).
func (p part) sql(dialectName string, bucket Bucket, seriesSums []string) (series, byModel statement) {
	if p.days {
		pred := p.dayPredicate()
		return sumSQL(dialectName, usagerollupday.Table, seriesSums, pred, usagerollupday.FieldDay),
			sumSQL(dialectName, usagerollupday.Table, rollupSums, pred, usagerollupday.FieldModel)
	}
	pred := p.predicate()
	return sumSQL(dialectName, usagerollup.Table, seriesSums, pred, bucketOf(dialectName, bucket)),
		sumSQL(dialectName, usagerollup.Table, rollupSums, pred, usagerollup.FieldModel)
}

// parts splits the filter's range by the table that answers it: all of
// it from the hourly rows, unless it is the organization's report by day,
// whose whole days come from the day rows.
func (f Filter) parts(bucket Bucket) []part {
	if bucket != ByDay || f.ServiceID != 0 || f.APIKeyID != 0 {
		return []part{{Filter: f}}
	}
	const day = 24 * time.Hour
	var parts []part
	first := f.From.UTC().Truncate(time.Hour) // the first whole day's start
	if !f.From.IsZero() && !first.Equal(first.Truncate(day)) {
		head := f
		first = first.Truncate(day).Add(day)
		if !f.To.IsZero() && !first.Before(f.To) {
			return []part{{Filter: f}} // within one day
		}
		head.To = first
		parts = append(parts, part{Filter: head})
	}
	days := f
	days.From = first
	if f.From.IsZero() {
		days.From = time.Time{}
	}
	if f.To.IsZero() {
		return append(parts, part{Filter: days, days: true})
	}
	end := f.To.UTC().Truncate(day)
	if days.From.IsZero() || end.After(days.From) {
		days.To = end
		parts = append(parts, part{Filter: days, days: true})
	}
	if end.Before(f.To) {
		tail := f
		tail.From = end
		if !days.From.IsZero() && days.From.After(end) {
			tail.From = days.From
		}
		parts = append(parts, part{Filter: tail})
	}
	return parts
}

// dayPredicate selects the organization's day rows in the filter.
func (f Filter) dayPredicate() *entsql.Predicate {
	preds := []*entsql.Predicate{entsql.EQ(usagerollupday.FieldOrganizationID, f.OrgID)}
	if f.Model != "" {
		preds = append(preds, entsql.EQ(usagerollupday.FieldModel, f.Model))
	}
	if !f.From.IsZero() {
		preds = append(preds, entsql.GTE(usagerollupday.FieldDay, f.From.UTC()))
	}
	if !f.To.IsZero() {
		preds = append(preds, entsql.LT(usagerollupday.FieldDay, f.To.UTC()))
	}
	return entsql.And(preds...)
}

// summer adds report rows up into totals (the sum of the models'), a
// series and the split by model.
type summer struct {
	totals  Sums
	series  map[time.Time]*Sums
	byModel map[string]*Sums
}

// scanSums scans the rows of a report statement, its groups into group
// and its sums (the counters, then the latency histogram when the
// statement sums it), and hands each row's sums to add.
func scanSums(ctx context.Context, db *database.DB, st statement, group []any, add func(Sums) error) error {
	rows, err := db.SQL.QueryContext(ctx, st.query, st.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	histogram := len(cols) == len(group)+len(rollupSums)
	for rows.Next() {
		var s Sums
		var cost int64
		var cacheWrites, cacheWrites1h, refused sql.NullInt64
		var buckets [latencyhist.Buckets]sql.NullInt64
		dest := append(slices.Clone(group), &s.Requests, &s.Errors, &s.UnpricedRequests, &s.InputTokens, &s.OutputTokens, &s.CachedInputTokens, &cost, &s.LatencyUSSum, &cacheWrites, &cacheWrites1h, &refused)
		if histogram {
			for i := range buckets {
				dest = append(dest, &buckets[i])
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		s.Cost = money.Micros(cost)
		s.CacheWriteTokens, s.CacheWrite1hTokens, s.RefusedRequests = cacheWrites.Int64, cacheWrites1h.Int64, refused.Int64
		for i, b := range buckets {
			s.Latency[i] = b.Int64
		}
		if err := add(s); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sumsOf is m's sums at k, added if missing.
func sumsOf[K comparable](m map[K]*Sums, k K) *Sums {
	s := m[k]
	if s == nil {
		s = &Sums{}
		m[k] = s
	}
	return s
}

// report is the sums as a report: the series in time order, the models by
// cost, the most first.
func (r *summer) report() *Report {
	rep := &Report{Totals: r.totals}
	for at, s := range r.series {
		rep.Series = append(rep.Series, Point{Start: at, Sums: *s})
	}
	sort.Slice(rep.Series, func(i, j int) bool { return rep.Series[i].Start.Before(rep.Series[j].Start) })
	for model, s := range r.byModel {
		rep.ByModel = append(rep.ByModel, ModelSums{Model: model, Sums: *s})
	}
	sort.Slice(rep.ByModel, func(i, j int) bool { return rep.ByModel[i].Cost > rep.ByModel[j].Cost })
	return rep
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

// Prune deletes raw usage records created before cutoff; their roll-ups
// stay. It deletes in short batches (database.DB.DeleteBefore), so that a
// long backlog holds no huge transaction and the usage writer gets its
// turn between them. Records are written about in the order they were
// created, so it deletes those written before the first one created at
// cutoff or after; an old record written after that one goes once the
// records written before it are old too, at most a retention period
// after it was written.
func Prune(ctx context.Context, db *database.DB, cutoff time.Time) (int64, error) {
	cutoff = cutoff.UTC()
	var from int64 = math.MaxInt64 // every record is old
	err := db.SQL.QueryRowContext(ctx, database.Rebind(db.Dialect, sqlPruneFrom), cutoff).Scan(&from)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("prune usage records: find the first kept: %w", err)
	}
	n, err := db.DeleteBefore(ctx, sqlPrune, from, cutoff)
	if err != nil {
		return n, fmt.Errorf("prune usage records: %w", err)
	}
	return n, nil
}
