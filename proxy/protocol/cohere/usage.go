package cohere

import (
	"math"

	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// readUsage is a Cohere usage (or embed meta) object in the internal
// form. Like the gateway's meter (proxy/usage), it takes the tokens the
// model processed when they are given and the billed units otherwise;
// cached_tokens, the prompt tokens that hit Cohere's cache, are part of
// the input.
func readUsage(u *wireUsage) usage.Usage {
	if u == nil {
		return usage.Usage{}
	}
	c := u.Tokens
	if !c.present() {
		c = u.BilledUnits
	}
	if !c.present() {
		return usage.Usage{}
	}
	out := usage.Usage{
		Tokens: tokens.Tokens{
			InputTokens:  tokenCount(c.InputTokens),
			OutputTokens: tokenCount(c.OutputTokens),
		},
		Found: true,
	}
	out.CachedInputTokens = min(tokenCount(u.CachedTokens), out.InputTokens)
	return out
}

// present reports whether c holds either count.
func (c *tokenCounts) present() bool {
	return c != nil && (c.InputTokens != nil || c.OutputTokens != nil)
}

// tokenCount is a reported count as a whole number of tokens, rounded up
// as the meter does; a missing or negative count is 0.
func tokenCount(f *float64) int64 {
	switch {
	case f == nil || *f != *f || *f < 0:
		return 0
	case *f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(math.Ceil(*f))
}

// writeUsage is u as Cohere's usage object; nil when u was not reported.
// The gateway bills the tokens the provider reported, so billed_units and
// tokens carry the same numbers.
func writeUsage(u *usage.Usage) *wireUsage {
	if u == nil || !u.Found {
		return nil
	}
	counts := func() *tokenCounts {
		in, out := float64(u.InputTokens), float64(u.OutputTokens)
		return &tokenCounts{InputTokens: &in, OutputTokens: &out}
	}
	w := &wireUsage{BilledUnits: counts(), Tokens: counts()}
	if u.CachedInputTokens > 0 {
		cached := float64(u.CachedInputTokens)
		w.CachedTokens = &cached
	}
	return w
}
