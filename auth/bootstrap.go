package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/organization"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/ent/user"
)

// DefaultOrganization returns the organization created at first start,
// creating it (with its settings and balance) if it does not exist yet.
func DefaultOrganization(ctx context.Context, client *ent.Client) (*ent.Organization, error) {
	org, err := client.Organization.Query().Where(organization.IsDefault(true)).Only(ctx)
	if err == nil {
		return org, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up default organization: %w", err)
	}
	return CreateOrganization(ctx, client, "Default", true)
}

// CreateOrganization creates an organization with its project settings and
// balance, in one transaction.
func CreateOrganization(ctx context.Context, client *ent.Client, name string, isDefault bool) (*ent.Organization, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	org, err := tx.Organization.Create().SetName(name).SetIsDefault(isDefault).Save(ctx)
	if err == nil {
		err = tx.ProjectSettings.Create().SetOrganizationID(org.ID).Exec(ctx)
	}
	if err == nil {
		err = tx.Balance.Create().SetOrganizationID(org.ID).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("create organization %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create organization %q: %w", name, err)
	}
	return org, nil
}

// Bootstrap creates the default organization and, if there are no users
// at all, an admin named "admin" with password (generated when empty). It
// returns the password it set, or "" when users already existed.
func Bootstrap(ctx context.Context, client *ent.Client, password string) (string, error) {
	org, err := DefaultOrganization(ctx, client)
	if err != nil {
		return "", err
	}
	n, err := client.User.Query().Count(ctx)
	if err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if password == "" {
		password = GeneratePassword()
	}
	if err := CreateUser(ctx, client, "admin", password, org.ID, RoleAdmin); err != nil {
		return "", err
	}
	return password, nil
}

// CreateUser creates a user with a membership in org.
func CreateUser(ctx context.Context, client *ent.Client, username, password string, orgID int, role Role) error {
	hash, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("create user %q: %w", username, err)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("create user %q: %w", username, err)
	}
	u, err := tx.User.Create().SetUsername(username).SetPasswordHash(hash).Save(ctx)
	if err == nil {
		err = tx.Membership.Create().SetUserID(u.ID).SetOrganizationID(orgID).SetRole(membership.Role(role)).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return fmt.Errorf("user %q already exists", username)
		}
		return fmt.Errorf("create user %q: %w", username, err)
	}
	return tx.Commit()
}

// ResetPassword sets a user's password and ends all of the user's
// sessions.
func ResetPassword(ctx context.Context, client *ent.Client, username, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	u, err := client.User.Query().Where(user.Username(username)).Only(ctx)
	if ent.IsNotFound(err) {
		return fmt.Errorf("no user named %q", username)
	}
	if err != nil {
		return fmt.Errorf("reset password of %q: %w", username, err)
	}
	if err := client.User.UpdateOneID(u.ID).SetPasswordHash(hash).Exec(ctx); err != nil {
		return fmt.Errorf("reset password of %q: %w", username, err)
	}
	if _, err := endSessions(ctx, client.Session, time.Now(), session.UserID(u.ID)); err != nil {
		return fmt.Errorf("reset password of %q: %w", username, err)
	}
	return nil
}

// OrganizationNamed returns the organization with that name; an error
// when there is none or several.
func OrganizationNamed(ctx context.Context, client *ent.Client, name string) (*ent.Organization, error) {
	orgs, err := client.Organization.Query().Where(organization.Name(name)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up organization %q: %w", name, err)
	}
	switch len(orgs) {
	case 0:
		return nil, fmt.Errorf("no organization named %q", name)
	case 1:
		return orgs[0], nil
	}
	return nil, fmt.Errorf("%d organizations are named %q; rename one through the admin API", len(orgs), name)
}
