// Package ratelimits reads the rate-limit headers providers put on their
// responses, so the live-usage view can show how much of a credential's
// request and token allowance is left without spending tokens to ask. It
// reports only what the provider said: a number it did not send, or sent in a
// form that cannot be read, stays nil rather than becoming a guess.
package ratelimits

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Header families, as reported in Snapshot.Family.
const (
	// FamilyOpenAI is x-ratelimit-{limit,remaining,reset}-{requests,tokens},
	// used by OpenAI and most OpenAI-compatible providers (Groq, Together,
	// DeepSeek...).
	FamilyOpenAI = "openai"
	// FamilyAnthropic is
	// anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}.
	FamilyAnthropic = "anthropic"
	// FamilyNone means the response carried no rate-limit family headers.
	FamilyNone = "none"
)

// Window is one limit the provider enforces over a rolling or fixed period.
// Each field is nil when the provider did not say.
type Window struct {
	Limit     *int64
	Remaining *int64
	ResetAt   *time.Time
}

// Used is Limit-Remaining, when both are known and consistent (a Remaining
// above the Limit is not turned into a negative use).
func (w Window) Used() *int64 {
	if w.Limit == nil || w.Remaining == nil || *w.Remaining > *w.Limit {
		return nil
	}
	u := *w.Limit - *w.Remaining
	return &u
}

// PctUsed is Used as a percentage (0-100) of Limit, nil when either is unknown
// or the limit is zero.
func (w Window) PctUsed() *float64 {
	u := w.Used()
	if u == nil || *w.Limit <= 0 {
		return nil
	}
	p := float64(*u) / float64(*w.Limit) * 100
	return &p
}

// ResetIn is how long after now the window resets; a reset time already past
// gives zero rather than a negative wait.
func (w Window) ResetIn(now time.Time) *time.Duration {
	if w.ResetAt == nil {
		return nil
	}
	d := max(w.ResetAt.Sub(now), 0)
	return &d
}

// Snapshot is everything one response's headers said about rate limits.
type Snapshot struct {
	Requests Window
	// Tokens is the combined token limit (OpenAI), or Anthropic's most
	// restrictive token limit at the moment.
	Tokens Window
	// InputTokens and OutputTokens are only sent by Anthropic.
	InputTokens  Window
	OutputTokens Window
	// RetryAfter is from retry-after-ms or retry-after (seconds or an HTTP
	// date), usually on a 429.
	RetryAfter *time.Duration
	// Family is FamilyOpenAI, FamilyAnthropic or FamilyNone, by the header
	// names present (Anthropic wins if both appear).
	Family string
	// Headers lists the lower-case names of the rate-limit headers seen,
	// sorted, including ones this package does not interpret, to help debug
	// a provider that names them differently.
	Headers []string
}

const (
	openAIPrefix    = "x-ratelimit-"
	anthropicPrefix = "anthropic-ratelimit-"
)

// What a known header sets.
const (
	fLimit = iota
	fRemaining
	fReset
	fRetryAfter
	fRetryAfterMs
)

// Windows of a Snapshot, by index.
const (
	wRequests = iota
	wTokens
	wInput
	wOutput
)

type spec struct {
	name   string
	window int
	field  int
}

var specs = [...]spec{
	{"x-ratelimit-limit-requests", wRequests, fLimit},
	{"x-ratelimit-remaining-requests", wRequests, fRemaining},
	{"x-ratelimit-reset-requests", wRequests, fReset},
	{"x-ratelimit-limit-tokens", wTokens, fLimit},
	{"x-ratelimit-remaining-tokens", wTokens, fRemaining},
	{"x-ratelimit-reset-tokens", wTokens, fReset},
	{"anthropic-ratelimit-requests-limit", wRequests, fLimit},
	{"anthropic-ratelimit-requests-remaining", wRequests, fRemaining},
	{"anthropic-ratelimit-requests-reset", wRequests, fReset},
	{"anthropic-ratelimit-tokens-limit", wTokens, fLimit},
	{"anthropic-ratelimit-tokens-remaining", wTokens, fRemaining},
	{"anthropic-ratelimit-tokens-reset", wTokens, fReset},
	{"anthropic-ratelimit-input-tokens-limit", wInput, fLimit},
	{"anthropic-ratelimit-input-tokens-remaining", wInput, fRemaining},
	{"anthropic-ratelimit-input-tokens-reset", wInput, fReset},
	{"anthropic-ratelimit-output-tokens-limit", wOutput, fLimit},
	{"anthropic-ratelimit-output-tokens-remaining", wOutput, fRemaining},
	{"anthropic-ratelimit-output-tokens-reset", wOutput, fReset},
	{"retry-after", -1, fRetryAfter},
	{"retry-after-ms", -1, fRetryAfterMs},
}

// store backs every pointer of one Snapshot, so Parse allocates once however
// many headers it reads.
type store struct {
	counts [8]int64
	times  [4]time.Time
	retry  [2]time.Duration
	names  [len(specs)]string
}

// Parse reads the rate-limit headers of one response. now is when the
// response arrived: relative resets ("6m0s") are turned into ResetAt from it.
// Header names match case-insensitively, so both http.Header's canonical keys
// and raw lower-case maps work; only the first value of a header counts.
// Unreadable values are left nil, never an error.
func Parse(h http.Header, now time.Time) Snapshot {
	s := Snapshot{Family: FamilyNone}
	var st *store
	var retry [2]bool
	windows := [...]*Window{&s.Requests, &s.Tokens, &s.InputTokens, &s.OutputTokens}
	openAI, anthropic := false, false
	for k, vs := range h {
		if !isRateLimit(k) {
			continue
		}
		if st == nil {
			st = new(store)
			s.Headers = st.names[:0]
		}
		sp := lookup(k)
		if sp != nil {
			s.Headers = append(s.Headers, sp.name)
		} else {
			s.Headers = append(s.Headers, strings.ToLower(k))
		}
		openAI = openAI || hasPrefixFold(k, openAIPrefix)
		anthropic = anthropic || hasPrefixFold(k, anthropicPrefix)
		if sp == nil || len(vs) == 0 {
			continue
		}
		v := strings.TrimSpace(vs[0])
		switch sp.field {
		case fLimit, fRemaining:
			if n, ok := parseCount(v); ok {
				p := &st.counts[sp.window*2+sp.field]
				*p = n
				if sp.field == fLimit {
					windows[sp.window].Limit = p
				} else {
					windows[sp.window].Remaining = p
				}
			}
		case fReset:
			if t, ok := parseReset(v, now); ok {
				st.times[sp.window] = t
				windows[sp.window].ResetAt = &st.times[sp.window]
			}
		case fRetryAfter:
			st.retry[0], retry[0] = parseRetryAfter(v, now)
		case fRetryAfterMs:
			if ms, ok := parseSeconds(v); ok && ms < float64(maxDuration/time.Millisecond) {
				st.retry[1], retry[1] = time.Duration(ms*float64(time.Millisecond)), true
			}
		}
	}
	switch {
	case retry[1]: // the more precise of the two
		s.RetryAfter = &st.retry[1]
	case retry[0]:
		s.RetryAfter = &st.retry[0]
	}
	switch {
	case anthropic:
		s.Family = FamilyAnthropic
	case openAI:
		s.Family = FamilyOpenAI
	}
	if len(s.Headers) > 1 {
		slices.Sort(s.Headers)
		s.Headers = slices.Compact(s.Headers)
	}
	return s
}

// isRateLimit reports whether k names a rate-limit header.
func isRateLimit(k string) bool {
	return hasPrefixFold(k, openAIPrefix) || hasPrefixFold(k, anthropicPrefix) ||
		strings.EqualFold(k, "retry-after") || strings.EqualFold(k, "retry-after-ms")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// lookup finds the spec of a header name, case-insensitively.
func lookup(k string) *spec {
	for i := range specs {
		if len(specs[i].name) == len(k) && strings.EqualFold(specs[i].name, k) {
			return &specs[i]
		}
	}
	return nil
}

// parseCount reads a non-negative decimal integer.
func parseCount(v string) (int64, bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// maxDuration keeps parsed waits far from time.Duration's overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// parseReset reads a reset in any of the forms providers use: an RFC 3339
// time (Anthropic), a Go-style duration such as "6m0s", "20ms", "1h2m3.5s"
// or "2m59.56s" (OpenAI, Groq), or plain seconds ("30", "0.5"). A plain number
// of at least 1e9 is read as a Unix time in seconds, or at least 1e12 in
// milliseconds: as a wait it would be decades.
func parseReset(v string, now time.Time) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if len(v) >= 20 && v[4] == '-' { // only dates reach time.Parse, whose errors allocate
		t, err := time.Parse(time.RFC3339, v)
		return t, err == nil
	}
	if secs, ok := parseSeconds(v); ok {
		switch {
		case secs >= 1e12 && secs < 1e15:
			return time.UnixMilli(int64(secs)), true
		case secs >= 1e9 && secs < 1e12:
			return time.Unix(int64(secs), int64((secs-float64(int64(secs)))*1e9)), true
		case secs < 1e9:
			return now.Add(time.Duration(secs * float64(time.Second))), true
		}
		return time.Time{}, false
	}
	if d, ok := parseDuration(v); ok {
		return now.Add(d), true
	}
	return time.Time{}, false
}

// parseSeconds reads a plain non-negative decimal number: digits with at most
// one dot, no sign, exponent, or words like "Inf" that ParseFloat accepts.
func parseSeconds(v string) (float64, bool) {
	dots, digits := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 || len(v) > 32 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// parseDuration reads a Go-style duration without a sign, up to a century.
func parseDuration(v string) (time.Duration, bool) {
	if c := v[0]; (c < '0' || c > '9') && c != '.' {
		return 0, false // no signs: a reset is never in the past
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxDuration {
		return 0, false
	}
	return d, true
}

// parseRetryAfter reads retry-after: delay seconds, or an HTTP date (a date
// already past means retry now).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if secs, ok := parseSeconds(v); ok {
		if secs > maxDuration.Seconds() {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d > maxDuration {
		return 0, false
	}
	return max(d, 0), true
}
