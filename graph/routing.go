package graph

import (
	"context"
	"fmt"
	"sort"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/graph/model"
)

// orgTarget returns a service target of the viewer's organization.
func orgTarget(ctx context.Context, client *ent.Client, v *auth.Viewer, id int) (*ent.ServiceTarget, error) {
	t, err := client.ServiceTarget.Query().
		Where(servicetarget.ID(id), servicetarget.OrganizationID(v.OrgID)).
		WithService().WithCredential().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("service target")
	}
	if err != nil {
		return nil, fmt.Errorf("look up service target %d: %w", id, err)
	}
	return t, nil
}

// adminTarget returns a target the caller may change (an admin of its
// organization), named in the mutation's audit event.
func adminTarget(ctx context.Context, client *ent.Client, id int) (*ent.ServiceTarget, error) {
	v, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	t, err := orgTarget(ctx, client, v, id)
	if err != nil {
		return nil, err
	}
	auditTarget(ctx, "ServiceTarget", t.ID, targetName(t))
	return t, nil
}

// targetName names a target in the audit log: service → credential.
func targetName(t *ent.ServiceTarget) string {
	svc, cred := "?", "?"
	if t.Edges.Service != nil {
		svc = t.Edges.Service.ServiceName
	}
	if t.Edges.Credential != nil {
		cred = t.Edges.Credential.DisplayName
	}
	return svc + " → " + cred
}

// checkWeight refuses weights below 1: a target that should get no
// traffic is disabled, not weighted zero.
func checkWeight(w *int) error {
	if w != nil && (*w < 1 || *w > 1_000_000) {
		return FieldErrorf("weight", "weight must be from 1 to 1000000 (got %d); disable the target to stop its traffic", *w)
	}
	return nil
}

// modelMap reads a target's model mapping from its GraphQL Map: every
// value a non-empty upstream model name, every key a model name.
func modelMap(m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok {
			return nil, FieldErrorf("modelMap", "modelMap[%q] must be a string: the model name this upstream knows %q by", k, k)
		}
		for _, name := range []string{k, s} {
			if err := checkModelName("modelMap", name); err != nil {
				return nil, err
			}
		}
		out[k] = s
	}
	return out, nil
}

// serviceTargets lists a service's targets in routing order.
func serviceTargets(ctx context.Context, client *ent.Client, serviceID int) ([]*ent.ServiceTarget, error) {
	ts, err := client.ServiceTarget.Query().
		Where(servicetarget.ServiceID(serviceID)).
		Order(ent.Asc(servicetarget.FieldPosition), ent.Asc(servicetarget.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list targets of service %d: %w", serviceID, err)
	}
	return ts, nil
}

// targetState is a target's live state from the proxy; without one (tests,
// a replica that routed nothing yet) every target is healthy.
func (r *Resolver) targetState(id int) *model.TargetState {
	if r.TargetHealth == nil {
		return &model.TargetState{Healthy: true}
	}
	s := r.TargetHealth.Health(id)
	out := &model.TargetState{Healthy: s.Healthy, ConsecutiveFailures: s.ConsecutiveFailures}
	if !s.CoolingDownUntil.IsZero() {
		u := s.CoolingDownUntil.UTC()
		out.CoolingDownUntil = &u
	}
	if s.LastError != "" {
		out.LastError = &s.LastError
	}
	return out
}
