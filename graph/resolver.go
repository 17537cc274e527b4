package graph

import (
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/proxy"
	"github.com/sluicehq/sluice/secrets"
)

// Resolver is the root of the GraphQL resolvers; it carries what they
// depend on. A resolver checks who is calling and makes one call: the
// admin operations and their rules are package manage's, the scoping of
// reads to the caller's organization package orgscope's, and the change
// feed is told by package changehook's hook (see publishChanges).
type Resolver struct {
	Client *ent.Client
	// DB is the database under Client, for the hand-written SQL of the
	// packages resolvers call (budgets, usage reports).
	DB      *database.DB
	Log     *slog.Logger
	Auth    *auth.Authenticator
	Keyring *secrets.Keyring
	Budgets budget.Ledger
	Prober  *headroom.Prober
	// Feed carries live events to subscriptions.
	Feed *livefeed.Hub
	// CredentialTests limits testProviderCredential per caller, 10 a
	// minute: each test calls the provider with the credential.
	CredentialTests *auth.Limiter
	// Changes tells every replica's caches (the proxy's key cache) that
	// admin data changed; nil in tests that have no proxy.
	Changes Publisher
	// DenyPrivateUpstreams refuses base URLs that resolve to private
	// addresses (SLUICE_DENY_PRIVATE_UPSTREAMS).
	DenyPrivateUpstreams bool
	// TargetHealth tells a routed service's targets' live state (the
	// proxy's memory of 429s and failures); nil reports every target
	// healthy.
	TargetHealth TargetHealth
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// TargetHealth is where the admin API reads the state of a service's
// targets: the proxy, which learns it from real traffic.
type TargetHealth interface {
	Health(targetID int) proxy.TargetState
}

// Publisher announces a change to a topic (see package changefeed).
type Publisher = changehook.Publisher

// manager runs the admin operations for the resolvers, telling the audit
// log what each acts on.
func (r *Resolver) manager() *manage.Manager {
	return &manage.Manager{Client: r.Client, Keyring: r.Keyring, DenyPrivateUpstreams: r.DenyPrivateUpstreams,
		Now: r.Now, Subject: auditTarget}
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
