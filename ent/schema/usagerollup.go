package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/sluicehq/sluice/latencyhist"
	"github.com/sluicehq/sluice/money"
)

// UsageRollup sums one hour of one key's use of one model; the row with
// service_id and api_key_id 0 sums the whole organization's use of the
// model in that hour, so that the organization's report does not add up
// every key's rows. Raw usage records are pruned after the retention
// period; roll-ups are kept for good, so history and reports stay small
// and fast.
type UsageRollup struct {
	ent.Schema
}

// Fields of the UsageRollup.
func (UsageRollup) Fields() []ent.Field {
	return []ent.Field{
		field.Time("hour").Immutable().Comment("Start of the UTC hour.").Annotations(entgql.OrderField("HOUR")),
		field.Int("organization_id").Immutable(),
		field.Int("service_id").Immutable(),
		field.Int("api_key_id").Immutable(),
		field.String("model").Immutable(),
	}
}

// Mixin of the UsageRollup: the sums.
func (UsageRollup) Mixin() []ent.Mixin { return []ent.Mixin{UsageSums{}} }

// Indexes of the UsageRollup.
func (UsageRollup) Indexes() []ent.Index {
	return []ent.Index{
		// The key, in the order the organization's report reads its own
		// rows (key 0) by hour and a key's report that key's.
		index.Fields("organization_id", "api_key_id", "hour", "service_id", "model").Unique(),
		// A service's report reads its keys' rows by hour.
		index.Fields("organization_id", "service_id", "hour"),
	}
}

// Annotations of the UsageRollup: reached through the usage query.
func (UsageRollup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// UsageRollupDay sums one UTC day of one organization's use of one model:
// the same sums as the organization's hourly rows of that day, so that a
// report over months by day reads a row a day and model, not 24.
type UsageRollupDay struct {
	ent.Schema
}

// Fields of the UsageRollupDay.
func (UsageRollupDay) Fields() []ent.Field {
	return []ent.Field{
		field.Time("day").Immutable().Comment("Start of the UTC day."),
		field.Int("organization_id").Immutable(),
		field.String("model").Immutable(),
	}
}

// Mixin of the UsageRollupDay: the sums.
func (UsageRollupDay) Mixin() []ent.Mixin { return []ent.Mixin{UsageSums{}} }

// Indexes of the UsageRollupDay: the key, which leads with the
// organization, whose report reads a range of its days.
func (UsageRollupDay) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "day", "model").Unique()}
}

// Annotations of the UsageRollupDay: reached through the usage query.
func (UsageRollupDay) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// UsageSums are a roll-up's sums of the requests it counts.
type UsageSums struct {
	mixin.Schema
}

// Fields of the UsageSums.
func (UsageSums) Fields() []ent.Field {
	fields := []ent.Field{
		field.Int64("requests").Default(0),
		field.Int64("errors").Default(0).Comment("Requests answered with a status of 400 or more."),
		field.Int64("unpriced_requests").Default(0).Comment("Requests for models without a price; their cost is unknown, not zero."),
		field.Int64("input_tokens").Default(0),
		field.Int64("output_tokens").Default(0),
		field.Int64("cached_input_tokens").Default(0),
		field.Int64("cost").GoType(money.Micros(0)).Default(0).Annotations(usd...),
		field.Int64("latency_us_sum").Default(0).Comment("For the mean latency: divide by requests."),
		// Columns added after the table had rows are nullable, without a
		// default, and last, so that SQLite adds them in place. Rows from
		// before read as no cache writes and no latency histogram.
		field.Int64("cache_write_tokens").Optional().Comment("Part of input_tokens written to the provider's prompt cache."),
		field.Int64("cache_write_1h_tokens").Optional().Comment("Part of cache_write_tokens written to a one-hour cache."),
	}
	// The latency histogram, one column a bucket (package latencyhist),
	// so that the upsert adds counts as it adds the other sums; an empty
	// bucket is NULL, which PostgreSQL stores as one bit.
	for i := range latencyhist.Buckets {
		fields = append(fields, field.Int64(latencyhist.Column(i)).Optional())
	}
	fields = append(fields, field.Int64("refused_requests").Optional().
		Comment("Part of errors the gateway answered itself, without calling an upstream (limits, balance, invalid requests)."))
	return fields
}
