package graph

import (
	"context"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
)

// catalogModels are the price catalog's models by provider, read only
// when the providers field's selection asks for them: the keys screen
// asks for providers on every visit, for their protocols alone.
func (r *queryResolver) catalogModels(ctx context.Context) (map[string][]string, error) {
	if !slices.Contains(graphql.CollectAllFields(ctx), "models") {
		return nil, nil
	}
	prices, err := r.Client.ModelPrice.Query().
		Order(ent.Asc(modelprice.FieldProvider), ent.Asc(modelprice.FieldModel)).
		Select(modelprice.FieldProvider, modelprice.FieldModel).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list catalog models: %w", err)
	}
	models := map[string][]string{}
	for _, p := range prices {
		models[p.Provider] = append(models[p.Provider], p.Model)
	}
	return models, nil
}
