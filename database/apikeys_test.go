package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestMarkKeysUsed: the named keys, in more than one statement's worth,
// get last_used_at and keep updated_at; the others are left alone.
func TestMarkKeysUsed(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		org := db.Client.Organization.Create().SetName("o").SaveX(ctx)
		keys := make([]*ent.APIKey, 0, 503)
		for i := range cap(keys) {
			keys = append(keys, db.Client.APIKey.Create().SetOrganizationID(org.ID).SetName(fmt.Sprint("k", i)).
				SetKeyHash(fmt.Sprintf("hash-%d", i)).SetKeyPrefix("sk-").SetKeyLastFour("abcd").SaveX(ctx))
		}
		ids := make([]int, 0, len(keys)-1)
		for _, k := range keys[:len(keys)-1] {
			ids = append(ids, k.ID)
		}
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		if err := db.MarkKeysUsed(ctx, at, ids); err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			got := db.Client.APIKey.GetX(ctx, k.ID)
			marked := i < len(ids)
			switch {
			case marked && (got.LastUsedAt == nil || !got.LastUsedAt.Equal(at)):
				t.Fatalf("key %d: last_used_at = %v, want %v", i, got.LastUsedAt, at)
			case !marked && got.LastUsedAt != nil:
				t.Fatalf("key %d not named: last_used_at = %v, want none", i, got.LastUsedAt)
			case got.UpdatedAt.Sub(k.UpdatedAt).Abs() >= time.Microsecond: // PostgreSQL keeps microseconds
				t.Fatalf("key %d: updated_at moved from %v to %v", i, k.UpdatedAt, got.UpdatedAt)
			}
		}
	})
}
