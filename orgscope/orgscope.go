// Package orgscope scopes every read of organization-owned data to the
// organization of the context's viewer (package tenant), in the data layer
// itself: a query, an edge traversal or a node lookup made for a viewer
// sees only that viewer's organization's rows, whoever wrote it.
package orgscope

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/balance"
	"github.com/sluicehq/sluice/ent/intercept"
	"github.com/sluicehq/sluice/ent/projectsettings"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/tenant"
)

// byType names the organization column of each entity that belongs to
// one organization, by ent's type name (Query.Type). Memberships (a
// user's organizations span several), the audit log (instance events have
// no organization) and the shared catalogs are not scoped here; the admin
// API checks those itself.
var byType = map[string]string{
	ent.TypeAPIKey:             apikey.FieldOrganizationID,
	ent.TypeBalance:            balance.FieldOrganizationID,
	ent.TypeProjectSettings:    projectsettings.FieldOrganizationID,
	ent.TypeProviderCredential: providercredential.FieldOrganizationID,
	ent.TypeService:            service.FieldOrganizationID,
	ent.TypeServiceTarget:      servicetarget.FieldOrganizationID,
	ent.TypeUsageRecord:        usagerecord.FieldOrganizationID,
}

// Interceptor filters queries of organization-owned entities by the
// organization of ctx (tenant.OrgFrom). A context scoped to no
// organization (tenant.System, or one no viewer passed through: the
// proxy's cache loads, budgets, usage logging, bootstrap, migrations)
// reads unfiltered. It runs on traversals too, so an edge from a visible
// entity cannot lead into another organization.
func Interceptor() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		org, scoped := tenant.OrgFrom(ctx)
		if !scoped {
			return nil
		}
		if col, owned := byType[q.Type()]; owned {
			q.WhereP(sql.FieldEQ(col, org))
		}
		return nil
	})
}
