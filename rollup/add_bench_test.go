package rollup_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

// BenchmarkAdd measures rolling up one writer batch of 2,000 records
// spread over 1,000 keys (1,000 roll-up rows), as busy keys in one hour
// leave it; each iteration is a later hour, so rows are inserted, then
// the same batch again adds to them.
func BenchmarkAdd(b *testing.B) {
	testenv.EachBench(b, func(b *testing.B, db *database.DB) {
		ctx := context.Background()
		batch := make([]usagelog.Record, 2000)
		b.ResetTimer()
		for n := range b.N {
			hour := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n/2) * time.Hour)
			for i := range batch {
				batch[i] = usagelog.Record{CreatedAt: hour.Add(time.Duration(i) * time.Second), OrganizationID: 1, ServiceID: 1, APIKeyID: i % 1000,
					Model: "gpt-4o", Status: 200, Tokens: tokens.Tokens{InputTokens: 100, OutputTokens: 50}, Cost: 30, Priced: true, LatencyUs: int64(100_000 + i*997)}
			}
			tx, err := db.SQL.Begin()
			if err != nil {
				b.Fatal(err)
			}
			if err := rollup.Add(ctx, tx, db.Dialect, batch); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
