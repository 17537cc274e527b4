package manage

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apistandard"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/modelname"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/upstream"
)

// CheckProvider refuses a provider Sluice does not know.
func CheckProvider(name string) error {
	if err := providers.Validate(name); err != nil {
		return FieldErrorf("provider", "%s", err.Error())
	}
	return nil
}

// CheckBaseURL refuses a base URL the provider cannot use, and with
// DenyPrivateUpstreams one whose host resolves to a private address.
func (m *Manager) CheckBaseURL(ctx context.Context, provider string, raw *string) error {
	if err := checkBaseURL(provider, raw); err != nil || !m.DenyPrivateUpstreams || raw == nil || *raw == "" {
		return err
	}
	u, _ := url.Parse(*raw)
	if err := upstream.CheckPublicHost(ctx, u.Hostname()); err != nil {
		return FieldErrorf("baseUrl", "baseUrl: %s", err.Error())
	}
	return nil
}

func checkBaseURL(provider string, raw *string) error {
	if raw == nil || *raw == "" {
		if provider == providers.Custom {
			return FieldErrorf("baseUrl", "baseUrl is required for provider custom: the OpenAI-compatible endpoint, e.g. https://llm.example.com/v1")
		}
		return nil
	}
	if err := providers.ValidateBaseURL(*raw); err != nil {
		return FieldErrorf("baseUrl", "baseUrl: %s", err.Error())
	}
	return nil
}

// StandardID resolves an API standard handle, or the provider's default.
func StandardID(ctx context.Context, client *ent.Client, provider string, handle *string) (int, error) {
	h := ""
	if handle != nil && *handle != "" {
		h = *handle
	} else if p, ok := providers.Lookup(provider); ok {
		h = p.APIStandard
	}
	std, err := client.APIStandard.Query().Where(apistandard.APIStandardHandle(h)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, FieldErrorf("apiStandardHandle", "there is no API standard %q; see the apiStandards query", h)
	}
	if err != nil {
		return 0, err
	}
	return std.ID, nil
}

// checkModels refuses models the price catalog does not know for the
// provider, unless the service allows unpriced models: usage of a model
// without a price would otherwise be recorded as free.
func checkModels(ctx context.Context, client *ent.Client, provider string, models []string, allowUnpriced bool) error {
	seen := map[string]bool{}
	for _, m := range models {
		if err := checkModelName("modelsEnabled", m); err != nil {
			return err
		}
		if seen[m] {
			return FieldErrorf("modelsEnabled", "model %q is listed twice", m)
		}
		seen[m] = true
	}
	if allowUnpriced || len(models) == 0 {
		return nil
	}
	known, err := client.ModelPrice.Query().
		Where(modelprice.Provider(provider), modelprice.ModelIn(models...)).
		Select(modelprice.FieldModel).Strings(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, k := range known {
		have[k] = true
	}
	var unknown []string
	for _, m := range models {
		if !have[m] {
			unknown = append(unknown, m)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return FieldErrorf("modelsEnabled", "the price catalog has no %s model %s; add its price (createModelPrice) or set allowUnpricedModels to record its usage as unpriced",
			provider, strings.Join(quoteAll(unknown), ", "))
	}
	return nil
}

// checkModelName refuses, as an error on field, a model name the proxy would
// refuse in a request (modelname.Check).
func checkModelName(field, m string) error {
	if err := modelname.Check(m); err != nil {
		return FieldErrorf(field, "%s: %q is not a valid model name: %s", field, m, err.Error())
	}
	return nil
}

// checkCacheWritePrice refuses a zero cache-write price: pricing reads
// zero as no price and would bill the writes as plain input while the
// dashboard showed $0.00. Null is how to say the provider has none.
func checkCacheWritePrice(field string, price *money.Micros) error {
	if price != nil && *price == 0 {
		return FieldErrorf(field, "%s must be above zero; leave it null if the provider bills cache writes as plain input", field)
	}
	return nil
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// ownCredential returns the credential created for a service from its
// providerApiKey, or nil when it has none. Ownership is by the service's
// id, so it survives a rename.
func ownCredential(ctx context.Context, client *ent.Client, serviceID int) (*ent.ProviderCredential, error) {
	c, err := client.ProviderCredential.Query().Where(providercredential.OwnerServiceID(serviceID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find the own credential of service %d: %w", serviceID, err)
	}
	return c, nil
}

// serviceAccountKey is the account key an own credential is created with;
// it labels the account and never decides ownership.
func serviceAccountKey(serviceName string) string { return "service:" + serviceName }

func checkExpiry(t *time.Time, now time.Time) error {
	if t != nil && !t.After(now) {
		return FieldErrorf("expiresAt", "expiresAt %s is in the past", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// createServiceCredential stores a service's providerApiKey as a credential
// of its own (account key "service:<name>"), so that rotating the service's
// key never touches a credential other services share. owner is the
// service's id, or nil while the service is still being created (its create
// then sets the edge).
func (m *Manager) createServiceCredential(ctx context.Context, tx *ent.Tx, orgID int, provider, serviceName string, owner *int, baseURL *string, key string) (int, error) {
	stdID, err := StandardID(ctx, tx.Client(), provider, nil)
	if err != nil {
		return 0, err
	}
	cred, err := tx.ProviderCredential.Create().
		SetOrganizationID(orgID).
		SetProvider(provider).
		SetAccountKey(serviceAccountKey(serviceName)).
		SetDisplayName(serviceName).
		SetNillableBaseURL(nonEmpty(baseURL)).
		SetAPIStandardID(stdID).
		SetNillableOwnerServiceID(owner).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return 0, Errorf(CodeConflict, "a %s credential for service %q already exists; pass credentialId to use it", provider, serviceName)
	}
	if err != nil {
		return 0, err
	}
	if err := credentials.SetKey(ctx, m.Keyring, tx.ProviderCredential.UpdateOneID(cred.ID), cred.ID, key); err != nil {
		return 0, err
	}
	return cred.ID, nil
}

// rotateServiceKey writes a service's new providerApiKey: into its own
// credential when it has one, else into a new own credential named after
// name, the service's name once the update is done.
func (m *Manager) rotateServiceKey(ctx context.Context, tx *ent.Tx, svc *ent.Service, name, key string) (int, error) {
	own, err := ownCredential(ctx, tx.Client(), svc.ID)
	if err != nil {
		return 0, err
	}
	if own != nil {
		return own.ID, credentials.SetKey(ctx, m.Keyring, tx.ProviderCredential.UpdateOneID(own.ID), own.ID, key)
	}
	return m.createServiceCredential(ctx, tx, svc.OrganizationID, svc.Provider, name, &svc.ID, nil, key)
}

// renameOwnCredential carries a service's rename over to the labels of its
// own credential, so that a new service may take the old name with a
// providerApiKey of its own. Labels an admin changed, or a new label some
// other credential already has, stay as they are.
func renameOwnCredential(ctx context.Context, tx *ent.Tx, svc *ent.Service, name string) error {
	own, err := ownCredential(ctx, tx.Client(), svc.ID)
	if err != nil || own == nil || own.AccountKey != serviceAccountKey(svc.ServiceName) {
		return err
	}
	taken, err := tx.ProviderCredential.Query().
		Where(providercredential.OrganizationID(own.OrganizationID), providercredential.Provider(own.Provider),
			providercredential.AccountKey(serviceAccountKey(name))).
		Exist(ctx)
	if err != nil || taken {
		return err
	}
	upd := tx.ProviderCredential.UpdateOneID(own.ID).SetAccountKey(serviceAccountKey(name))
	if own.DisplayName == svc.ServiceName {
		upd.SetDisplayName(name)
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("rename the own credential of service %d: %w", svc.ID, err)
	}
	return nil
}

// releaseSharedOwnCredential lets a service's own credential outlive the
// service when another service or another service's routing target uses
// it; otherwise deleting the service deletes it too (the owner edge
// cascades).
func releaseSharedOwnCredential(ctx context.Context, tx *ent.Tx, svcID int) error {
	own, err := ownCredential(ctx, tx.Client(), svcID)
	if err != nil || own == nil {
		return err
	}
	used, err := tx.Service.Query().Where(service.CredentialID(own.ID), service.IDNEQ(svcID)).Exist(ctx)
	if err != nil {
		return err
	}
	if !used {
		if used, err = tx.ServiceTarget.Query().Where(servicetarget.CredentialID(own.ID), servicetarget.ServiceIDNEQ(svcID)).Exist(ctx); err != nil {
			return err
		}
	}
	if !used {
		return nil
	}
	return tx.ProviderCredential.UpdateOneID(own.ID).ClearOwnerServiceID().Exec(ctx)
}

// deleteBudgets removes the spend windows of scopes, with the key or
// service they belong to: deleting a key or a service removes its budget
// configuration.
func deleteBudgets(ctx context.Context, tx *ent.Tx, scope spendwindow.Scope, ids ...int) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.SpendWindow.Delete().Where(spendwindow.ScopeEQ(scope), spendwindow.ScopeIDIn(ids...)).Exec(ctx)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(i *int) int {
	if i == nil {
		return 0
	}
	return *i
}

func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
