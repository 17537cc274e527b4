package manage

import (
	"cmp"
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/money"
)

// CreateModelPrice adds a price to the catalog, marked as customized so
// that catalog syncs keep it.
func (m *Manager) CreateModelPrice(ctx context.Context, input CreateModelPriceInput) (*ent.ModelPrice, error) {
	if err := CheckProvider(input.Provider); err != nil {
		return nil, err
	}
	if err := checkModelName("model", input.Model); err != nil {
		return nil, err
	}
	if err := cmp.Or(checkCacheWritePrice("cacheWritePerMtok", input.CacheWritePerMtok),
		checkCacheWritePrice("cacheWrite1hPerMtok", input.CacheWrite1hPerMtok)); err != nil {
		return nil, err
	}
	kind := modelprice.KindText
	if input.Kind != nil {
		k, err := checkKind(*input.Kind)
		if err != nil {
			return nil, err
		}
		kind = k
	}
	m.subject(ctx, "ModelPrice", 0, input.Provider+"/"+input.Model)
	p, err := m.Client.ModelPrice.Create().
		SetProvider(input.Provider).
		SetModel(input.Model).
		SetInputPerMtok(input.InputPerMtok).
		SetOutputPerMtok(input.OutputPerMtok).
		SetNillableCachedInputPerMtok(input.CachedInputPerMtok).
		SetNillableCacheWritePerMtok(input.CacheWritePerMtok).
		SetNillableCacheWrite1hPerMtok(input.CacheWrite1hPerMtok).
		SetKind(kind).
		SetMaxOutputTokens(derefInt(input.MaxOutputTokens)).
		SetDescription(deref(input.Description)).
		SetCustomized(true).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, Errorf(CodeConflict, "the catalog already has a price for %s model %q; use updateModelPrice", input.Provider, input.Model)
	}
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ModelPrice", p.ID, p.Provider+"/"+p.Model)
	return p, nil
}

// UpdateModelPrice changes the fields given of a price; a cache price given
// as null is removed.
func (m *Manager) UpdateModelPrice(ctx context.Context, id int, input UpdateModelPriceInput) (*ent.ModelPrice, error) {
	p, err := m.Client.ModelPrice.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, NotFound("model price")
	}
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ModelPrice", p.ID, p.Provider+"/"+p.Model)
	if err := cmp.Or(checkCacheWritePrice("cacheWritePerMtok", input.CacheWritePerMtok.Value()),
		checkCacheWritePrice("cacheWrite1hPerMtok", input.CacheWrite1hPerMtok.Value())); err != nil {
		return nil, err
	}
	upd := p.Update().SetCustomized(true).
		SetNillableInputPerMtok(input.InputPerMtok).
		SetNillableOutputPerMtok(input.OutputPerMtok).
		SetNillableDescription(input.Description)
	for _, f := range []struct {
		in    graphql.Omittable[*money.Micros]
		set   func(money.Micros) *ent.ModelPriceUpdateOne
		clear func() *ent.ModelPriceUpdateOne
	}{
		{input.CachedInputPerMtok, upd.SetCachedInputPerMtok, upd.ClearCachedInputPerMtok},
		{input.CacheWritePerMtok, upd.SetCacheWritePerMtok, upd.ClearCacheWritePerMtok},
		{input.CacheWrite1hPerMtok, upd.SetCacheWrite1hPerMtok, upd.ClearCacheWrite1hPerMtok},
	} {
		if c, set := f.in.ValueOK(); set {
			if c == nil {
				f.clear()
			} else {
				f.set(*c)
			}
		}
	}
	if input.Kind != nil {
		kind, err := checkKind(*input.Kind)
		if err != nil {
			return nil, err
		}
		upd.SetKind(kind)
	}
	if input.MaxOutputTokens != nil {
		if *input.MaxOutputTokens < 0 {
			return nil, FieldErrorf("maxOutputTokens", "maxOutputTokens must not be negative")
		}
		upd.SetMaxOutputTokens(*input.MaxOutputTokens)
	}
	return upd.Save(ctx)
}

// checkKind reads a price's kind.
func checkKind(s string) (modelprice.Kind, error) {
	kind := modelprice.Kind(s)
	if err := modelprice.KindValidator(kind); err != nil {
		return "", FieldErrorf("kind", "kind %q is not one of text, image, embedding", s)
	}
	return kind, nil
}
