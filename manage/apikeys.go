package manage

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/spendwindow"
)

// CreateAPIKey creates a client key of organization orgID: for a service,
// or a management key for the admin API. The secret is in the answer only.
func (m *Manager) CreateAPIKey(ctx context.Context, orgID int, input CreateAPIKeyInput) (*CreatedAPIKey, error) {
	if err := apikey.NameValidator(input.Name); err != nil {
		return nil, err
	}
	mgmt := input.IsManagementKey != nil && *input.IsManagementKey
	switch {
	case mgmt && input.ServiceID != nil:
		return nil, FieldErrorf("serviceId", "a management key belongs to the organization, not a service; omit serviceId")
	case !mgmt && input.ServiceID == nil:
		return nil, FieldErrorf("serviceId", "serviceId is required: the service this key calls (or set isManagementKey)")
	}
	var svc *ent.Service
	if input.ServiceID != nil {
		var err error
		if svc, err = m.Service(ctx, *input.ServiceID); err != nil {
			return nil, err
		}
	}
	if err := checkExpiry(input.ExpiresAt, m.now()); err != nil {
		return nil, err
	}
	lim := limitsOf(input)
	if err := lim.validate(); err != nil {
		return nil, err
	}
	gen, err := clientkey.New()
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "APIKey", 0, input.Name)
	create := m.Client.APIKey.Create().
		SetOrganizationID(orgID).
		SetNillableServiceID(input.ServiceID).
		SetName(input.Name).
		SetDescription(deref(input.Description)).
		SetKeyHash(gen.Hash).
		SetKeyPrefix(gen.Prefix).
		SetKeyLastFour(gen.LastFour).
		SetNillableExpiresAt(utc(input.ExpiresAt)).
		SetIsActive(input.IsActive == nil || *input.IsActive).
		SetIsManagementKey(mgmt)
	if err := lim.apply(create.Mutation()); err != nil {
		return nil, err
	}
	if err := applyPace(create.Mutation(), paceGiven(input.LimitRpm, input.LimitTpm, input.LimitConcurrency)); err != nil {
		return nil, err
	}
	k, err := create.Save(ctx)
	if err != nil {
		return nil, keyConflict(err, input.Name)
	}
	m.subject(ctx, "APIKey", k.ID, k.Name)
	// The service just read is the key's service edge: what the answer
	// asks of it (its name, spend, pace) needs no second read.
	k.Edges.Service = svc
	return &CreatedAPIKey{APIKey: k, Key: gen.Plaintext}, nil
}

// keyConflict names the taken key name of a constraint error.
func keyConflict(err error, name string) error {
	if ent.IsConstraintError(err) {
		return Errorf(CodeConflict, "an API key named %q already exists", name)
	}
	return err
}

// key returns a key the caller may see, named as the operation's subject.
func (m *Manager) key(ctx context.Context, id int) (*ent.APIKey, error) {
	k, err := m.APIKey(ctx, id)
	if err == nil {
		m.subject(ctx, "APIKey", k.ID, k.Name)
	}
	return k, err
}

// UpdateAPIKey changes the fields given of a key; a limit or expiry given
// as null is removed.
func (m *Manager) UpdateAPIKey(ctx context.Context, id int, input UpdateAPIKeyInput) (*ent.APIKey, error) {
	k, err := m.key(ctx, id)
	if err != nil {
		return nil, err
	}
	lim := limitsOf(k).patch(limitChanges(input))
	if err := lim.validate(); err != nil {
		return nil, err
	}
	if input.Name != nil {
		if err := apikey.NameValidator(*input.Name); err != nil {
			return nil, err
		}
	}
	upd := m.Client.APIKey.UpdateOneID(k.ID).
		SetNillableName(input.Name).
		SetNillableDescription(input.Description).
		SetNillableIsActive(input.IsActive)
	if exp, set := input.ExpiresAt.ValueOK(); set {
		if exp == nil {
			upd.ClearExpiresAt()
		} else {
			if err := checkExpiry(exp, m.now()); err != nil {
				return nil, err
			}
			upd.SetExpiresAt(exp.UTC())
		}
	}
	if err := lim.apply(upd.Mutation()); err != nil {
		return nil, err
	}
	if err := applyPace(upd.Mutation(), paceChanges(input.LimitRpm, input.LimitTpm, input.LimitConcurrency)); err != nil {
		return nil, err
	}
	k, err = upd.Save(ctx)
	if err != nil {
		return nil, keyConflict(err, deref(input.Name))
	}
	return k, nil
}

// RotateAPIKey gives a key a new secret with the same settings; the old
// one stops working at once.
func (m *Manager) RotateAPIKey(ctx context.Context, id int) (*CreatedAPIKey, error) {
	k, err := m.key(ctx, id)
	if err != nil {
		return nil, err
	}
	gen, err := clientkey.New()
	if err != nil {
		return nil, err
	}
	k, err = m.Client.APIKey.UpdateOneID(k.ID).
		SetKeyHash(gen.Hash).SetKeyPrefix(gen.Prefix).SetKeyLastFour(gen.LastFour).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	return &CreatedAPIKey{APIKey: k, Key: gen.Plaintext}, nil
}

// DeleteAPIKey deletes the key named name with its budget windows; never
// callerKeyID, the management key making the call.
func (m *Manager) DeleteAPIKey(ctx context.Context, name string, callerKeyID int) error {
	k, err := m.Client.APIKey.Query().Where(apikey.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		return NotFound(fmt.Sprintf("API key %q", name))
	}
	if err != nil {
		return err
	}
	m.subject(ctx, "APIKey", k.ID, k.Name)
	if k.ID == callerKeyID {
		return FieldErrorf("name", "%q is the management key making this call; delete it with another management key or as a logged-in admin", name)
	}
	return withTx(ctx, m.Client, func(tx *ent.Tx) error {
		if err := deleteBudgets(ctx, tx, spendwindow.ScopeKey, k.ID); err != nil {
			return err
		}
		return tx.APIKey.DeleteOneID(k.ID).Exec(ctx)
	})
}
