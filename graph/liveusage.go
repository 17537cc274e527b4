package graph

import (
	"context"
	"time"

	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/graph/model"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/upstream"
)

// credentialTarget is what the prober needs of a saved credential.
// viewerCredentialTarget finds the caller's credential by ID (NOT_FOUND
// outside its organization) and what probing it needs.
func (r *Resolver) viewerCredentialTarget(ctx context.Context, credentialID int) (*ent.ProviderCredential, headroom.Target, error) {
	if _, err := viewer(ctx); err != nil {
		return nil, headroom.Target{}, err
	}
	c, err := r.manager().Credential(ctx, credentialID)
	if err != nil {
		return nil, headroom.Target{}, err
	}
	t, err := r.credentialTarget(ctx, c)
	return c, t, err
}

func (r *Resolver) credentialTarget(ctx context.Context, c *ent.ProviderCredential) (headroom.Target, error) {
	key, err := credentials.Key(r.Keyring, c)
	if err != nil {
		return headroom.Target{}, err
	}
	t := headroom.Target{Provider: c.Provider, AccountKey: c.AccountKey, BaseURL: c.BaseURL, Auth: upstream.Auth{Key: key, Method: "none"}}
	if c.APIStandardID != nil {
		std, err := r.Client.APIStandard.Get(ctx, *c.APIStandardID)
		if err != nil && !ent.IsNotFound(err) {
			return t, err
		}
		if std != nil {
			t.Auth.Method, t.Auth.Field = string(std.KeyMethod), std.KeyField
		}
	}
	return t, nil
}

// usageModel turns a prober result into its GraphQL shape.
func usageModel(res headroom.Result, now time.Time) *model.ProviderUsage {
	out := &model.ProviderUsage{
		Provider: res.Provider, AccountKey: res.AccountKey, CheckedAt: res.CheckedAt, Reachable: res.Reachable,
		Tokens: tokenWindow(res.Limits.Tokens, now), InputTokens: tokenWindow(res.Limits.InputTokens, now),
		OutputTokens: tokenWindow(res.Limits.OutputTokens, now), Requests: requestWindow(res.Limits.Requests, now),
		Models: res.Models, SampleLatencyMs: res.SampleLatencyMs, Source: model.UsageSource(res.Source),
		RateLimitHeaders: res.Limits.Headers,
	}
	if res.Error != "" {
		out.Error = &res.Error
	}
	if out.Models == nil {
		out.Models = []string{}
	}
	if out.RateLimitHeaders == nil {
		out.RateLimitHeaders = []string{}
	}
	return out
}

func tokenWindow(w ratelimits.Window, now time.Time) *model.TokenWindow {
	out := &model.TokenWindow{Limit: toInt(w.Limit), Remaining: toInt(w.Remaining), Used: toInt(w.Used()), PctUsed: w.PctUsed(), ResetAt: w.ResetAt}
	if d := w.ResetIn(now); d != nil {
		ms := int(d.Milliseconds())
		out.ResetInMs = &ms
	}
	return out
}

func requestWindow(w ratelimits.Window, now time.Time) *model.RequestWindow {
	t := tokenWindow(w, now)
	return &model.RequestWindow{Limit: t.Limit, Remaining: t.Remaining, ResetAt: t.ResetAt, ResetInMs: t.ResetInMs}
}

func toInt(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}
