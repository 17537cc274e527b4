package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/balance"
	"github.com/sluicehq/sluice/ent/invitation"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/projectsettings"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/tenant"
	"github.com/sluicehq/sluice/usererr"
)

// Members lists the memberships of an organization with their users, by
// username.
func Members(ctx context.Context, client *ent.Client, orgID int) ([]*ent.Membership, error) {
	ms, err := client.Membership.Query().
		Where(membership.OrganizationID(orgID)).
		WithUser().
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	sortByUsername(ms)
	return ms, nil
}

func sortByUsername(ms []*ent.Membership) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && strings.ToLower(ms[j].Edges.User.Username) < strings.ToLower(ms[j-1].Edges.User.Username); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// Memberships lists the organizations the user belongs to, oldest
// membership first.
func Memberships(ctx context.Context, client *ent.Client, userID int) ([]*ent.Membership, error) {
	ms, err := client.Membership.Query().
		Where(membership.UserID(userID)).
		WithOrganization().
		Order(ent.Asc(membership.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return ms, nil
}

// AddMember gives the user a membership in org with role; CONFLICT when
// the user is a member already.
func AddMember(ctx context.Context, client *ent.Client, userID, orgID int, role Role) (*ent.Membership, error) {
	m, err := client.Membership.Create().SetUserID(userID).SetOrganizationID(orgID).SetRole(membership.Role(role)).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, usererr.Errorf(usererr.CodeConflict, "already a member of this organization")
	}
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	return m, nil
}

// ErrLastAdmin refuses what would leave an organization without an admin.
var ErrLastAdmin = &usererr.Error{Code: usererr.CodeConflict, Field: "userId",
	Message: "this is the organization's last admin; make another member an admin first"}

// changeMembership runs change on the user's membership in org inside a
// transaction that first locks the organization's row, so that two
// admins demoting or removing each other at once cannot both succeed and
// leave the organization without one. keepsAdmin says whether the
// membership is still an admin's after the change; when it is not, the
// change is refused if no other admin remains.
func changeMembership(ctx context.Context, client *ent.Client, userID, orgID int, keepsAdmin bool,
	change func(tx *ent.Tx, m *ent.Membership) error) (*ent.Membership, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("change membership: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// The update takes the row's lock on PostgreSQL (SQLite's write lock
	// covers the whole database).
	if err := tx.Organization.UpdateOneID(orgID).SetUpdatedAt(nowUTC()).Exec(tenant.System(ctx)); err != nil {
		return nil, fmt.Errorf("change membership: lock organization: %w", err)
	}
	m, err := tx.Membership.Query().Where(membership.UserID(userID), membership.OrganizationID(orgID)).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, &usererr.Error{Code: usererr.CodeNotFound, Field: "userId", Message: "no such member in this organization"}
	}
	if err != nil {
		return nil, fmt.Errorf("change membership: %w", err)
	}
	if m.Role == membership.RoleAdmin && !keepsAdmin {
		admins, err := tx.Membership.Query().Where(membership.OrganizationID(orgID), membership.RoleEQ(membership.RoleAdmin)).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("change membership: count admins: %w", err)
		}
		if admins <= 1 {
			return nil, ErrLastAdmin
		}
	}
	if err := change(tx, m); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("change membership: %w", err)
	}
	return m, nil
}

// SetMemberRole changes a member's role; the last admin cannot be demoted.
func SetMemberRole(ctx context.Context, client *ent.Client, userID, orgID int, role Role) (*ent.Membership, error) {
	return changeMembership(ctx, client, userID, orgID, role == RoleAdmin, func(tx *ent.Tx, m *ent.Membership) error {
		if err := tx.Membership.UpdateOneID(m.ID).SetRole(membership.Role(role)).Exec(ctx); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		m.Role = membership.Role(role)
		return nil
	})
}

// RemoveMember takes the user out of org and ends the user's sessions in
// it; the last admin cannot be removed.
func (a *Authenticator) RemoveMember(ctx context.Context, userID, orgID int) (*ent.Membership, error) {
	return changeMembership(ctx, a.Client, userID, orgID, false, func(tx *ent.Tx, m *ent.Membership) error {
		if err := tx.Membership.DeleteOneID(m.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		_, err := endSessions(ctx, tx.Session, a.now(), session.UserID(userID), session.OrganizationID(orgID))
		return err
	})
}

// CreateOrganizationWithAdmin creates an organization whose first admin is
// the user (none for 0).
func CreateOrganizationWithAdmin(ctx context.Context, client *ent.Client, name string, adminID int) (*ent.Organization, error) {
	org, err := CreateOrganization(ctx, client, name, false)
	if err != nil {
		return nil, err
	}
	if adminID != 0 {
		if _, err := AddMember(ctx, client, adminID, org.ID, RoleAdmin); err != nil {
			return nil, err
		}
	}
	return org, nil
}

// DeleteOrganization deletes an organization with its memberships,
// invitations, sessions, settings and balance. It is refused with CONFLICT
// for the default organization and while the organization has services,
// provider credentials or keys, which are named; its usage history and
// audit events stay.
func DeleteOrganization(ctx context.Context, client *ent.Client, orgID int) error {
	ctx = tenant.System(ctx)
	org, err := client.Organization.Get(ctx, orgID)
	if ent.IsNotFound(err) {
		return usererr.NotFound("organization")
	}
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	if org.IsDefault {
		return usererr.Errorf(usererr.CodeConflict, "the default organization cannot be deleted")
	}
	names, err := client.Service.Query().Where(service.OrganizationID(orgID)).
		Order(ent.Asc(service.FieldServiceName)).Limit(11).Select(service.FieldServiceName).Strings(ctx)
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	if len(names) > 0 {
		list := names
		if len(list) > 10 {
			list = append(list[:10:10], "…")
		}
		return &usererr.Error{Code: usererr.CodeConflict, Field: "id",
			Message: fmt.Sprintf("organization %q still has services (%s); delete them first", org.Name, strings.Join(list, ", "))}
	}
	creds, err := client.ProviderCredential.Query().Where(providercredential.OrganizationID(orgID)).Count(ctx)
	if err == nil && creds == 0 {
		creds, err = client.APIKey.Query().Where(apikey.OrganizationID(orgID)).Count(ctx)
	}
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	if creds > 0 {
		return &usererr.Error{Code: usererr.CodeConflict, Field: "id",
			Message: fmt.Sprintf("organization %q still has provider credentials or keys; delete them first", org.Name)}
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	steps := []func() error{
		func() error { _, err := tx.Session.Delete().Where(session.OrganizationID(orgID)).Exec(ctx); return err },
		func() error {
			_, err := tx.Invitation.Delete().Where(invitation.OrganizationID(orgID)).Exec(ctx)
			return err
		},
		func() error {
			_, err := tx.Membership.Delete().Where(membership.OrganizationID(orgID)).Exec(ctx)
			return err
		},
		func() error {
			_, err := tx.ProjectSettings.Delete().Where(projectsettings.OrganizationID(orgID)).Exec(ctx)
			return err
		},
		func() error { _, err := tx.Balance.Delete().Where(balance.OrganizationID(orgID)).Exec(ctx); return err },
		func() error { return tx.Organization.DeleteOneID(orgID).Exec(ctx) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("delete organization %q: %w", org.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete organization %q: %w", org.Name, err)
	}
	return nil
}
