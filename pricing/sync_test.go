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
