package pace_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/pace"
)

// The proxy's use: one Acquire per request with its key (its own limits
// over its service's), service and organization; Release on every path;
// Settle with the real token count; the headers from the statuses.
func Example() {
	clock := newClock()
	l := pace.NewEmbedded(pace.Options{Now: clock.Now})
	service := pace.Limits{RPM: 2, TPM: 10_000}
	key := pace.Limits{Concurrency: 4}.Inherit(service)
	req := pace.Request{Tokens: 1200, Subjects: []pace.Subject{
		{Scope: pace.ScopeKey, ID: 1, Limits: key},
		{Scope: pace.ScopeService, ID: 1, Limits: service},
		{Scope: pace.ScopeOrg, ID: 1},
	}}
	for range 3 {
		p, err := l.Acquire(context.Background(), req)
		var refused *pace.Refusal
		switch {
		case errors.As(err, &refused):
			// 429 with Retry-After in whole seconds.
			fmt.Printf("429: %s %s, Retry-After: %.0f\n", refused.Scope, refused.Kind, math.Ceil(refused.RetryAfter.Seconds()))
			continue
		case errors.Is(err, pace.ErrUnavailable):
			fmt.Println("503")
			continue
		}
		// ... the request goes upstream; the answer says 900 tokens.
		p.Settle(900)
		if s, ok := pace.Tightest(p.Status(), pace.RPM); ok {
			fmt.Printf("x-ratelimit-limit-requests: %d, remaining: %d, reset: %s\n", s.Limit, s.Remaining, s.Reset)
		}
		if s, ok := pace.Tightest(p.Status(), pace.TPM); ok {
			fmt.Printf("x-ratelimit-limit-tokens: %d, remaining: %d\n", s.Limit, s.Remaining)
		}
		p.Release()
		clock.Add(500 * time.Millisecond)
	}
	// Output:
	// x-ratelimit-limit-requests: 2, remaining: 1, reset: 1m1s
	// x-ratelimit-limit-tokens: 10000, remaining: 9100
	// x-ratelimit-limit-requests: 2, remaining: 0, reset: 1m0.5s
	// x-ratelimit-limit-tokens: 10000, remaining: 8200
	// 429: key rpm, Retry-After: 60
}
