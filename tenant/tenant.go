// Package tenant carries the organization a request acts in through its
// context, for the data layer to scope what that request may read. It
// imports nothing of Sluice's, so that auth, which sets it, and the ent
// interceptor, which reads it, both depend on it without a cycle.
package tenant

import "context"

type key struct{}

// scope is what a context says about tenancy: an organization, or the
// system acting across all of them.
type scope struct {
	orgID  int
	system bool
}

// WithOrg returns ctx scoped to the organization orgID: reads of
// organization-owned data see that organization's rows only.
func WithOrg(ctx context.Context, orgID int) context.Context {
	return context.WithValue(ctx, key{}, scope{orgID: orgID})
}

// Without returns ctx with no tenancy of its own, as if no viewer had
// passed through it (a websocket connection that re-authenticates).
func Without(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, scope{})
}

// System returns ctx marked as the system's: reads see every
// organization. A request uses it for the one step that must cross
// organizations, such as an instance admin topping up another one's
// balance.
func System(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, scope{system: true})
}

// OrgFrom returns the organization ctx is scoped to, and false when it is
// scoped to none: a system context, or one no viewer passed through
// (the proxy, budgets, usage logging, bootstrap and migrations).
func OrgFrom(ctx context.Context) (int, bool) {
	s, _ := ctx.Value(key{}).(scope)
	return s.orgID, !s.system && s.orgID != 0
}
