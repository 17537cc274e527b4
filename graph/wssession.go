package graph

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/changefeed"
)

// wsSession is one authenticated websocket connection: its subscriptions
// end, with an error saying why, once its credential no longer
// authenticates (revoked, disabled, expired, or its membership removed).
type wsSession struct {
	maxSubs int

	mu     sync.Mutex
	subs   int
	ended  chan struct{} // closed when the credential stopped authenticating
	reason *gqlerror.Error
}

// end ends every subscription of the session, for good.
func (s *wsSession) end(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != nil {
		return
	}
	s.reason = &gqlerror.Error{
		Message:    "subscription ended: " + reason + "; authenticate again and resubscribe",
		Extensions: map[string]any{"code": string(CodeUnauthenticated)},
	}
	close(s.ended)
}

// start counts a new subscription, or says why it may not start.
func (s *wsSession) start() *gqlerror.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != nil {
		return s.reason
	}
	if s.subs >= s.maxSubs {
		return &gqlerror.Error{
			Message:    "too many subscriptions on this connection; stop one or open another connection",
			Extensions: map[string]any{"code": string(CodeRateLimited), "limit": s.maxSubs},
		}
	}
	s.subs++
	return nil
}

func (s *wsSession) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs--
}

// credentialRefused is why a subscription ends when its credential is
// refused: fixed, so that no lookup detail reaches the client.
const credentialRefused = "the credential was revoked, disabled or expired"

// watch checks the connection's credential every interval and at once when
// keys change or logins end (on every replica, through the change feed), until the
// connection closes or the credential is refused. A lookup that fails
// (database down, busy or slow) ends nothing: the credential is not known
// to be refused.
func (s *wsSession) watch(ctx context.Context, r *Resolver, credential string, every time.Duration) {
	var changes, ended <-chan struct{}
	if feed, ok := r.Changes.(interface {
		Subscribe(topic string) (<-chan struct{}, func())
	}); ok {
		ch, stop := feed.Subscribe(changefeed.TopicAPIKeys)
		defer stop()
		changes = ch
		ch, stop = feed.Subscribe(changefeed.TopicSessions)
		defer stop()
		ended = ch
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case _, ok := <-changes:
			if !ok {
				changes = nil
			}
		case _, ok := <-ended:
			if !ok {
				ended = nil
			}
		}
		_, err := r.Auth.Resolve(ctx, credential)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, auth.ErrLookup) {
			r.Log.WarnContext(ctx, "could not check a subscription's credential; keeping the subscription", "err", err)
			continue
		}
		s.end(credentialRefused)
		return
	}
}

// subscriptionGuard holds every subscription of a websocket session to its
// session: it refuses to start one when the credential was refused or the
// connection has its most subscriptions, and ends a running one, with the
// session's reason as its error, when the credential is refused. It wraps
// the resolver's event channel, so no subscription resolver can forget it.
type subscriptionGuard struct{}

var _ rootFieldInterceptor = subscriptionGuard{}

func (subscriptionGuard) interceptRootField(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if fc.Object != "Subscription" {
		return next(ctx)
	}
	s, _ := ctx.Value(wsSessionKey{}).(*wsSession)
	if s == nil {
		return next(ctx)
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	res, err := next(ctx)
	in := reflect.ValueOf(res)
	if err != nil || in.Kind() != reflect.Chan || in.IsNil() {
		cancel()
		s.stop()
		return res, err
	}
	out := reflect.MakeChan(reflect.ChanOf(reflect.BothDir, in.Type().Elem()), 0)
	go func() {
		defer s.stop()
		defer cancel()
		defer out.Close()
		ended, done := reflect.ValueOf(s.ended), reflect.ValueOf(ctx.Done())
		recv := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: in}, {Dir: reflect.SelectRecv, Chan: ended}, {Dir: reflect.SelectRecv, Chan: done}}
		for {
			i, v, ok := reflect.Select(recv)
			if i == 0 && ok {
				i, _, _ = reflect.Select([]reflect.SelectCase{{Dir: reflect.SelectSend, Chan: out, Send: v}, recv[1], recv[2]})
			}
			switch {
			case i == 1:
				transport.AddSubscriptionError(ctx, s.reason)
				return
			case i == 2 || !ok:
				return
			}
		}
	}()
	return out.Convert(in.Type()).Interface(), nil
}
