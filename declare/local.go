package declare

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/apistandard"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/tenant"
)

// Local applies a file to a database directly, as the command line does
// without a server: in one transaction, scoped to one organization, every
// change audited as the command line (Actor).
type Local struct {
	Client  *ent.Client
	Keyring *secrets.Keyring
	OrgID   int
	// Actor names the command line in the audit log.
	Actor string
}

// ReadState reads the organization's state, and the shared catalogs: the
// command line may change them all.
func (l *Local) ReadState(ctx context.Context) (*State, error) {
	return readLocal(tenant.WithOrg(ctx, l.OrgID), l.Client, l.Keyring, l.OrgID)
}

// Run reads the state, plans the file against it and, unless dryRun,
// applies the plan in one transaction: a failure changes nothing.
func (l *Local) Run(ctx context.Context, f *File, opts Options, dryRun bool) (*Plan, error) {
	ctx = tenant.WithOrg(ctx, l.OrgID)
	tx, err := l.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	client := tx.Client()
	cur, err := readLocal(ctx, client, l.Keyring, l.OrgID)
	if err != nil {
		return nil, err
	}
	p, err := MakePlan(f, cur, opts)
	if err != nil || dryRun || p.Empty() {
		return p, err
	}
	ops := &localOps{tx: tx, orgID: l.OrgID, actor: l.Actor,
		m: &manage.Manager{Client: client, Keyring: l.Keyring}}
	ops.m.Subject = ops.subject
	if err := Apply(ent.NewTxContext(ctx, tx), ops, cur, p); err != nil {
		if pe, ok := err.(*PartialError); ok {
			// The transaction is rolled back: nothing was made.
			pe.Done = nil
		}
		return p, err
	}
	if err := tx.Commit(); err != nil {
		return p, fmt.Errorf("commit (nothing changed): %w", err)
	}
	return p, nil
}

func readLocal(ctx context.Context, client *ent.Client, kr *secrets.Keyring, orgID int) (*State, error) {
	st := NewState()
	st.InstanceAdmin = true
	org, err := client.Organization.Get(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("read organization %d: %w", orgID, err)
	}
	st.Organization = org.Name
	l := limitsOf([7]*money.Micros{org.LimitCostHourWarn, org.LimitCostHourBlock, org.LimitCostDayWarn, org.LimitCostDayBlock,
		org.LimitCostMonthWarn, org.LimitCostMonthBlock, org.LimitCostTotalBlock}, org.LimitRpm, org.LimitTpm, org.LimitConcurrency)
	st.Limits = &l

	stds, err := client.APIStandard.Query().Order(ent.Asc(apistandard.FieldAPIStandardHandle)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read API standards: %w", err)
	}
	for _, s := range stds {
		st.APIStandards = append(st.APIStandards, APIStandard{Handle: s.APIStandardHandle, Description: s.Description, KeyMethod: string(s.KeyMethod), KeyField: s.KeyField})
	}
	prices, err := client.ModelPrice.Query().Order(ent.Asc(modelprice.FieldProvider), ent.Asc(modelprice.FieldModel)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	for _, p := range prices {
		key := p.Provider + "/" + p.Model
		st.PriceIDs[key], st.Customized[key] = p.ID, p.Customized
		st.Prices = append(st.Prices, normalPrice(Price{Provider: p.Provider, Model: p.Model, InputPerMtok: USD(p.InputPerMtok.USD()), OutputPerMtok: USD(p.OutputPerMtok.USD()),
			CachedInputPerMtok: usdp(p.CachedInputPerMtok), CacheWritePerMtok: usdp(p.CacheWritePerMtok), CacheWrite1hPerMtok: usdp(p.CacheWrite1hPerMtok),
			Kind: string(p.Kind), MaxOutputTokens: p.MaxOutputTokens, Description: p.Description}))
	}

	ps, err := client.ProjectSettings.Query().Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	st.Settings = &Settings{AllowOverwrite: boolp(ps.AllowOverwrite)}
	if ps.AlertWebhookURL != nil && *ps.AlertWebhookURL != "" {
		st.Webhook = SecretState{Set: true, Exact: true, Value: *ps.AlertWebhookURL}
		st.Settings.AlertWebhookURL = &Secret{Env: "SLUICE_ALERT_WEBHOOK_URL"}
	}

	creds, err := client.ProviderCredential.Query().WithAPIStandard().
		Order(ent.Asc(providercredential.FieldProvider), ent.Asc(providercredential.FieldAccountKey)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	owners := map[int]string{} // service ID → the credential key it owns
	for _, c := range creds {
		key := credKey(c.Provider, c.AccountKey)
		st.CredIDs[key], st.CredNames[c.ID] = c.ID, key
		if c.OwnerServiceID != nil {
			owners[*c.OwnerServiceID] = key
		}
		cr := Credential{Name: c.AccountKey, Provider: c.Provider, DisplayName: c.DisplayName, Active: boolp(c.Active)}
		if c.BaseURL != nil {
			cr.BaseURL = *c.BaseURL
		}
		if c.Edges.APIStandard != nil {
			cr.APIStandard = c.Edges.APIStandard.APIStandardHandle
		}
		if credentials.HasKey(c) {
			v, err := credentials.Key(kr, c)
			if err != nil {
				return nil, err
			}
			st.Keys[key] = SecretState{Set: true, Exact: true, Value: v}
			cr.APIKey = &Secret{Env: envName(c.Provider, c.AccountKey)}
		}
		st.Credentials = append(st.Credentials, normalCredential(cr))
	}

	svcs, err := client.Service.Query().Order(ent.Asc(service.FieldServiceName)).
		WithTargets(func(q *ent.ServiceTargetQuery) {
			q.Order(ent.Asc(servicetarget.FieldPosition), ent.Asc(servicetarget.FieldID))
		}).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read services: %w", err)
	}
	for _, s := range svcs {
		sv := Service{Name: s.ServiceName, Provider: s.Provider, Description: s.Description, Models: s.ModelsEnabled,
			AllowUnpricedModels: s.AllowUnpricedModels, Active: boolp(s.Active), RequestDefaults: s.RequestDefaults, BodyCapture: s.BodyCapture}
		lim := limitsOf([7]*money.Micros{s.LimitCostHourWarn, s.LimitCostHourBlock, s.LimitCostDayWarn, s.LimitCostDayBlock,
			s.LimitCostMonthWarn, s.LimitCostMonthBlock, s.LimitCostTotalBlock}, s.LimitRpm, s.LimitTpm, s.LimitConcurrency)
		sv.Limits = &lim
		if s.CredentialID != nil {
			sv.Credential = credName(st.CredNames[*s.CredentialID])
		}
		st.ServiceIDs[s.ServiceName] = s.ID
		if own, ok := owners[s.ID]; ok {
			st.OwnedCredential[s.ServiceName] = own
		}
		st.TargetIDs[s.ServiceName] = map[string]int{}
		for _, t := range s.Edges.Targets {
			key := st.CredNames[t.CredentialID]
			prov, name := splitCredKey(key)
			st.TargetIDs[s.ServiceName][key] = t.ID
			sv.Targets = append(sv.Targets, Target{Credential: name, Provider: prov, Weight: t.Weight, Enabled: boolp(t.Enabled), ModelMap: t.ModelMap})
		}
		st.Services = append(st.Services, normalService(sv))
	}
	st.OwnersKnown = true
	if err := readServiceKeys(ctx, client, st); err != nil {
		return nil, err
	}
	st.sort()
	return st, nil
}

// readServiceKeys lists each service's API keys by name.
func readServiceKeys(ctx context.Context, client *ent.Client, st *State) error {
	names := map[int]string{}
	for name, id := range st.ServiceIDs {
		names[id] = name
	}
	keys, err := client.APIKey.Query().Where(apikey.ServiceIDNotNil()).Order(ent.Asc(apikey.FieldName), ent.Asc(apikey.FieldID)).All(ctx)
	if err != nil {
		return fmt.Errorf("read API keys: %w", err)
	}
	for _, k := range keys {
		if svc, ok := names[*k.ServiceID]; ok {
			st.ServiceKeys[svc] = append(st.ServiceKeys[svc], k.Name)
		}
	}
	return nil
}

func usdp(m *money.Micros) *USD {
	if m == nil {
		return nil
	}
	v := USD(m.USD())
	return &v
}

func intp(v *int64) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

// limitsOf reads the seven cost limits (hour, day, month warn and block,
// total block) and the three pace limits.
func limitsOf(cost [7]*money.Micros, rpm, tpm, concurrency *int64) Limits {
	return Limits{RPM: intp(rpm), TPM: intp(tpm), Concurrency: intp(concurrency),
		CostHourWarn: usdp(cost[0]), CostHourBlock: usdp(cost[1]), CostDayWarn: usdp(cost[2]), CostDayBlock: usdp(cost[3]),
		CostMonthWarn: usdp(cost[4]), CostMonthBlock: usdp(cost[5]), CostTotalBlock: usdp(cost[6])}
}

// localOps runs the admin operations in one transaction, recording each
// in the audit log as the command line.
type localOps struct {
	tx    *ent.Tx
	m     *manage.Manager
	orgID int
	actor string

	typ, id, name string
}

func (o *localOps) subject(_ context.Context, typ string, id int, name string) {
	o.typ, o.name = typ, name
	if id != 0 {
		o.id = fmt.Sprint(id)
	}
}

// do runs one operation and, when it succeeds, audits it.
func (o *localOps) do(ctx context.Context, action string, input any, op func() error) error {
	o.typ, o.id, o.name = "", "", ""
	if err := op(); err != nil {
		return err
	}
	return o.tx.AuditEvent.Create().
		SetOrganizationID(o.orgID).
		SetActorType(auditevent.ActorTypeSystem).
		SetActorName(o.actor).
		SetAction(action).
		SetTargetType(o.typ).SetTargetID(o.id).SetTargetName(o.name).
		SetChanges(auditChanges(input)).
		SetOutcome(auditevent.OutcomeSuccess).
		Exec(ctx)
}

// auditChanges lists an input's fields as the API's audit log does:
// secrets as "changed".
func auditChanges(input any) map[string]string {
	out := map[string]string{}
	m, _ := inputValue(input).(map[string]any)
	for k, v := range m {
		switch {
		case k == "providerApiKey" || k == "alertWebhookUrl":
			out[k] = "changed"
		default:
			out[k] = show(v)
		}
	}
	return out
}

func (o *localOps) PutAPIStandard(ctx context.Context, handle string, in manage.CreateAPIStandardInput) error {
	return o.do(ctx, "putAPIStandard", in, func() error { _, err := o.m.PutAPIStandard(ctx, handle, in); return err })
}

func (o *localOps) DeleteAPIStandard(ctx context.Context, handle string) error {
	return o.do(ctx, "deleteAPIStandard", map[string]string{"handle": handle}, func() error { return o.m.DeleteAPIStandard(ctx, handle) })
}

func (o *localOps) CreateModelPrice(ctx context.Context, in manage.CreateModelPriceInput) error {
	return o.do(ctx, "createModelPrice", in, func() error { _, err := o.m.CreateModelPrice(ctx, in); return err })
}

func (o *localOps) UpdateModelPrice(ctx context.Context, id int, in manage.UpdateModelPriceInput) error {
	return o.do(ctx, "updateModelPrice", in, func() error { _, err := o.m.UpdateModelPrice(ctx, id, in); return err })
}

func (o *localOps) CreateProviderCredential(ctx context.Context, in manage.CreateProviderCredentialInput) (int, error) {
	var id int
	err := o.do(ctx, "createProviderCredential", in, func() error {
		c, err := o.m.CreateProviderCredential(ctx, o.orgID, in)
		if err == nil {
			id = c.ID
		}
		return err
	})
	return id, err
}

func (o *localOps) UpdateProviderCredential(ctx context.Context, id int, in manage.UpdateProviderCredentialInput) error {
	return o.do(ctx, "updateProviderCredential", in, func() error { _, err := o.m.UpdateProviderCredential(ctx, id, in); return err })
}

func (o *localOps) DeleteProviderCredential(ctx context.Context, id int) error {
	return o.do(ctx, "deleteProviderCredential", map[string]int{"id": id}, func() error { return o.m.DeleteProviderCredential(ctx, id) })
}

func (o *localOps) CreateService(ctx context.Context, in manage.CreateServiceInput) (int, error) {
	var id int
	err := o.do(ctx, "createService", in, func() error {
		s, err := o.m.CreateService(ctx, o.orgID, in)
		if err == nil {
			id = s.ID
		}
		return err
	})
	return id, err
}

func (o *localOps) UpdateService(ctx context.Context, id int, in manage.UpdateServiceInput) error {
	return o.do(ctx, "updateService", in, func() error { _, err := o.m.UpdateService(ctx, id, in); return err })
}

func (o *localOps) DeleteService(ctx context.Context, id int) error {
	return o.do(ctx, "deleteService", map[string]int{"id": id}, func() error { return o.m.DeleteService(ctx, id) })
}

func (o *localOps) AddServiceTarget(ctx context.Context, serviceID int, in manage.AddServiceTargetInput) (int, error) {
	var id int
	err := o.do(ctx, "addServiceTarget", in, func() error {
		t, err := o.m.AddServiceTarget(ctx, serviceID, in)
		if err == nil {
			id = t.ID
		}
		return err
	})
	return id, err
}

func (o *localOps) UpdateServiceTarget(ctx context.Context, id int, in manage.UpdateServiceTargetInput) error {
	return o.do(ctx, "updateServiceTarget", in, func() error { _, err := o.m.UpdateServiceTarget(ctx, id, in); return err })
}

func (o *localOps) RemoveServiceTarget(ctx context.Context, id int) error {
	return o.do(ctx, "removeServiceTarget", map[string]int{"id": id}, func() error { return o.m.RemoveServiceTarget(ctx, id) })
}

func (o *localOps) ReorderServiceTargets(ctx context.Context, serviceID int, ids []int) error {
	return o.do(ctx, "reorderServiceTargets", map[string]any{"serviceId": serviceID, "targetIds": ids}, func() error {
		_, err := o.m.ReorderServiceTargets(ctx, serviceID, ids)
		return err
	})
}

func (o *localOps) UpdateProjectSettings(ctx context.Context, in manage.UpdateProjectSettingsInput) error {
	return o.do(ctx, "updateProjectSettings", in, func() error { _, err := o.m.UpdateProjectSettings(ctx, in); return err })
}

func (o *localOps) UpdateOrganizationLimits(ctx context.Context, in manage.UpdateOrganizationLimitsInput) error {
	return o.do(ctx, "updateOrganizationLimits", in, func() error { _, err := o.m.UpdateOrganizationLimits(ctx, o.orgID, in); return err })
}
