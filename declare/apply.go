package declare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/usererr"
)

// Ops are the admin operations a plan is applied with: the admin API's
// mutations, run over GraphQL or on the local database.
type Ops interface {
	PutAPIStandard(ctx context.Context, handle string, in manage.CreateAPIStandardInput) error
	DeleteAPIStandard(ctx context.Context, handle string) error
	CreateModelPrice(ctx context.Context, in manage.CreateModelPriceInput) error
	UpdateModelPrice(ctx context.Context, id int, in manage.UpdateModelPriceInput) error
	CreateProviderCredential(ctx context.Context, in manage.CreateProviderCredentialInput) (int, error)
	UpdateProviderCredential(ctx context.Context, id int, in manage.UpdateProviderCredentialInput) error
	DeleteProviderCredential(ctx context.Context, id int) error
	CreateService(ctx context.Context, in manage.CreateServiceInput) (int, error)
	UpdateService(ctx context.Context, id int, in manage.UpdateServiceInput) error
	DeleteService(ctx context.Context, id int) error
	AddServiceTarget(ctx context.Context, serviceID int, in manage.AddServiceTargetInput) (int, error)
	UpdateServiceTarget(ctx context.Context, id int, in manage.UpdateServiceTargetInput) error
	RemoveServiceTarget(ctx context.Context, id int) error
	ReorderServiceTargets(ctx context.Context, serviceID int, targetIDs []int) error
	UpdateProjectSettings(ctx context.Context, in manage.UpdateProjectSettingsInput) error
	UpdateOrganizationLimits(ctx context.Context, in manage.UpdateOrganizationLimitsInput) error
}

// PartialError is a failure part way through an apply: Done are the
// changes made before it.
type PartialError struct {
	Done   []Change
	Failed Change
	Err    error
}

func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed: %v", e.Failed, e.Err)
	if len(e.Done) == 0 {
		b.WriteString("\nnothing was changed")
		return b.String()
	}
	fmt.Fprintf(&b, "\n%d change(s) were made before it:", len(e.Done))
	for _, c := range e.Done {
		fmt.Fprintf(&b, "\n  %s", c)
	}
	return b.String()
}

func (e *PartialError) Unwrap() error { return e.Err }

// Apply makes a plan's changes in order with ops, resolving names to IDs
// from cur and from what it creates. On a failure it returns a
// *PartialError saying what was done.
func Apply(ctx context.Context, ops Ops, cur *State, p *Plan) error {
	e := &executor{ops: ops, cur: cur, creds: map[string]int{}, services: map[string]int{}, targets: map[string]map[string]int{}}
	for k, v := range cur.CredIDs {
		e.creds[k] = v
	}
	for k, v := range cur.ServiceIDs {
		e.services[k] = v
	}
	for s, m := range cur.TargetIDs {
		e.targets[s] = map[string]int{}
		for k, v := range m {
			e.targets[s][k] = v
		}
	}
	var done []Change
	for _, c := range p.Changes {
		if err := e.apply(ctx, c); err != nil {
			return &PartialError{Done: done, Failed: c, Err: err}
		}
		done = append(done, c)
	}
	return nil
}

type executor struct {
	ops      Ops
	cur      *State
	creds    map[string]int
	services map[string]int
	targets  map[string]map[string]int
}

func (e *executor) cred(provider, name string) (int, error) {
	id, ok := e.creds[credKey(provider, name)]
	if !ok {
		return 0, fmt.Errorf("there is no %s credential named %q", provider, name)
	}
	return id, nil
}

func (e *executor) apply(ctx context.Context, c Change) error {
	switch c.Kind {
	case KindAPIStandard:
		if c.Action == Delete {
			return e.ops.DeleteAPIStandard(ctx, c.Name)
		}
		s := c.standard
		return e.ops.PutAPIStandard(ctx, s.Handle, manage.CreateAPIStandardInput{APIStandardHandle: s.Handle, Description: s.Description, KeyMethod: s.KeyMethod, KeyField: &s.KeyField})
	case KindPrice:
		p := c.price
		if c.Action == Create {
			return e.ops.CreateModelPrice(ctx, manage.CreateModelPriceInput{Provider: p.Provider, Model: p.Model,
				InputPerMtok: micros(p.InputPerMtok), OutputPerMtok: micros(p.OutputPerMtok),
				CachedInputPerMtok: microsp(p.CachedInputPerMtok), CacheWritePerMtok: microsp(p.CacheWritePerMtok), CacheWrite1hPerMtok: microsp(p.CacheWrite1hPerMtok),
				Kind: &p.Kind, MaxOutputTokens: &p.MaxOutputTokens, Description: &p.Description})
		}
		in, out := micros(p.InputPerMtok), micros(p.OutputPerMtok)
		return e.ops.UpdateModelPrice(ctx, c.id, manage.UpdateModelPriceInput{InputPerMtok: &in, OutputPerMtok: &out,
			CachedInputPerMtok:  graphql.OmittableOf(microsp(p.CachedInputPerMtok)),
			CacheWritePerMtok:   graphql.OmittableOf(microsp(p.CacheWritePerMtok)),
			CacheWrite1hPerMtok: graphql.OmittableOf(microsp(p.CacheWrite1hPerMtok)),
			Kind:                &p.Kind, MaxOutputTokens: &p.MaxOutputTokens, Description: &p.Description})
	case KindCredential:
		return e.credential(ctx, c)
	case KindService:
		return e.service(ctx, c)
	case KindTarget, KindTargetOrder:
		return e.target(ctx, c)
	case KindSettings:
		return e.ops.UpdateProjectSettings(ctx, manage.UpdateProjectSettingsInput{AllowOverwrite: c.settings.AllowOverwrite, AlertWebhookURL: c.secret})
	case KindLimits:
		return e.ops.UpdateOrganizationLimits(ctx, orgLimitsInput(*c.limits))
	}
	return fmt.Errorf("unknown change %s", c.Kind)
}

func (e *executor) credential(ctx context.Context, c Change) error {
	switch c.Action {
	case Delete:
		// A service's own credential goes with it: deleting the service
		// first may have deleted it already.
		if err := e.ops.DeleteProviderCredential(ctx, c.id); err != nil && !isNotFound(err) {
			return err
		}
		return nil
	case Create:
		cr := c.cred
		id, err := e.ops.CreateProviderCredential(ctx, manage.CreateProviderCredentialInput{Provider: cr.Provider, AccountKey: cr.Name,
			DisplayName: &cr.DisplayName, ProviderAPIKey: c.secret, BaseURL: nonEmpty(cr.BaseURL), APIStandardHandle: &cr.APIStandard, Active: cr.Active})
		e.creds[credKey(cr.Provider, cr.Name)] = id
		return err
	}
	cr := c.cred
	return e.ops.UpdateProviderCredential(ctx, c.id, manage.UpdateProviderCredentialInput{DisplayName: &cr.DisplayName,
		ProviderAPIKey: c.secret, BaseURL: &cr.BaseURL, APIStandardHandle: &cr.APIStandard, Active: cr.Active})
}

func (e *executor) service(ctx context.Context, c Change) error {
	if c.Action == Delete {
		return e.ops.DeleteService(ctx, c.id)
	}
	s := c.service
	var credID *int
	if s.Credential != "" {
		id, err := e.cred(s.Provider, s.Credential)
		if err != nil {
			return err
		}
		credID = &id
	}
	l := *s.Limits
	if c.Action == Create {
		id, err := e.ops.CreateService(ctx, manage.CreateServiceInput{ServiceName: s.Name, Description: &s.Description, Provider: s.Provider,
			CredentialID: credID, ModelsEnabled: s.Models, AllowUnpricedModels: &s.AllowUnpricedModels,
			LimitCostHourWarn: microsp(l.CostHourWarn), LimitCostHourBlock: microsp(l.CostHourBlock),
			LimitCostDayWarn: microsp(l.CostDayWarn), LimitCostDayBlock: microsp(l.CostDayBlock),
			LimitCostMonthWarn: microsp(l.CostMonthWarn), LimitCostMonthBlock: microsp(l.CostMonthBlock),
			LimitCostTotalBlock: microsp(l.CostTotalBlock), LimitRpm: l.RPM, LimitTpm: l.TPM, LimitConcurrency: l.Concurrency,
			RequestDefaults: s.RequestDefaults, Active: s.Active, BodyCapture: captureInput(s.BodyCapture)})
		e.services[s.Name] = id
		return err
	}
	return e.ops.UpdateService(ctx, c.id, manage.UpdateServiceInput{Description: &s.Description, CredentialID: credID,
		ModelsEnabled: s.Models, AllowUnpricedModels: &s.AllowUnpricedModels,
		LimitCostHourWarn: omit(microsp(l.CostHourWarn)), LimitCostHourBlock: omit(microsp(l.CostHourBlock)),
		LimitCostDayWarn: omit(microsp(l.CostDayWarn)), LimitCostDayBlock: omit(microsp(l.CostDayBlock)),
		LimitCostMonthWarn: omit(microsp(l.CostMonthWarn)), LimitCostMonthBlock: omit(microsp(l.CostMonthBlock)),
		LimitCostTotalBlock: omit(microsp(l.CostTotalBlock)),
		LimitRpm:            omit(l.RPM), LimitTpm: omit(l.TPM), LimitConcurrency: omit(l.Concurrency),
		RequestDefaults: graphql.OmittableOf(s.RequestDefaults), Active: s.Active, BodyCapture: captureInput(s.BodyCapture)})
}

func (e *executor) target(ctx context.Context, c Change) error {
	svcID, ok := e.services[c.svcName]
	if !ok {
		return fmt.Errorf("there is no service named %q", c.svcName)
	}
	ids := e.targets[c.svcName]
	if ids == nil {
		ids = map[string]int{}
		e.targets[c.svcName] = ids
	}
	if c.Kind == KindTargetOrder {
		order := make([]int, len(c.order))
		for i, k := range c.order {
			order[i] = ids[k]
		}
		return e.ops.ReorderServiceTargets(ctx, svcID, order)
	}
	switch c.Action {
	case Delete:
		return e.ops.RemoveServiceTarget(ctx, c.id)
	case Create:
		t := c.target
		credID, err := e.cred(t.Provider, t.Credential)
		if err != nil {
			return err
		}
		id, err := e.ops.AddServiceTarget(ctx, svcID, manage.AddServiceTargetInput{CredentialID: credID, Weight: &t.Weight, ModelMap: anyMap(t.ModelMap), Enabled: t.Enabled})
		ids[credKey(t.Provider, t.Credential)] = id
		return err
	}
	t := c.target
	mm := anyMap(t.ModelMap)
	if mm == nil {
		mm = map[string]any{}
	}
	return e.ops.UpdateServiceTarget(ctx, c.id, manage.UpdateServiceTargetInput{Weight: &t.Weight, ModelMap: mm, Enabled: t.Enabled})
}

func isNotFound(err error) bool {
	var ue *usererr.Error
	return errors.As(err, &ue) && ue.Code == usererr.CodeNotFound
}

func orgLimitsInput(l Limits) manage.UpdateOrganizationLimitsInput {
	return manage.UpdateOrganizationLimitsInput{LimitRpm: omit(l.RPM), LimitTpm: omit(l.TPM), LimitConcurrency: omit(l.Concurrency),
		LimitCostHourWarn: omit(microsp(l.CostHourWarn)), LimitCostHourBlock: omit(microsp(l.CostHourBlock)),
		LimitCostDayWarn: omit(microsp(l.CostDayWarn)), LimitCostDayBlock: omit(microsp(l.CostDayBlock)),
		LimitCostMonthWarn: omit(microsp(l.CostMonthWarn)), LimitCostMonthBlock: omit(microsp(l.CostMonthBlock)),
		LimitCostTotalBlock: omit(microsp(l.CostTotalBlock))}
}

// omit sets a field that a nil clears.
func omit[T any](v *T) graphql.Omittable[*T] { return graphql.OmittableOf(v) }

func micros(v USD) money.Micros { return money.FromUSD(float64(v)) }

func microsp(v *USD) *money.Micros {
	if v == nil {
		return nil
	}
	m := money.FromUSD(float64(*v))
	return &m
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func anyMap(m map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
