package manage

import (
	"context"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/ent/spendwindow"
)

// CreateService creates a service of organization orgID, calling its
// provider with a credential of its own (from providerApiKey) or an
// existing one of the same provider (credentialId).
func (m *Manager) CreateService(ctx context.Context, orgID int, input CreateServiceInput) (*ent.Service, error) {
	if err := service.ServiceNameValidator(input.ServiceName); err != nil {
		return nil, err
	}
	if err := CheckProvider(input.Provider); err != nil {
		return nil, err
	}
	lim := limitsOf(input)
	if err := lim.validate(); err != nil {
		return nil, err
	}
	allowUnpriced := input.AllowUnpricedModels != nil && *input.AllowUnpricedModels
	if err := checkModels(ctx, m.Client, input.Provider, input.ModelsEnabled, allowUnpriced); err != nil {
		return nil, err
	}
	if err := m.checkCredentialChoice(ctx, input.Provider, input.ProviderAPIKey, input.CredentialID); err != nil {
		return nil, err
	}
	capture, err := bodyCapture(nil, input.BodyCapture)
	if err != nil {
		return nil, err
	}
	if input.ProviderAPIKey != nil {
		if err := m.CheckBaseURL(ctx, input.Provider, input.BaseURL); err != nil {
			return nil, err
		}
	}
	m.subject(ctx, "Service", 0, input.ServiceName)
	var svc *ent.Service
	err = withTx(ctx, m.Client, func(tx *ent.Tx) error {
		credID, ownID := input.CredentialID, (*int)(nil)
		if input.ProviderAPIKey != nil {
			id, err := m.createServiceCredential(ctx, tx, orgID, input.Provider, input.ServiceName, nil, input.BaseURL, *input.ProviderAPIKey)
			if err != nil {
				return err
			}
			credID, ownID = &id, &id
		}
		create := tx.Service.Create().
			SetOrganizationID(orgID).
			SetServiceName(input.ServiceName).
			SetDescription(deref(input.Description)).
			SetProvider(input.Provider).
			SetNillableCredentialID(credID).
			SetNillableOwnCredentialID(ownID).
			SetModelsEnabled(input.ModelsEnabled).
			SetAllowUnpricedModels(allowUnpriced).
			SetRequestDefaults(input.RequestDefaults).
			SetActive(input.Active == nil || *input.Active)
		if capture != nil {
			create.SetBodyCapture(capture)
		}
		if err := lim.apply(create.Mutation()); err != nil {
			return err
		}
		if err := applyPace(create.Mutation(), paceGiven(input.LimitRpm, input.LimitTpm, input.LimitConcurrency)); err != nil {
			return err
		}
		var err error
		svc, err = create.Save(ctx)
		return serviceConflict(err, input.ServiceName)
	})
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "Service", svc.ID, svc.ServiceName)
	// Read it again outside the transaction: edges resolved later must not
	// use the committed transaction's connection.
	return m.Client.Service.Get(ctx, svc.ID)
}

// checkCredentialChoice refuses both a providerApiKey and a credentialId,
// and a credential of another provider.
func (m *Manager) checkCredentialChoice(ctx context.Context, provider string, key *string, credID *int) error {
	if key != nil && credID != nil {
		return FieldErrorf("providerApiKey", "give providerApiKey or credentialId, not both")
	}
	if credID == nil {
		return nil
	}
	cred, err := m.Credential(ctx, *credID)
	if err != nil {
		return err
	}
	if cred.Provider != provider {
		return FieldErrorf("credentialId", "credential %q is for %s, not %s", cred.DisplayName, cred.Provider, provider)
	}
	return nil
}

// serviceConflict names the taken service name of a constraint error.
func serviceConflict(err error, name string) error {
	if ent.IsConstraintError(err) {
		return Errorf(CodeConflict, "a service named %q already exists", name)
	}
	return err
}

// serviceChange is an update of a service, checked and resolved against
// the service as it is: the name, models and limits it will have.
type serviceChange struct {
	input         UpdateServiceInput
	name          string
	models        []string
	allowUnpriced bool
	limits        limits
	// capture is the new body capture setting; nil for no change.
	capture *schema.BodyCapture
}

// planServiceChange checks an update of svc.
func (m *Manager) planServiceChange(ctx context.Context, svc *ent.Service, input UpdateServiceInput) (*serviceChange, error) {
	c := &serviceChange{input: input, name: svc.ServiceName, models: svc.ModelsEnabled, allowUnpriced: svc.AllowUnpricedModels}
	if input.ServiceName != nil {
		if err := service.ServiceNameValidator(*input.ServiceName); err != nil {
			return nil, err
		}
		c.name = *input.ServiceName
	}
	c.limits = limitsOf(svc).patch(limitChanges(input))
	if err := c.limits.validate(); err != nil {
		return nil, err
	}
	if input.ModelsEnabled != nil {
		c.models = input.ModelsEnabled
	}
	if input.AllowUnpricedModels != nil {
		c.allowUnpriced = *input.AllowUnpricedModels
	}
	if input.ModelsEnabled != nil || input.AllowUnpricedModels != nil {
		if err := checkModels(ctx, m.Client, svc.Provider, c.models, c.allowUnpriced); err != nil {
			return nil, err
		}
	}
	if err := m.checkCredentialChoice(ctx, svc.Provider, input.ProviderAPIKey, input.CredentialID); err != nil {
		return nil, err
	}
	capture, err := bodyCapture(svc.BodyCapture, input.BodyCapture)
	if err != nil {
		return nil, err
	}
	c.capture = capture
	return c, nil
}

// UpdateService changes the fields given of a service: a new
// providerApiKey rotates the service's own credential (creating it if the
// service used a shared one), a rename carries over to that credential's
// labels, and a limit given as null is removed.
func (m *Manager) UpdateService(ctx context.Context, id int, input UpdateServiceInput) (*ent.Service, error) {
	svc, err := m.Service(ctx, id)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "Service", svc.ID, svc.ServiceName)
	c, err := m.planServiceChange(ctx, svc, input)
	if err != nil {
		return nil, err
	}
	if err := withTx(ctx, m.Client, func(tx *ent.Tx) error { return m.applyServiceChange(ctx, tx, svc, c) }); err != nil {
		return nil, err
	}
	return m.Client.Service.Get(ctx, svc.ID)
}

// applyServiceChange writes a checked update of svc in tx.
func (m *Manager) applyServiceChange(ctx context.Context, tx *ent.Tx, svc *ent.Service, c *serviceChange) error {
	upd := tx.Service.UpdateOneID(svc.ID).
		SetServiceName(c.name).
		SetModelsEnabled(c.models).
		SetAllowUnpricedModels(c.allowUnpriced).
		SetNillableDescription(c.input.Description).
		SetNillableActive(c.input.Active).
		SetNillableCredentialID(c.input.CredentialID)
	if c.capture != nil {
		upd.SetBodyCapture(c.capture)
	}
	if rd, set := c.input.RequestDefaults.ValueOK(); set {
		if rd == nil {
			upd.ClearRequestDefaults()
		} else {
			upd.SetRequestDefaults(rd)
		}
	}
	if c.input.ProviderAPIKey != nil {
		credID, err := m.rotateServiceKey(ctx, tx, svc, c.name, *c.input.ProviderAPIKey)
		if err != nil {
			return err
		}
		upd.SetCredentialID(credID)
	}
	if c.name != svc.ServiceName {
		if err := renameOwnCredential(ctx, tx, svc, c.name); err != nil {
			return err
		}
	}
	if err := applyPace(upd.Mutation(), paceChanges(c.input.LimitRpm, c.input.LimitTpm, c.input.LimitConcurrency)); err != nil {
		return err
	}
	if err := c.limits.apply(upd.Mutation()); err != nil {
		return err
	}
	return serviceConflict(upd.Exec(ctx), c.name)
}

// DeleteService deletes a service with its client keys and the budget
// windows of both. Its own credential goes with it unless another service
// or another service's routing target uses it; a shared one stays.
func (m *Manager) DeleteService(ctx context.Context, id int) error {
	svc, err := m.Service(ctx, id)
	if err != nil {
		return err
	}
	m.subject(ctx, "Service", svc.ID, svc.ServiceName)
	return withTx(ctx, m.Client, func(tx *ent.Tx) error {
		keys, err := tx.APIKey.Query().Where(apikey.ServiceID(svc.ID)).IDs(ctx)
		if err != nil {
			return err
		}
		if err := deleteBudgets(ctx, tx, spendwindow.ScopeKey, keys...); err != nil {
			return err
		}
		if _, err := tx.APIKey.Delete().Where(apikey.IDIn(keys...)).Exec(ctx); err != nil {
			return err
		}
		if err := deleteBudgets(ctx, tx, spendwindow.ScopeService, svc.ID); err != nil {
			return err
		}
		// The targets and the own credential go explicitly, before the
		// service whose cascade would take them, so that their deletion is
		// a change the data layer sees and announces.
		if _, err := tx.ServiceTarget.Delete().Where(servicetarget.ServiceID(svc.ID)).Exec(ctx); err != nil {
			return err
		}
		if err := releaseSharedOwnCredential(ctx, tx, svc.ID); err != nil {
			return err
		}
		if _, err := tx.ProviderCredential.Delete().Where(providercredential.OwnerServiceID(svc.ID)).Exec(ctx); err != nil {
			return err
		}
		return tx.Service.DeleteOneID(svc.ID).Exec(ctx)
	})
}
