package manage

import (
	"context"

	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/providercredential"
)

// CreateProviderCredential stores a provider account of organization
// orgID, its key encrypted.
func (m *Manager) CreateProviderCredential(ctx context.Context, orgID int, input CreateProviderCredentialInput) (*ent.ProviderCredential, error) {
	if err := CheckProvider(input.Provider); err != nil {
		return nil, err
	}
	if err := providercredential.AccountKeyValidator(input.AccountKey); err != nil {
		return nil, err
	}
	if err := m.CheckBaseURL(ctx, input.Provider, input.BaseURL); err != nil {
		return nil, err
	}
	stdID, err := StandardID(ctx, m.Client, input.Provider, input.APIStandardHandle)
	if err != nil {
		return nil, err
	}
	display := input.AccountKey
	if input.DisplayName != nil && *input.DisplayName != "" {
		display = *input.DisplayName
	}
	m.subject(ctx, "ProviderCredential", 0, display)
	var cred *ent.ProviderCredential
	err = withTx(ctx, m.Client, func(tx *ent.Tx) error {
		var err error
		cred, err = tx.ProviderCredential.Create().
			SetOrganizationID(orgID).
			SetProvider(input.Provider).
			SetAccountKey(input.AccountKey).
			SetDisplayName(display).
			SetNillableBaseURL(nonEmpty(input.BaseURL)).
			SetAPIStandardID(stdID).
			SetActive(input.Active == nil || *input.Active).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return Errorf(CodeConflict, "a %q credential with account key %q already exists", input.Provider, input.AccountKey)
		}
		if err != nil || input.ProviderAPIKey == nil {
			return err
		}
		return credentials.SetKey(ctx, m.Keyring, tx.ProviderCredential.UpdateOneID(cred.ID), cred.ID, *input.ProviderAPIKey)
	})
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ProviderCredential", cred.ID, display)
	return m.Client.ProviderCredential.Get(ctx, cred.ID)
}

// UpdateProviderCredential changes the fields given of a credential; an
// empty providerApiKey clears the stored key, an empty baseUrl returns to
// the provider's default.
func (m *Manager) UpdateProviderCredential(ctx context.Context, id int, input UpdateProviderCredentialInput) (*ent.ProviderCredential, error) {
	cred, err := m.Credential(ctx, id)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ProviderCredential", cred.ID, cred.DisplayName)
	if input.BaseURL != nil {
		if err := m.CheckBaseURL(ctx, cred.Provider, input.BaseURL); err != nil {
			return nil, err
		}
	}
	if input.DisplayName != nil {
		if err := providercredential.DisplayNameValidator(*input.DisplayName); err != nil {
			return nil, err
		}
	}
	stdID := (*int)(nil)
	if input.APIStandardHandle != nil {
		id, err := StandardID(ctx, m.Client, cred.Provider, input.APIStandardHandle)
		if err != nil {
			return nil, err
		}
		stdID = &id
	}
	err = withTx(ctx, m.Client, func(tx *ent.Tx) error {
		upd := tx.ProviderCredential.UpdateOneID(cred.ID).
			SetNillableDisplayName(input.DisplayName).
			SetNillableActive(input.Active).
			SetNillableAPIStandardID(stdID)
		if input.BaseURL != nil {
			if *input.BaseURL == "" {
				upd.ClearBaseURL()
			} else {
				upd.SetBaseURL(*input.BaseURL)
			}
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if input.ProviderAPIKey != nil {
			return credentials.SetKey(ctx, m.Keyring, tx.ProviderCredential.UpdateOneID(cred.ID), cred.ID, *input.ProviderAPIKey)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m.Client.ProviderCredential.Get(ctx, cred.ID)
}

// DeleteProviderCredential deletes a credential, refused with CONFLICT
// while services use it or route to it.
func (m *Manager) DeleteProviderCredential(ctx context.Context, id int) error {
	cred, err := m.Credential(ctx, id)
	if err != nil {
		return err
	}
	m.subject(ctx, "ProviderCredential", cred.ID, cred.DisplayName)
	n, err := cred.QueryServices().Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return Errorf(CodeConflict, "provider credential %q is used by %d service%s; point them at another credential first", cred.DisplayName, n, plural(n))
	}
	if n, err = cred.QueryServiceTargets().Count(ctx); err != nil {
		return err
	} else if n > 0 {
		return Errorf(CodeConflict, "provider credential %q is a routing target of %d service%s; remove those targets first", cred.DisplayName, n, plural(n))
	}
	return m.Client.ProviderCredential.DeleteOne(cred).Exec(ctx)
}
