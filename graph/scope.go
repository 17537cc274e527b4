package graph

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
)

// visible reports whether v may see node n: what belongs to an
// organization is visible in that organization only, the audit log to its
// admins only; API standards and the price catalog are shared.
func visible(v *auth.Viewer, n ent.Noder) bool {
	switch x := n.(type) {
	case *ent.APIStandard, *ent.ModelPrice:
		return true
	case *ent.Organization:
		return x.ID == v.OrgID
	case *ent.User:
		return x.ID == v.UserID
	case *ent.Membership:
		return x.OrganizationID == v.OrgID
	case *ent.ProviderCredential:
		return x.OrganizationID == v.OrgID
	case *ent.Service:
		return x.OrganizationID == v.OrgID
	case *ent.ServiceTarget:
		return x.OrganizationID == v.OrgID
	case *ent.APIKey:
		return x.OrganizationID == v.OrgID
	case *ent.UsageRecord:
		return x.OrganizationID == v.OrgID
	case *ent.AuditEvent:
		return x.OrganizationID != nil && *x.OrganizationID == v.OrgID && v.IsAdmin()
	case *ent.ProjectSettings:
		return x.OrganizationID == v.OrgID
	case *ent.Balance:
		return x.OrganizationID == v.OrgID
	}
	return false // a new type is hidden until it is added here
}

// withoutFieldCollection returns a context that keeps ctx's cancellation
// but not its GraphQL field context. ent's Noder otherwise selects only the
// requested columns, and visible would see an organization ID of zero.
func withoutFieldCollection(ctx context.Context) context.Context {
	plain, cancel := context.WithCancel(context.Background())
	context.AfterFunc(ctx, cancel)
	return plain
}

// visibleNode loads the node with id if v may see it. A missing node, an id
// of no known type and another organization's node all get the same
// NOT_FOUND, so that an answer never tells which ids exist elsewhere.
func (r *Resolver) visibleNode(ctx context.Context, v *auth.Viewer, id int) (ent.Noder, error) {
	n, err := r.Client.Noder(withoutFieldCollection(ctx), id)
	switch {
	case err == nil && visible(v, n):
		return n, nil
	case err == nil || ent.IsNotFound(err):
		return nil, notFound("node")
	}
	return nil, fmt.Errorf("load node %d: %w", id, err)
}
