package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sluicehq/sluice/bodycapture"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/apistandard"
	"github.com/sluicehq/sluice/ent/balance"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/projectsettings"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/upstream"
)

// keyEntry is everything a request with one client key needs, resolved once
// from the database and then served from memory: the key, its service, the
// upstream (base URL, auth, decrypted provider key) and the enabled models'
// prices. Entries are immutable once cached; a change replaces them.
type keyEntry struct {
	loaded time.Time

	key *ent.APIKey
	svc *ent.Service // nil for a management key
	org *ent.Organization
	// enforceBalance is the organization's prepaid-balance switch.
	enforceBalance bool
	// allowOverwrite is the organization's project setting:
	// when false, the service's request defaults override the client's.
	allowOverwrite bool

	provider providers.Provider
	// upstreamConf is the service's single credential; unused when the
	// service has targets.
	upstreamConf
	// targets are the service's enabled, usable targets in position
	// order; empty for a service that calls its single credential.
	targets []*target
	// misconfigured, when set, refuses every request of the key with 503:
	// the service cannot reach its upstream until an admin fixes it.
	misconfigured *apiError

	// capture is the service's body capture policy; nil when off.
	capture *bodycapture.Policy

	models map[string]modelInfo
	// enabled is models_enabled sorted, for /v1/models and messages.
	enabled []string
}

// upstreamConf is where and how requests reach one provider credential.
type upstreamConf struct {
	credID *int
	base   *url.URL
	method apistandard.KeyMethod
	field  string
	secret string // the provider key; never logged or answered
	// credName is the credential's account key, its name among the
	// organization's credentials of its provider; empty without one.
	credName string
}

// modelInfo is an enabled model's price; priced is false when the catalog
// has none (the service allows unpriced models).
type modelInfo struct {
	price  pricing.Price
	priced bool
}

// keyCache maps a key's hash to its entry. Any admin change flushes it
// whole (changes are rare; precision is not worth the bookkeeping), a TTL
// bounds staleness if a signal is ever lost, and unknown hashes are
// remembered briefly so a flood of wrong keys does not become a flood of
// queries.
type keyCache struct {
	ttl, negTTL time.Duration
	load        func(ctx context.Context, hash string) (*keyEntry, error)

	mu        sync.RWMutex
	gen       uint64
	entries   map[string]*keyEntry
	negatives map[string]time.Time
	flight    singleflight.Group
}

// maxNegatives bounds the memory a garbage-key flood can take.
const maxNegatives = 10_000

func newKeyCache(ttl, negTTL time.Duration, load func(context.Context, string) (*keyEntry, error)) *keyCache {
	return &keyCache{ttl: ttl, negTTL: negTTL, load: load,
		entries: make(map[string]*keyEntry), negatives: make(map[string]time.Time)}
}

// get returns the entry of hash, nil for an unknown key.
func (c *keyCache) get(ctx context.Context, hash string, now time.Time) (*keyEntry, error) {
	c.mu.RLock()
	e := c.entries[hash]
	negUntil, neg := c.negatives[hash]
	gen := c.gen
	c.mu.RUnlock()
	if e != nil && now.Sub(e.loaded) < c.ttl {
		return e, nil
	}
	if neg && now.Before(negUntil) {
		return nil, nil
	}
	// Concurrent misses on one key share a load; the generation in the
	// flight key makes a request that arrives after a flush start a fresh
	// load instead of joining one that may have read the old state.
	v, err, _ := c.flight.Do(hash+"/"+strconv.FormatUint(gen, 10), func() (any, error) {
		// The load serves every waiter, so it must not die with the first
		// caller's request.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		e, err := c.load(lctx, hash)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen != gen {
			// Flushed while loading: what was read may be stale already.
			// Answer this request (it began before the change) uncached.
			return e, nil
		}
		if e == nil {
			if len(c.negatives) >= maxNegatives {
				clear(c.negatives)
			}
			c.negatives[hash] = time.Now().Add(c.negTTL)
		} else {
			delete(c.negatives, hash)
			c.entries[hash] = e
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	e, _ = v.(*keyEntry)
	return e, nil
}

// flush forgets everything, known and unknown keys alike: a key created a
// moment ago must work at once.
func (c *keyCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	clear(c.negatives)
}

// loadKey reads a key and what it needs from the database; nil when no
// key has the hash.
func (p *Proxy) loadKey(ctx context.Context, hash string) (*keyEntry, error) {
	client := p.db.Client
	k, err := client.APIKey.Query().
		Where(apikey.KeyHash(hash)).
		WithService(func(q *ent.ServiceQuery) {
			q.WithCredential(func(q *ent.ProviderCredentialQuery) { q.WithAPIStandard() })
			q.WithTargets(func(q *ent.ServiceTargetQuery) {
				q.Order(ent.Asc(servicetarget.FieldPosition), ent.Asc(servicetarget.FieldID)).
					WithCredential(func(q *ent.ProviderCredentialQuery) { q.WithAPIStandard() })
			})
		}).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up client key: %w", err)
	}
	if !clientkey.Equal(k.KeyHash, hash) {
		return nil, nil
	}
	e := &keyEntry{loaded: time.Now(), key: k, svc: k.Edges.Service}
	org, err := client.Organization.Get(ctx, k.OrganizationID)
	if err != nil {
		return nil, fmt.Errorf("look up organization of client key %d: %w", k.ID, err)
	}
	e.org = org
	bal, err := client.Balance.Query().Where(balance.OrganizationID(k.OrganizationID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up balance of organization %d: %w", k.OrganizationID, err)
	}
	e.enforceBalance = bal != nil && bal.Enforced
	settings, err := client.ProjectSettings.Query().Where(projectsettings.OrganizationID(k.OrganizationID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up project settings of organization %d: %w", k.OrganizationID, err)
	}
	e.allowOverwrite = settings == nil || settings.AllowOverwrite
	if e.svc == nil {
		return e, nil
	}
	if err := p.resolveUpstream(ctx, e); err != nil {
		return nil, err
	}
	if err := p.resolveModels(ctx, e); err != nil {
		return nil, err
	}
	p.resolveCapture(e)
	return e, nil
}

// resolveCapture compiles the service's body capture setting when this
// proxy keeps bodies. A setting that does not compile (it was checked when
// saved, so only a hand-edited row) captures nothing rather than failing
// the service's requests.
func (p *Proxy) resolveCapture(e *keyEntry) {
	if p.opts.Bodies == nil {
		return
	}
	policy, err := bodycapture.Compile(e.svc.BodyCapture)
	if err != nil {
		p.log.Error("body capture setting of a service is invalid; capturing nothing", "service_id", e.svc.ID, "err", err)
		return
	}
	e.capture = policy
}

// resolveUpstream fills in where and how the key's service calls its
// provider. Configuration problems become e.misconfigured, with a message
// saying what an admin must fix, rather than errors: they are stable until
// the next change, so they are cached like the rest.
func (p *Proxy) resolveUpstream(ctx context.Context, e *keyEntry) error {
	svc := e.svc
	name := svc.ServiceName
	prov, ok := providers.Lookup(svc.Provider)
	if !ok {
		e.misconfigured = refuse(http.StatusServiceUnavailable, "service_misconfigured",
			fmt.Sprintf("service %q names provider %q, which this Sluice does not support; an admin must change it", name, svc.Provider))
		return nil
	}
	e.provider = prov
	if ts := svc.Edges.Targets; len(ts) > 0 {
		return p.resolveTargets(ctx, e, ts)
	}
	conf, refusal, err := p.resolveCredential(ctx, name, prov, svc.Edges.Credential)
	e.upstreamConf, e.misconfigured = conf, refusal
	return err
}

// resolveTargets resolves each enabled target of a routed service. A
// target whose credential cannot be used is left out (and logged), so that
// one broken account does not take the service down; the service is
// refused only when none is left.
func (p *Proxy) resolveTargets(ctx context.Context, e *keyEntry, ts []*ent.ServiceTarget) error {
	name := e.svc.ServiceName
	var first *apiError
	for _, st := range ts {
		if !st.Enabled {
			continue
		}
		cred := st.Edges.Credential
		if cred == nil {
			continue // deleted meanwhile; the foreign key makes this a race only
		}
		// A target may be of another provider than the service's: requests
		// are translated for it when it speaks another API.
		prov, ok := providers.Lookup(cred.Provider)
		var conf upstreamConf
		var refusal *apiError
		if !ok {
			refusal = refuse(http.StatusServiceUnavailable, "service_misconfigured",
				fmt.Sprintf("a target of service %q uses a credential of provider %q, which this Sluice does not support; an admin must remove it", name, cred.Provider))
		} else {
			var err error
			if conf, refusal, err = p.resolveCredential(ctx, name, prov, cred); err != nil {
				return err
			}
		}
		if refusal != nil {
			p.log.Warn("a target of a service cannot be used; routing around it", "service", name, "target_id", st.ID, "reason", refusal.message)
			if first == nil {
				first = refusal
			}
			continue
		}
		if len(e.targets) == providers.MaxServiceTargets {
			p.log.Warn("a service has more targets than the proxy routes to; the last ones are ignored", "service", name, "max", providers.MaxServiceTargets)
			break
		}
		e.targets = append(e.targets, &target{id: st.ID, index: len(e.targets), weight: max(st.Weight, 1),
			provider: prov, modelMap: st.ModelMap, upstreamConf: conf, health: p.healthOf(st.ID)})
	}
	if len(e.targets) > 0 {
		return nil
	}
	if first != nil {
		e.misconfigured = refuse(http.StatusServiceUnavailable, first.code,
			fmt.Sprintf("none of the targets of service %q can be used: %s", name, first.message))
		return nil
	}
	e.misconfigured = refuse(http.StatusServiceUnavailable, "targets_disabled",
		fmt.Sprintf("every target of service %q is disabled; an admin must enable one or remove them all to use the service's own credential", name))
	return nil
}

// resolveCredential resolves one credential (nil: the provider's defaults
// and no key) of service name into an upstream, or a refusal saying what
// an admin must fix.
func (p *Proxy) resolveCredential(ctx context.Context, name string, prov providers.Provider, cred *ent.ProviderCredential) (upstreamConf, *apiError, error) {
	var c upstreamConf
	var credBaseURL *string
	standard := prov.APIStandard
	var std *ent.APIStandard
	if cred != nil {
		c.credID, c.credName = &cred.ID, cred.AccountKey
		if !cred.Active {
			return c, refuse(http.StatusServiceUnavailable, "credential_disabled",
				fmt.Sprintf("the provider credential of service %q is disabled; an admin must enable it or choose another", name)), nil
		}
		credBaseURL = cred.BaseURL
		std = cred.Edges.APIStandard
		// Opening fails only for a wrong master key or a damaged row, which
		// no retry fixes: cache the refusal like any other state.
		secret, err := credentials.Key(p.keyring, cred)
		if err != nil {
			p.log.Error("cannot decrypt a provider key; is SLUICE_MASTER_KEY the key it was stored under?", "credential_id", cred.ID, "err", err)
			return c, refuse(http.StatusServiceUnavailable, "credential_unreadable",
				fmt.Sprintf("the provider key of service %q cannot be decrypted with this gateway's master key; an admin must check SLUICE_MASTER_KEY or set the key again", name)), nil
		}
		c.secret = secret
	}
	if std == nil {
		var err error
		std, err = p.db.Client.APIStandard.Query().Where(apistandard.APIStandardHandle(standard)).Only(ctx)
		if ent.IsNotFound(err) {
			return c, refuse(http.StatusServiceUnavailable, "service_misconfigured",
				fmt.Sprintf("service %q uses API standard %q, which no longer exists; an admin must recreate it or pick another on the credential", name, standard)), nil
		}
		if err != nil {
			return c, nil, fmt.Errorf("look up API standard %q: %w", standard, err)
		}
	}
	c.method, c.field = std.KeyMethod, std.KeyField
	baseURL := upstream.BaseURL(prov.Name, credBaseURL)
	if baseURL == "" {
		return c, refuse(http.StatusServiceUnavailable, "service_misconfigured",
			fmt.Sprintf("service %q has no upstream base URL; an admin must set one on its provider credential", name)), nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || providers.ValidateBaseURL(baseURL) != nil {
		return c, refuse(http.StatusServiceUnavailable, "service_misconfigured",
			fmt.Sprintf("the upstream base URL of service %q is not a valid http(s) URL; an admin must fix it", name)), nil
	}
	u.Path = trimSlash(u.Path)
	u.RawPath = ""
	c.base = u
	if c.method != apistandard.KeyMethodNone && c.secret == "" {
		return c, refuse(http.StatusServiceUnavailable, "credential_missing",
			fmt.Sprintf("service %q has no provider API key; an admin must set providerApiKey on it", name)), nil
	}
	return c, nil, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// resolveModels prices the service's enabled models from ModelPrice.
func (p *Proxy) resolveModels(ctx context.Context, e *keyEntry) error {
	enabled := slices.Clone(e.svc.ModelsEnabled)
	slices.Sort(enabled)
	e.enabled = slices.Compact(enabled)
	e.models = make(map[string]modelInfo, len(e.enabled))
	for _, m := range e.enabled {
		e.models[m] = modelInfo{}
	}
	if len(e.enabled) == 0 {
		return nil
	}
	rows, err := p.db.Client.ModelPrice.Query().
		Where(modelprice.Provider(e.svc.Provider), modelprice.ModelIn(e.enabled...)).
		All(ctx)
	if err != nil {
		return fmt.Errorf("look up prices of service %d: %w", e.svc.ID, err)
	}
	for _, r := range rows {
		e.models[r.Model] = modelInfo{price: pricing.FromRow(r), priced: true}
	}
	return p.resolveTargetModels(ctx, e)
}

// resolveTargetModels prices the enabled models at each target that knows
// them by another name or is of another provider than the service: a
// request is charged at the price of the target that answered it. A model
// the catalog has no price for at a target keeps the service's price.
func (p *Proxy) resolveTargetModels(ctx context.Context, e *keyEntry) error {
	wanted := map[string][]string{} // provider → upstream model names
	for _, t := range e.targets {
		for _, m := range e.enabled {
			if um := t.upstreamModel(m); um != m || t.provider.Name != e.svc.Provider {
				wanted[t.provider.Name] = append(wanted[t.provider.Name], um)
			}
		}
	}
	if len(wanted) == 0 {
		return nil
	}
	prices := map[[2]string]modelInfo{}
	for prov, names := range wanted {
		slices.Sort(names)
		rows, err := p.db.Client.ModelPrice.Query().
			Where(modelprice.Provider(prov), modelprice.ModelIn(slices.Compact(names)...)).
			All(ctx)
		if err != nil {
			return fmt.Errorf("look up %s prices of the targets of service %d: %w", prov, e.svc.ID, err)
		}
		for _, r := range rows {
			prices[[2]string{prov, r.Model}] = modelInfo{price: pricing.FromRow(r), priced: true}
		}
	}
	for _, t := range e.targets {
		for _, m := range e.enabled {
			um := t.upstreamModel(m)
			if um == m && t.provider.Name == e.svc.Provider {
				continue
			}
			info, ok := prices[[2]string{t.provider.Name, um}]
			if !ok {
				continue
			}
			if t.models == nil {
				t.models = make(map[string]modelInfo)
			}
			t.models[m] = info
		}
	}
	return nil
}
