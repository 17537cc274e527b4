package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/graph/model"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/pace"
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
	// Pace is the proxy's pace limiter, whose view of each limit's use the
	// API shows; nil shows every limit unused.
	Pace   pace.Limiter
	Prober *headroom.Prober
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
	// SSO is single sign-on, which the login screen offers; nil when off.
	SSO *auth.OIDC
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

// paceOf is s's pace limits in force with their use.
func (r *Resolver) paceOf(s pace.Subject) []*model.PaceLimit {
	var statuses []pace.Status
	if r.Pace != nil {
		statuses = r.Pace.Status([]pace.Subject{s})
	} else {
		for _, k := range []pace.Kind{pace.RPM, pace.TPM, pace.Concurrency} {
			if l := s.Limits.Of(k); l > 0 {
				statuses = append(statuses, pace.Status{Kind: k, Limit: l, Remaining: l})
			}
		}
	}
	out := make([]*model.PaceLimit, 0, len(statuses))
	for _, st := range statuses {
		out = append(out, &model.PaceLimit{Kind: st.Kind.String(), Limit: int(st.Limit), Remaining: int(st.Remaining),
			ResetsInSeconds: st.Reset.Seconds()})
	}
	return out
}

// viewerOrganization is the caller's organization.
func (r *Resolver) viewerOrganization(ctx context.Context) (*ent.Organization, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.manager().Organization(ctx, v.OrgID)
}
