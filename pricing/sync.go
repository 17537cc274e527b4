package pricing

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
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
		var cached *int64
		if p.CachedInputPerMTok != 0 {
			c := int64(p.CachedInputPerMTok)
			cached = &c
		}
		row, ok := existing[[2]string{p.Provider, p.Model}]
		if !ok {
			c := client.ModelPrice.Create().
				SetProvider(p.Provider).SetModel(p.Model).
				SetInputPerMtok(p.InputPerMTok).SetOutputPerMtok(p.OutputPerMTok).
				SetKind(modelprice.Kind(p.Kind)).SetMaxOutputTokens(p.MaxOutputTokens).
				SetDescription(p.Description)
			if cached != nil {
				c.SetCachedInputPerMtok(p.CachedInputPerMTok)
			}
			creates = append(creates, c)
			continue
		}
		if row.Customized || samePrice(row, p) {
			continue
		}
		upd := row.Update().
			SetInputPerMtok(p.InputPerMTok).SetOutputPerMtok(p.OutputPerMTok).
			SetKind(modelprice.Kind(p.Kind)).SetMaxOutputTokens(p.MaxOutputTokens).
			SetDescription(p.Description)
		if cached != nil {
			upd.SetCachedInputPerMtok(p.CachedInputPerMTok)
		} else {
			upd.ClearCachedInputPerMtok()
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

func samePrice(row *ent.ModelPrice, p Price) bool {
	var cached int64
	if row.CachedInputPerMtok != nil {
		cached = int64(*row.CachedInputPerMtok)
	}
	return row.InputPerMtok == p.InputPerMTok && row.OutputPerMtok == p.OutputPerMTok &&
		cached == int64(p.CachedInputPerMTok) && string(row.Kind) == p.Kind &&
		row.MaxOutputTokens == p.MaxOutputTokens && row.Description == p.Description
}
