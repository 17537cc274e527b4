package pricing

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/money"
)

// Sync loads the embedded catalog into the ModelPrice table: new models are
// added, catalog changes reach rows no admin has edited, and edited rows
// (customized) are left alone. Replicas starting together may both run it;
// inserts skip rows that appeared meanwhile.
func Sync(ctx context.Context, client *ent.Client) (added, updated int, err error) {
	catalog, err := Load()
	if err != nil {
		return 0, 0, err
	}
	rows, err := client.ModelPrice.Query().All(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read model prices: %w", err)
	}
	existing := make(map[[2]string]*ent.ModelPrice, len(rows))
	for _, r := range rows {
		existing[[2]string{r.Provider, r.Model}] = r
	}
	var creates []*ent.ModelPriceCreate
	for _, p := range catalog {
		row, ok := existing[[2]string{p.Provider, p.Model}]
		if !ok {
			creates = append(creates, client.ModelPrice.Create().
				SetProvider(p.Provider).SetModel(p.Model).
				SetInputPerMtok(p.InputPerMTok).SetOutputPerMtok(p.OutputPerMTok).
				SetNillableCachedInputPerMtok(optional(p.CachedInputPerMTok)).
				SetNillableCacheWritePerMtok(optional(p.CacheWritePerMTok)).
				SetNillableCacheWrite1hPerMtok(optional(p.CacheWrite1hPerMTok)).
				SetKind(modelprice.Kind(p.Kind)).SetMaxOutputTokens(p.MaxOutputTokens).
				SetDescription(p.Description))
			continue
		}
		if row.Customized || FromRow(row) == p {
			continue
		}
		upd := row.Update().
			SetInputPerMtok(p.InputPerMTok).SetOutputPerMtok(p.OutputPerMTok).
			SetKind(modelprice.Kind(p.Kind)).SetMaxOutputTokens(p.MaxOutputTokens).
			SetDescription(p.Description)
		// Set or clear, never both: a cleared field that is also set
		// would be assigned twice in one UPDATE.
		for _, f := range []struct {
			price money.Micros
			set   func(money.Micros) *ent.ModelPriceUpdateOne
			clear func() *ent.ModelPriceUpdateOne
		}{
			{p.CachedInputPerMTok, upd.SetCachedInputPerMtok, upd.ClearCachedInputPerMtok},
			{p.CacheWritePerMTok, upd.SetCacheWritePerMtok, upd.ClearCacheWritePerMtok},
			{p.CacheWrite1hPerMTok, upd.SetCacheWrite1hPerMtok, upd.ClearCacheWrite1hPerMtok},
		} {
			if f.price == 0 {
				f.clear()
			} else {
				f.set(f.price)
			}
		}
		if err := upd.Exec(ctx); err != nil {
			return added, updated, fmt.Errorf("update price of %s/%s: %w", p.Provider, p.Model, err)
		}
		updated++
	}
	if len(creates) > 0 {
		err := client.ModelPrice.CreateBulk(creates...).
			OnConflictColumns(modelprice.FieldProvider, modelprice.FieldModel).DoNothing().Exec(ctx)
		if err != nil {
			return added, updated, fmt.Errorf("add catalog prices: %w", err)
		}
		added = len(creates)
	}
	return added, updated, nil
}

// optional is how the table holds a catalog price that may be absent:
// NULL, as the admin API writes "no price" (pricing reads zero the same).
func optional(m money.Micros) *money.Micros {
	if m == 0 {
		return nil
	}
	return &m
}

// FromRow is the price a ModelPrice row holds.
func FromRow(r *ent.ModelPrice) Price {
	return Price{
		Provider: r.Provider, Model: r.Model, Description: r.Description, Kind: string(r.Kind),
		InputPerMTok: r.InputPerMtok, OutputPerMTok: r.OutputPerMtok,
		CachedInputPerMTok: orZero(r.CachedInputPerMtok), CacheWritePerMTok: orZero(r.CacheWritePerMtok),
		CacheWrite1hPerMTok: orZero(r.CacheWrite1hPerMtok),
		MaxOutputTokens:     r.MaxOutputTokens,
	}
}

func orZero(m *money.Micros) money.Micros {
	if m == nil {
		return 0
	}
	return *m
}
