package manage

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/balance"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/tenant"
)

// ProjectSettings returns the caller's organization's settings.
func (m *Manager) ProjectSettings(ctx context.Context) (*ent.ProjectSettings, error) {
	return m.Client.ProjectSettings.Query().Only(ctx)
}

// UpdateProjectSettings changes the fields given of the caller's
// organization's settings. An empty alertWebhookUrl removes it; the masked
// form of the stored URL, as the API shows it, keeps it.
func (m *Manager) UpdateProjectSettings(ctx context.Context, input UpdateProjectSettingsInput) (*ent.ProjectSettings, error) {
	ps, err := m.ProjectSettings(ctx)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ProjectSettings", ps.ID, "")
	upd := ps.Update().SetNillableAllowOverwrite(input.AllowOverwrite)
	if url := input.AlertWebhookURL; url != nil && !isMaskedWebhook(*url, ps.AlertWebhookURL) {
		if *url == "" {
			upd.ClearAlertWebhookURL()
		} else if err := providers.ValidateBaseURL(*url); err != nil {
			return nil, FieldErrorf("alertWebhookUrl", "alertWebhookUrl: %s", err.Error())
		} else {
			upd.SetAlertWebhookURL(*url)
		}
	}
	return upd.Save(ctx)
}

// isMaskedWebhook reports whether an update gives back the masked form of
// the stored URL, as a form that shows the setting and saves it whole
// does: that keeps the URL rather than storing its mask.
func isMaskedWebhook(given string, stored *string) bool {
	return stored != nil && given != *stored && given == secrets.MaskURL(*stored)
}

// Organization returns the caller's organization.
func (m *Manager) Organization(ctx context.Context, orgID int) (*ent.Organization, error) {
	o, err := m.Client.Organization.Get(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("load organization %d: %w", orgID, err)
	}
	return o, nil
}

// UpdateOrganizationLimits changes the limits given of organization
// orgID's cost and pace limits, which cap all its services and keys
// together: a value replaces a limit, a null removes it.
func (m *Manager) UpdateOrganizationLimits(ctx context.Context, orgID int, input UpdateOrganizationLimitsInput) (*ent.Organization, error) {
	org, err := m.Organization(ctx, orgID)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "Organization", org.ID, org.Name)
	lim := limitsOf(org).patch(limitChanges(input))
	if err := lim.validate(); err != nil {
		return nil, err
	}
	upd := org.Update()
	if err := lim.apply(upd.Mutation()); err != nil {
		return nil, err
	}
	if err := applyPace(upd.Mutation(), paceChanges(input.LimitRpm, input.LimitTpm, input.LimitConcurrency)); err != nil {
		return nil, err
	}
	return upd.Save(ctx)
}

// Balance returns the caller's organization's prepaid balance.
func (m *Manager) Balance(ctx context.Context) (*ent.Balance, error) {
	return m.Client.Balance.Query().Only(ctx)
}

// TopUpBalance adds amount to the prepaid balance of organization orgID,
// which an instance admin may name for any organization.
func (m *Manager) TopUpBalance(ctx context.Context, orgID int, amount money.Micros) (*ent.Balance, error) {
	if amount <= 0 {
		return nil, FieldErrorf("amount", "amount must be more than zero")
	}
	m.subject(ctx, "Balance", orgID, "")
	return m.updateBalance(ctx, m.Client.Balance.Update().Where(balance.OrganizationID(orgID)).AddCurrentBalance(amount), orgID)
}

// UpdateBalance changes the fields given of organization orgID's balance.
func (m *Manager) UpdateBalance(ctx context.Context, orgID int, input UpdateBalanceInput) (*ent.Balance, error) {
	m.subject(ctx, "Balance", orgID, "")
	upd := m.Client.Balance.Update().Where(balance.OrganizationID(orgID)).SetNillableEnforced(input.Enforced)
	if input.Currency != nil {
		if len(*input.Currency) != 3 || strings.ToUpper(*input.Currency) != *input.Currency {
			return nil, FieldErrorf("currency", "currency must be a three-letter ISO 4217 code such as USD")
		}
		upd.SetCurrency(*input.Currency)
	}
	return m.updateBalance(ctx, upd, orgID)
}

// updateBalance saves upd and reads the balance back. An instance admin
// acts on another organization's balance here, so the read is the
// system's, bounded by orgID.
func (m *Manager) updateBalance(ctx context.Context, upd *ent.BalanceUpdate, orgID int) (*ent.Balance, error) {
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, NotFound("organization")
	}
	return m.Client.Balance.Query().Where(balance.OrganizationID(orgID)).Only(tenant.System(ctx))
}
