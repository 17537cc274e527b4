package database

import (
	"context"
	"fmt"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent/apikey"
)

// markUsedChunk is the most keys one MarkKeysUsed statement names.
const markUsedChunk = 500

// MarkKeysUsed sets the API keys' last_used_at to at, one UPDATE per 500
// keys. It is not ent's update because that would also bump updated_at,
// the time of the last admin change.
func (d *DB) MarkKeysUsed(ctx context.Context, at time.Time, ids []int) error {
	for len(ids) > 0 {
		n := min(len(ids), markUsedChunk)
		q, args := markKeysUsedSQL(d.Dialect, at, ids[:n])
		if _, err := d.SQL.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("mark %d API keys used: %w", n, err)
		}
		ids = ids[n:]
	}
	return nil
}

// markKeysUsedSQL is the UPDATE that sets ids' last_used_at to at.
func markKeysUsedSQL(dialectName string, at time.Time, ids []int) (string, []any) {
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	return entsql.Dialect(dialectName).Update(apikey.Table).
		Set(apikey.FieldLastUsedAt, at).
		Where(entsql.In(apikey.FieldID, vals...)).
		Query()
}
