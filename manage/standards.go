package manage

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apistandard"
)

// CreateAPIStandard adds an API standard; its handle must be new.
func (m *Manager) CreateAPIStandard(ctx context.Context, input CreateAPIStandardInput) (*ent.APIStandard, error) {
	if err := checkStandard(input); err != nil {
		return nil, err
	}
	m.subject(ctx, "APIStandard", 0, input.APIStandardHandle)
	std, err := m.Client.APIStandard.Create().
		SetAPIStandardHandle(input.APIStandardHandle).
		SetDescription(input.Description).
		SetKeyMethod(apistandard.KeyMethod(input.KeyMethod)).
		SetKeyField(deref(input.KeyField)).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, Errorf(CodeConflict, "an API standard %q already exists; use putAPIStandard or updateAPIStandard to change it", input.APIStandardHandle)
	}
	if err == nil {
		m.subject(ctx, "APIStandard", std.ID, std.APIStandardHandle)
	}
	return std, err
}

// PutAPIStandard creates or replaces the standard with handle.
func (m *Manager) PutAPIStandard(ctx context.Context, handle string, input CreateAPIStandardInput) (*ent.APIStandard, error) {
	if input.APIStandardHandle != handle {
		return nil, FieldErrorf("apiStandardHandle", "apiStandardHandle %q in the input differs from the handle %q being put", input.APIStandardHandle, handle)
	}
	if err := checkStandard(input); err != nil {
		return nil, err
	}
	id, err := m.Client.APIStandard.Create().
		SetAPIStandardHandle(handle).
		SetDescription(input.Description).
		SetKeyMethod(apistandard.KeyMethod(input.KeyMethod)).
		SetKeyField(deref(input.KeyField)).
		OnConflictColumns(apistandard.FieldAPIStandardHandle).
		UpdateDescription().UpdateKeyMethod().UpdateKeyField().UpdateUpdatedAt().
		ID(ctx)
	if err != nil {
		return nil, err
	}
	m.subject(ctx, "APIStandard", id, handle)
	return m.Client.APIStandard.Get(ctx, id)
}

// checkStandard checks a new standard's handle before anything else; its
// key method and field are checked together by the schema's hook when it
// is saved.
func checkStandard(input CreateAPIStandardInput) error {
	return apistandard.APIStandardHandleValidator(input.APIStandardHandle)
}

// standard returns the API standard with handle.
func (m *Manager) standard(ctx context.Context, handle string) (*ent.APIStandard, error) {
	std, err := m.Client.APIStandard.Query().Where(apistandard.APIStandardHandle(handle)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, NotFound(fmt.Sprintf("API standard %q", handle))
	}
	if err == nil {
		m.subject(ctx, "APIStandard", std.ID, handle)
	}
	return std, err
}

// UpdateAPIStandard changes the fields given of the standard with handle;
// the schema's hook checks the key method and field it leaves.
func (m *Manager) UpdateAPIStandard(ctx context.Context, handle string, input UpdateAPIStandardInput) (*ent.APIStandard, error) {
	std, err := m.standard(ctx, handle)
	if err != nil {
		return nil, err
	}
	upd := std.Update().SetNillableKeyField(input.KeyField).SetNillableDescription(input.Description)
	if input.KeyMethod != nil {
		upd.SetKeyMethod(apistandard.KeyMethod(*input.KeyMethod))
	}
	return upd.Save(ctx)
}

// DeleteAPIStandard deletes the standard with handle, refused with CONFLICT
// while provider credentials use it.
func (m *Manager) DeleteAPIStandard(ctx context.Context, handle string) error {
	std, err := m.standard(ctx, handle)
	if err != nil {
		return err
	}
	n, err := std.QueryProviderCredentials().Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return Errorf(CodeConflict, "API standard %q is referenced by %d provider credential%s; point them at another standard first", handle, n, plural(n))
	}
	return m.Client.APIStandard.DeleteOne(std).Exec(ctx)
}
