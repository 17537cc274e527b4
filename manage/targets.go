package manage

import (
	"context"
	"fmt"
	"sort"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/providers"
)

// AddServiceTarget adds a credential of the service's provider as the
// service's last routing target.
func (m *Manager) AddServiceTarget(ctx context.Context, serviceID int, input AddServiceTargetInput) (*ent.ServiceTarget, error) {
	svc, err := m.Service(ctx, serviceID)
	if err != nil {
		return nil, err
	}
	cred, err := m.Credential(ctx, input.CredentialID)
	if err != nil {
		return nil, err
	}
	name := svc.ServiceName + " → " + cred.DisplayName
	m.subject(ctx, "ServiceTarget", 0, name)
	if err := checkWeight(input.Weight); err != nil {
		return nil, err
	}
	mm, err := modelMap(input.ModelMap)
	if err != nil {
		return nil, err
	}
	weight := 1
	if input.Weight != nil {
		weight = *input.Weight
	}
	var t *ent.ServiceTarget
	err = withTx(ctx, m.Client, func(tx *ent.Tx) error {
		pos, err := nextTargetPosition(ctx, tx, svc, cred)
		if err != nil {
			return err
		}
		t, err = tx.ServiceTarget.Create().
			SetOrganizationID(svc.OrganizationID).
			SetServiceID(svc.ID).
			SetCredentialID(cred.ID).
			SetPosition(pos).
			SetWeight(weight).
			SetModelMap(mm).
			SetEnabled(input.Enabled == nil || *input.Enabled).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return Errorf(CodeConflict, "credential %q is already a target of service %q", cred.DisplayName, svc.ServiceName)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "ServiceTarget", t.ID, name)
	return m.Client.ServiceTarget.Get(ctx, t.ID)
}

// nextTargetPosition is the position after svc's last target, refused
// when svc has the most targets a service may have or already routes to
// cred.
func nextTargetPosition(ctx context.Context, tx *ent.Tx, svc *ent.Service, cred *ent.ProviderCredential) (int, error) {
	existing, err := tx.ServiceTarget.Query().Where(servicetarget.ServiceID(svc.ID)).All(ctx)
	if err != nil {
		return 0, err
	}
	if len(existing) >= providers.MaxServiceTargets {
		return 0, FieldErrorf("serviceId", "service %q has %d targets already, the most a service may have", svc.ServiceName, len(existing))
	}
	pos := 0
	for _, e := range existing {
		if e.CredentialID == cred.ID {
			return 0, Errorf(CodeConflict, "credential %q is already a target of service %q", cred.DisplayName, svc.ServiceName)
		}
		pos = max(pos, e.Position+1)
	}
	return pos, nil
}

// target returns a target the caller may see, named as the operation's
// subject.
func (m *Manager) target(ctx context.Context, id int) (*ent.ServiceTarget, error) {
	t, err := m.Target(ctx, id)
	if err == nil {
		m.subject(ctx, "ServiceTarget", t.ID, targetName(t))
	}
	return t, err
}

// UpdateServiceTarget changes the fields given of a target.
func (m *Manager) UpdateServiceTarget(ctx context.Context, id int, input UpdateServiceTargetInput) (*ent.ServiceTarget, error) {
	t, err := m.target(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkWeight(input.Weight); err != nil {
		return nil, err
	}
	upd := m.Client.ServiceTarget.UpdateOneID(t.ID).SetNillableWeight(input.Weight).SetNillableEnabled(input.Enabled)
	if input.ModelMap != nil {
		mm, err := modelMap(input.ModelMap)
		if err != nil {
			return nil, err
		}
		upd.SetModelMap(mm)
	}
	t, err = upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update service target %d: %w", id, err)
	}
	return t, nil
}

// RemoveServiceTarget removes a target from its service's routing.
func (m *Manager) RemoveServiceTarget(ctx context.Context, id int) error {
	t, err := m.target(ctx, id)
	if err != nil {
		return err
	}
	if err := m.Client.ServiceTarget.DeleteOneID(t.ID).Exec(ctx); err != nil {
		return fmt.Errorf("remove service target %d: %w", id, err)
	}
	return nil
}

// ReorderServiceTargets puts a service's targets in the order of
// targetIDs, which must name each of them once.
func (m *Manager) ReorderServiceTargets(ctx context.Context, serviceID int, targetIDs []int) ([]*ent.ServiceTarget, error) {
	svc, err := m.Service(ctx, serviceID)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "Service", svc.ID, svc.ServiceName)
	err = withTx(ctx, m.Client, func(tx *ent.Tx) error {
		have, err := tx.ServiceTarget.Query().Where(servicetarget.ServiceID(svc.ID)).IDs(ctx)
		if err != nil {
			return err
		}
		if err := checkTargetOrder(svc, have, targetIDs); err != nil {
			return err
		}
		for pos, id := range targetIDs {
			if err := tx.ServiceTarget.UpdateOneID(id).SetPosition(pos).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m.ServiceTargets(ctx, svc.ID)
}

// checkTargetOrder refuses an order that does not name each of svc's
// targets, have, exactly once.
func checkTargetOrder(svc *ent.Service, have, order []int) error {
	own := make(map[int]bool, len(have))
	for _, id := range have {
		own[id] = true
	}
	seen := make(map[int]bool, len(order))
	for _, id := range order {
		switch {
		case !own[id]:
			return FieldErrorf("targetIds", "target %d is not a target of service %q", id, svc.ServiceName)
		case seen[id]:
			return FieldErrorf("targetIds", "target %d is listed twice", id)
		}
		seen[id] = true
	}
	if len(order) != len(have) {
		return FieldErrorf("targetIds", "list every target of service %q once: it has %d, the list names %d", svc.ServiceName, len(have), len(order))
	}
	return nil
}

// ServiceTargets lists a service's targets in routing order.
func (m *Manager) ServiceTargets(ctx context.Context, serviceID int) ([]*ent.ServiceTarget, error) {
	ts, err := m.Client.ServiceTarget.Query().
		Where(servicetarget.ServiceID(serviceID)).
		Order(ent.Asc(servicetarget.FieldPosition), ent.Asc(servicetarget.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list targets of service %d: %w", serviceID, err)
	}
	return ts, nil
}

// targetName names a target: service → credential.
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

// checkWeight checks a given weight early, by the schema's rule.
func checkWeight(w *int) error {
	if w == nil {
		return nil
	}
	return servicetarget.WeightValidator(*w)
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
