package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/ent/servicetarget"
)

// pageLoader reads what the fields of a page of keys or services need
// from the database for the whole page at once: the first key (or
// service) of a list whose spend or service is asked for loads them for
// every key of the list, with one query for the keys' services and one
// budget read (budget.Ledger.Spends), and the others find theirs loaded;
// a page of services' targets likewise, with their credentials.
// It lives for one response, so that no answer is older than its
// request.
type pageLoader struct {
	r *Resolver

	mu        sync.Mutex
	services  map[int]*ent.Service         // a key's service, by service ID
	keySpends map[int][]*budget.Spend      // by key ID
	svcSpends map[int][]*budget.Spend      // by service ID
	targets   map[int][]*ent.ServiceTarget // a service's targets with their credentials, by service ID
	exact     map[any]bool                 // whether a connection's totalCount is exact
}

type pageLoaderKey struct{}

// withPageLoader gives ctx a fresh loader.
func withPageLoader(ctx context.Context, r *Resolver) context.Context {
	return context.WithValue(ctx, pageLoaderKey{}, &pageLoader{r: r,
		services: map[int]*ent.Service{}, keySpends: map[int][]*budget.Spend{}, svcSpends: map[int][]*budget.Spend{},
		targets: map[int][]*ent.ServiceTarget{}, exact: map[any]bool{}})
}

// loader is ctx's loader, or one for this call alone outside a response.
func (r *Resolver) loader(ctx context.Context) *pageLoader {
	if l, ok := ctx.Value(pageLoaderKey{}).(*pageLoader); ok {
		return l
	}
	return withPageLoader(ctx, r).Value(pageLoaderKey{}).(*pageLoader)
}

// pageLoads gives every response its own loader.
type pageLoads struct{ r *Resolver }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = pageLoads{}

func (pageLoads) ExtensionName() string                   { return "PageLoads" }
func (pageLoads) Validate(graphql.ExecutableSchema) error { return nil }
func (p pageLoads) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(withPageLoader(ctx, p.r))
}

// siblings is the list the object of the field being resolved is in,
// as the field's parent contexts hold it: the edges of a connection
// (node → edge → edges), a plain list, or the list of keys a service is
// the service edge of (service → node → edge → edges); nil when it is in
// none.
func siblings(ctx context.Context) any {
	fc := graphql.GetFieldContext(ctx)
	for i := 0; fc != nil && i < 4; i, fc = i+1, fc.Parent {
		if fc.Index != nil {
			if fc.Parent == nil {
				return nil
			}
			return fc.Parent.Result
		}
	}
	return nil
}

// keysOf are the keys of a list siblings found, with k first.
func keysOf(list any, k *ent.APIKey) []*ent.APIKey {
	out := []*ent.APIKey{k}
	switch l := list.(type) {
	case []*ent.APIKeyEdge:
		for _, e := range l {
			if e != nil && e.Node != nil && e.Node != k {
				out = append(out, e.Node)
			}
		}
	case []*ent.APIKey:
		for _, n := range l {
			if n != nil && n != k {
				out = append(out, n)
			}
		}
	}
	return out
}

// servicesOf are the services of a list siblings found, with s first:
// a list of services, or the services loaded with a list of keys.
func servicesOf(list any, s *ent.Service) []*ent.Service {
	out := []*ent.Service{s}
	add := func(n *ent.Service) {
		if n != nil && n != s {
			out = append(out, n)
		}
	}
	switch l := list.(type) {
	case []*ent.ServiceEdge:
		for _, e := range l {
			if e != nil {
				add(e.Node)
			}
		}
	case []*ent.Service:
		for _, n := range l {
			add(n)
		}
	case []*ent.APIKeyEdge:
		for _, e := range l {
			if e != nil && e.Node != nil {
				add(e.Node.Edges.Service)
			}
		}
	case []*ent.APIKey:
		for _, n := range l {
			if n != nil {
				add(n.Edges.Service)
			}
		}
	}
	return out
}

// keyService is key k's service (nil for a management key), loaded with
// the services of the keys beside it.
func (l *pageLoader) keyService(ctx context.Context, k *ent.APIKey) (*ent.Service, error) {
	if k.ServiceID == nil {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.loadServices(ctx, keysOf(siblings(ctx), k)); err != nil {
		return nil, err
	}
	return l.serviceLocked(*k.ServiceID)
}

// serviceLocked is a loaded service, or the not-found error a look-up of
// a service the caller may not see gives.
func (l *pageLoader) serviceLocked(id int) (*ent.Service, error) {
	if s := l.services[id]; s != nil {
		return s, nil
	}
	return nil, &ent.NotFoundError{}
}

// loadServices loads the services of keys not loaded yet, taking those
// the query loaded with the keys (the service edge) as they are. The
// caller holds mu.
func (l *pageLoader) loadServices(ctx context.Context, keys []*ent.APIKey) error {
	var missing []int
	seen := map[int]bool{}
	for _, k := range keys {
		if k.ServiceID == nil || l.services[*k.ServiceID] != nil || seen[*k.ServiceID] {
			continue
		}
		if s := k.Edges.Service; s != nil && s.ID == *k.ServiceID {
			l.services[s.ID] = s
			continue
		}
		seen[*k.ServiceID] = true
		missing = append(missing, *k.ServiceID)
	}
	if len(missing) == 0 {
		return nil
	}
	found, err := l.r.Client.Service.Query().Where(service.IDIn(missing...)).All(ctx)
	if err != nil {
		return fmt.Errorf("load the keys' services: %w", err)
	}
	for _, s := range found {
		l.services[s.ID] = s
	}
	return nil
}

// keySpend is key k's spend against its effective limits, loaded with
// the spend of the keys beside it.
func (l *pageLoader) keySpend(ctx context.Context, k *ent.APIKey) ([]*budget.Spend, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sp, ok := l.keySpends[k.ID]; ok {
		return sp, nil
	}
	var keys []*ent.APIKey
	for _, n := range keysOf(siblings(ctx), k) {
		if _, ok := l.keySpends[n.ID]; !ok {
			keys = append(keys, n)
		}
	}
	if err := l.loadServices(ctx, keys); err != nil {
		return nil, err
	}
	subjects := make([]budget.Subject, 0, len(keys))
	loaded := keys[:0:0]
	for _, n := range keys {
		var svc *ent.Service
		if n.ServiceID != nil {
			s, err := l.serviceLocked(*n.ServiceID)
			if err != nil {
				if n == k {
					return nil, err
				}
				continue // its own field reports it
			}
			svc = s
		}
		subjects = append(subjects, budget.KeySubject(n, svc))
		loaded = append(loaded, n)
	}
	spends, err := l.r.Budgets.Spends(ctx, subjects)
	if err != nil {
		return nil, err
	}
	for i, n := range loaded {
		l.keySpends[n.ID] = spends[i]
	}
	return l.keySpends[k.ID], nil
}

// serviceSpend is service s's spend, loaded with the spend of the
// services beside it.
func (l *pageLoader) serviceSpend(ctx context.Context, s *ent.Service) ([]*budget.Spend, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sp, ok := l.svcSpends[s.ID]; ok {
		return sp, nil
	}
	services := servicesToLoad(ctx, s, l.svcSpends)
	subjects := make([]budget.Subject, len(services))
	for i, n := range services {
		subjects[i] = budget.ServiceSubject(n)
	}
	spends, err := l.r.Budgets.Spends(ctx, subjects)
	if err != nil {
		return nil, err
	}
	for i, n := range services {
		l.svcSpends[n.ID] = spends[i]
	}
	return l.svcSpends[s.ID], nil
}

// serviceTargets are service s's targets in order, with their
// credentials, loaded with the targets of the services beside it.
func (l *pageLoader) serviceTargets(ctx context.Context, s *ent.Service) ([]*ent.ServiceTarget, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ts, ok := l.targets[s.ID]; ok {
		return ts, nil
	}
	services := servicesToLoad(ctx, s, l.targets)
	ids := make([]int, len(services))
	for i, n := range services {
		ids[i] = n.ID
	}
	ts, err := l.r.Client.ServiceTarget.Query().
		Where(servicetarget.ServiceIDIn(ids...)).
		WithCredential().
		Order(ent.Asc(servicetarget.FieldPosition), ent.Asc(servicetarget.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the services' targets: %w", err)
	}
	byService := make(map[int][]*ent.ServiceTarget, len(ids))
	for _, t := range ts {
		byService[t.ServiceID] = append(byService[t.ServiceID], t)
	}
	for _, id := range ids {
		l.targets[id] = byService[id] // nil for none: loaded all the same
	}
	return l.targets[s.ID], nil
}

// servicesToLoad are s and the services beside it (servicesOf) that
// loaded holds nothing for yet, each once.
func servicesToLoad[V any](ctx context.Context, s *ent.Service, loaded map[int]V) []*ent.Service {
	var out []*ent.Service
	seen := map[int]bool{}
	for _, n := range servicesOf(siblings(ctx), s) {
		if _, ok := loaded[n.ID]; !ok && !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	return out
}
