// Package manage is the admin data's domain: the operations the admin API
// offers (create a service with its own credential, rotate a service's
// key, delete a service with its keys and budget windows, create an API
// key, …) with their rules. The API's resolvers check who is calling and
// make one call here.
//
// Reads are scoped to the caller's organization by the data layer
// (package orgscope, from the viewer in the context), and committed
// changes are announced on the change feed by its hook (package
// changehook): operations here neither filter by organization nor publish.
package manage

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/secrets"
)

// Manager runs the admin operations on the data layer.
type Manager struct {
	Client  *ent.Client
	Keyring *secrets.Keyring
	// DenyPrivateUpstreams refuses base URLs that resolve to private
	// addresses.
	DenyPrivateUpstreams bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Subject, when set, is told what an operation acts on (its type, id
	// once known, and name) as soon as it is known, so that even a refused
	// operation can be recorded against its target.
	Subject func(ctx context.Context, typ string, id int, name string)
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// subject reports what an operation acts on.
func (m *Manager) subject(ctx context.Context, typ string, id int, name string) {
	if m.Subject != nil {
		m.Subject(ctx, typ, id, name)
	}
}

// Credential returns a provider credential the caller may see.
func (m *Manager) Credential(ctx context.Context, id int) (*ent.ProviderCredential, error) {
	c, err := m.Client.ProviderCredential.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, NotFound("provider credential")
	}
	return c, err
}

// Service returns a service the caller may see.
func (m *Manager) Service(ctx context.Context, id int) (*ent.Service, error) {
	s, err := m.Client.Service.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, NotFound("service")
	}
	return s, err
}

// APIKey returns an API key the caller may see.
func (m *Manager) APIKey(ctx context.Context, id int) (*ent.APIKey, error) {
	k, err := m.Client.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, NotFound("API key")
	}
	return k, err
}

// Target returns a service target the caller may see, with its service and
// credential.
func (m *Manager) Target(ctx context.Context, id int) (*ent.ServiceTarget, error) {
	t, err := m.Client.ServiceTarget.Query().
		Where(servicetarget.ID(id)).
		WithService().WithCredential().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, NotFound("service target")
	}
	if err != nil {
		return nil, fmt.Errorf("look up service target %d: %w", id, err)
	}
	return t, nil
}

// withTx runs fn in a transaction, rolling back on error. Under a context
// that carries a transaction (ent.NewTxContext) fn runs in that one, which
// its owner commits or rolls back: several operations then change
// everything or nothing.
func withTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	return database.InTx(ctx, client, fn)
}
