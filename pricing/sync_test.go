package pricing_test

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
)

// TestSync loads the catalog, leaves an admin's edit alone on the next
// start, and restores a price nobody edited.
func TestSync(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		catalog, _ := pricing.Load()
		added, updated, err := pricing.Sync(ctx, db.Client)
		if err != nil || added != len(catalog) || updated != 0 {
			t.Fatalf("first sync = %d added, %d updated, %v; want %d, 0", added, updated, err, len(catalog))
		}
		c := db.Client.ModelPrice.Query().Where(modelprice.Provider("openai"), modelprice.Model("gpt-4o")).OnlyX(ctx)
		want := c.InputPerMtok
		c.Update().SetInputPerMtok(123 * money.PerUSD).SetCustomized(true).ExecX(ctx)
		other := db.Client.ModelPrice.Query().Where(modelprice.Provider("openai"), modelprice.Model("gpt-4o-mini")).OnlyX(ctx)
		other.Update().SetInputPerMtok(999).ExecX(ctx)

		added, updated, err = pricing.Sync(ctx, db.Client)
		if err != nil || added != 0 || updated != 1 {
			t.Fatalf("second sync = %d added, %d updated, %v; want 0, 1", added, updated, err)
		}
		if got := db.Client.ModelPrice.GetX(ctx, c.ID).InputPerMtok; got != 123*money.PerUSD {
			t.Fatalf("an admin's edit was overwritten: %v (catalog %v)", got, want)
		}
		if got := db.Client.ModelPrice.GetX(ctx, other.ID).InputPerMtok; got == 999 {
			t.Fatal("an unedited price was not restored from the catalog")
		}
	})
}

// TestSyncCacheWritePrices checks the optional prices both ways: the
// catalog's cache-write prices reach a row that lost them, and a row that
// has one the catalog does not is cleared, in one UPDATE each (setting and
// clearing one column at once would assign it twice).
func TestSyncCacheWritePrices(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, _, err := pricing.Sync(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		claude := db.Client.ModelPrice.Query().Where(modelprice.Provider("anthropic"), modelprice.Model("claude-sonnet-4-5")).OnlyX(ctx)
		if claude.CacheWritePerMtok == nil || *claude.CacheWritePerMtok != 3_750_000 || claude.CacheWrite1hPerMtok == nil || *claude.CacheWrite1hPerMtok != 6_000_000 {
			t.Fatalf("claude-sonnet-4-5 cache writes %v / %v after the first sync, want $3.75 / $6.00", claude.CacheWritePerMtok, claude.CacheWrite1hPerMtok)
		}
		gpt := db.Client.ModelPrice.Query().Where(modelprice.Provider("openai"), modelprice.Model("gpt-4o")).OnlyX(ctx)
		if gpt.CacheWritePerMtok != nil || gpt.CacheWrite1hPerMtok != nil {
			t.Fatalf("gpt-4o has cache-write prices %v / %v; OpenAI charges none", gpt.CacheWritePerMtok, gpt.CacheWrite1hPerMtok)
		}
		claude.Update().ClearCacheWritePerMtok().SetCacheWrite1hPerMtok(1).ExecX(ctx)
		gpt.Update().SetCacheWritePerMtok(9_000_000).ExecX(ctx)

		if _, updated, err := pricing.Sync(ctx, db.Client); err != nil || updated != 2 {
			t.Fatalf("second sync updated %d, %v; want 2", updated, err)
		}
		claude = db.Client.ModelPrice.GetX(ctx, claude.ID)
		if claude.CacheWritePerMtok == nil || *claude.CacheWritePerMtok != 3_750_000 || claude.CacheWrite1hPerMtok == nil || *claude.CacheWrite1hPerMtok != 6_000_000 {
			t.Errorf("claude-sonnet-4-5 cache writes %v / %v after the second sync, want the catalog's", claude.CacheWritePerMtok, claude.CacheWrite1hPerMtok)
		}
		if got := db.Client.ModelPrice.GetX(ctx, gpt.ID).CacheWritePerMtok; got != nil {
			t.Errorf("gpt-4o kept a cache-write price of %v the catalog does not have", *got)
		}
	})
}
