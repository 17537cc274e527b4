// Package tokens is the count of what one request consumed, in the units
// providers bill. The proxy reads it from the provider's answer, pricing
// prices it, and the usage record, its hourly roll-up, the live feed and
// the metrics carry it, each embedding this one type rather than a copy.
package tokens

// Tokens counts one request's tokens, or the sum of several requests'.
// Counts come from provider bodies, so they may be odd (negative, or parts
// larger than their whole): whoever prices or stores them bounds them.
//
// The fields keep their names in JSON (a live usage event crosses
// replicas as JSON), and zero counts are left out.
type Tokens struct {
	// InputTokens is the whole input, read from or written to the prompt
	// cache or not: InputTokens-CachedInputTokens-CacheWriteTokens is the
	// part billed at the plain input rate.
	InputTokens int64 `json:",omitempty"`
	// OutputTokens includes reasoning ("thinking") tokens, which every
	// provider bills as output.
	OutputTokens int64 `json:",omitempty"`
	// CachedInputTokens is the part of InputTokens read from the
	// provider's prompt cache, billed at a discount.
	CachedInputTokens int64 `json:",omitempty"`
	// CacheWriteTokens is the part of InputTokens written to the
	// provider's prompt cache, which Anthropic bills above the input rate.
	CacheWriteTokens int64 `json:",omitempty"`
	// CacheWrite1hTokens is the part of CacheWriteTokens written to a
	// one-hour cache, billed higher still.
	CacheWrite1hTokens int64 `json:",omitempty"`
}

// Add adds o's counts to t's.
func (t *Tokens) Add(o Tokens) {
	t.InputTokens += o.InputTokens
	t.OutputTokens += o.OutputTokens
	t.CachedInputTokens += o.CachedInputTokens
	t.CacheWriteTokens += o.CacheWriteTokens
	t.CacheWrite1hTokens += o.CacheWrite1hTokens
}
