package ratelimits

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2025, 8, 1, 12, 0, 0, 0, time.UTC)

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// want describes one Window; -1 and the zero time mean "nil".
type want struct {
	limit, remaining int64
	reset            time.Time
}

func none() want { return want{-1, -1, time.Time{}} }

func checkWindow(t *testing.T, name string, w Window, exp want) {
	t.Helper()
	ptr := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	if ptr(w.Limit) != exp.limit || ptr(w.Remaining) != exp.remaining {
		t.Errorf("%s: limit %d remaining %d, want %d %d", name, ptr(w.Limit), ptr(w.Remaining), exp.limit, exp.remaining)
	}
	switch {
	case w.ResetAt == nil && !exp.reset.IsZero():
		t.Errorf("%s: no reset, want %v", name, exp.reset)
	case w.ResetAt != nil && !w.ResetAt.Equal(exp.reset):
		t.Errorf("%s: reset %v, want %v", name, *w.ResetAt, exp.reset)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name                            string
		h                               http.Header
		family                          string
		requests, tokens, input, output want
		retryAfter                      time.Duration // -1: nil
		headers                         []string
	}{
		{
			name: "openai",
			h: headers(
				"x-ratelimit-limit-requests", "60",
				"x-ratelimit-limit-tokens", "150000",
				"x-ratelimit-remaining-requests", "59",
				"x-ratelimit-remaining-tokens", "149984",
				"x-ratelimit-reset-requests", "1s",
				"x-ratelimit-reset-tokens", "6m0s",
				"Content-Type", "application/json",
				"openai-processing-ms", "231",
			),
			family:     FamilyOpenAI,
			requests:   want{60, 59, now.Add(time.Second)},
			tokens:     want{150000, 149984, now.Add(6 * time.Minute)},
			input:      none(),
			output:     none(),
			retryAfter: -1,
			headers: []string{"x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
				"x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"},
		},
		{
			name: "groq",
			h: headers(
				"x-ratelimit-limit-requests", "14400",
				"x-ratelimit-limit-tokens", "18000",
				"x-ratelimit-remaining-requests", "14370",
				"x-ratelimit-remaining-tokens", "17997",
				"x-ratelimit-reset-requests", "2m59.56s",
				"x-ratelimit-reset-tokens", "7.66s",
				"retry-after", "2",
			),
			family:     FamilyOpenAI,
			requests:   want{14400, 14370, now.Add(2*time.Minute + 59560*time.Millisecond)},
			tokens:     want{18000, 17997, now.Add(7660 * time.Millisecond)},
			input:      none(),
			output:     none(),
			retryAfter: 2 * time.Second,
			headers: []string{"retry-after", "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
				"x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"},
		},
		{
			name: "reset forms",
			h: headers(
				"x-ratelimit-reset-requests", "1h2m3.5s",
				"x-ratelimit-reset-tokens", "20ms",
			),
			family:     FamilyOpenAI,
			requests:   want{-1, -1, now.Add(time.Hour + 2*time.Minute + 3500*time.Millisecond)},
			tokens:     want{-1, -1, now.Add(20 * time.Millisecond)},
			input:      none(),
			output:     none(),
			retryAfter: -1,
			headers:    []string{"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"},
		},
		{
			name: "anthropic",
			h: headers(
				"anthropic-ratelimit-requests-limit", "50",
				"anthropic-ratelimit-requests-remaining", "49",
				"anthropic-ratelimit-requests-reset", "2025-08-01T12:00:01Z",
				"anthropic-ratelimit-tokens-limit", "48000",
				"anthropic-ratelimit-tokens-remaining", "47000",
				"anthropic-ratelimit-tokens-reset", "2025-08-01T12:00:06Z",
				"anthropic-ratelimit-input-tokens-limit", "40000",
				"anthropic-ratelimit-input-tokens-remaining", "39000",
				"anthropic-ratelimit-input-tokens-reset", "2025-08-01T12:00:06Z",
				"anthropic-ratelimit-output-tokens-limit", "8000",
				"anthropic-ratelimit-output-tokens-remaining", "8000",
				"anthropic-ratelimit-output-tokens-reset", "2025-08-01T12:00:00.5Z",
				"request-id", "req_018EeWyXxfu5pfWkrYcMdjWG",
			),
			family:     FamilyAnthropic,
			requests:   want{50, 49, now.Add(time.Second)},
			tokens:     want{48000, 47000, now.Add(6 * time.Second)},
			input:      want{40000, 39000, now.Add(6 * time.Second)},
			output:     want{8000, 8000, now.Add(500 * time.Millisecond)},
			retryAfter: -1,
			headers: []string{
				"anthropic-ratelimit-input-tokens-limit", "anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset",
				"anthropic-ratelimit-output-tokens-limit", "anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset",
				"anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset",
				"anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset",
			},
		},
		{
			name: "anthropic 429",
			h: headers(
				"retry-after", "17",
				"anthropic-ratelimit-requests-limit", "50",
				"anthropic-ratelimit-requests-remaining", "0",
				"anthropic-ratelimit-requests-reset", "2025-08-01T14:00:17+02:00",
			),
			family:     FamilyAnthropic,
			requests:   want{50, 0, now.Add(17 * time.Second)},
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: 17 * time.Second,
			headers:    []string{"anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", "retry-after"},
		},
		{
			name:       "none",
			h:          headers("Content-Type", "application/json", "Date", "Fri, 01 Aug 2025 12:00:00 GMT"),
			family:     FamilyNone,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: -1,
		},
		{
			name:       "nil header",
			h:          nil,
			family:     FamilyNone,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: -1,
		},
		{
			name:       "retry-after HTTP date",
			h:          headers("Retry-After", "Fri, 01 Aug 2025 12:01:30 GMT"),
			family:     FamilyNone,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: 90 * time.Second,
			headers:    []string{"retry-after"},
		},
		{
			name:       "retry-after date in the past",
			h:          headers("Retry-After", "Fri, 01 Aug 2025 11:00:00 GMT"),
			family:     FamilyNone,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: 0,
			headers:    []string{"retry-after"},
		},
		{
			name:       "retry-after-ms preferred",
			h:          headers("retry-after", "1", "retry-after-ms", "1250.5", "x-ratelimit-remaining-tokens", "0"),
			family:     FamilyOpenAI,
			requests:   none(),
			tokens:     want{-1, 0, time.Time{}},
			input:      none(),
			output:     none(),
			retryAfter: 1250500 * time.Microsecond,
			headers:    []string{"retry-after", "retry-after-ms", "x-ratelimit-remaining-tokens"},
		},
		{
			name: "plain seconds and unix times",
			h: headers(
				"x-ratelimit-reset-requests", "30",
				"x-ratelimit-reset-tokens", "1754049660",
				"anthropic-ratelimit-input-tokens-reset", "1754049600500",
				"anthropic-ratelimit-output-tokens-reset", "0.5",
			),
			family:     FamilyAnthropic,
			requests:   want{-1, -1, now.Add(30 * time.Second)},
			tokens:     want{-1, -1, now.Add(time.Minute)},
			input:      want{-1, -1, now.Add(500 * time.Millisecond)},
			output:     want{-1, -1, now.Add(500 * time.Millisecond)},
			retryAfter: -1,
			headers: []string{"anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-output-tokens-reset",
				"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"},
		},
		{
			name: "garbage is nil",
			h: headers(
				"x-ratelimit-limit-requests", "lots",
				"x-ratelimit-remaining-requests", "-5",
				"x-ratelimit-reset-requests", "-1s",
				"x-ratelimit-limit-tokens", "1e6",
				"x-ratelimit-remaining-tokens", "",
				"x-ratelimit-reset-tokens", "soon",
				"retry-after", "Inf",
				"retry-after-ms", "NaN",
			),
			family:     FamilyOpenAI,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: -1,
			headers: []string{"retry-after", "retry-after-ms", "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens",
				"x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"},
		},
		{
			name:       "more garbage",
			h:          headers("x-ratelimit-reset-tokens", "1d", "x-ratelimit-limit-tokens", "99999999999999999999", "anthropic-ratelimit-tokens-reset", "2025-13-45T99:00:00Z"),
			family:     FamilyAnthropic,
			requests:   none(),
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: -1,
			headers:    []string{"anthropic-ratelimit-tokens-reset", "x-ratelimit-limit-tokens", "x-ratelimit-reset-tokens"},
		},
		{
			name: "unknown names listed, not read; raw lower-case map",
			h: http.Header{
				"x-ratelimit-limit-requests":         {"100", "200"},
				"x-ratelimit-limit-tokens-day":       {"1000000"},
				"X-RateLimit-Reset-Requests-Day":     {"33011.38"},
				"anthropic-ratelimit-unified-status": {"allowed"},
			},
			family:     FamilyAnthropic,
			requests:   want{100, -1, time.Time{}},
			tokens:     none(),
			input:      none(),
			output:     none(),
			retryAfter: -1,
			headers: []string{"anthropic-ratelimit-unified-status", "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens-day",
				"x-ratelimit-reset-requests-day"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Parse(tc.h, now)
			if s.Family != tc.family {
				t.Errorf("Family %q, want %q", s.Family, tc.family)
			}
			checkWindow(t, "Requests", s.Requests, tc.requests)
			checkWindow(t, "Tokens", s.Tokens, tc.tokens)
			checkWindow(t, "InputTokens", s.InputTokens, tc.input)
			checkWindow(t, "OutputTokens", s.OutputTokens, tc.output)
			switch {
			case tc.retryAfter < 0 && s.RetryAfter != nil:
				t.Errorf("RetryAfter %v, want nil", *s.RetryAfter)
			case tc.retryAfter >= 0 && (s.RetryAfter == nil || *s.RetryAfter != tc.retryAfter):
				t.Errorf("RetryAfter %v, want %v", s.RetryAfter, tc.retryAfter)
			}
			if !slices.Equal(s.Headers, tc.headers) {
				t.Errorf("Headers %q, want %q", s.Headers, tc.headers)
			}
		})
	}
}

func i64(n int64) *int64 { return &n }

func TestWindow(t *testing.T) {
	reset := now.Add(90 * time.Second)
	past := now.Add(-time.Second)
	cases := []struct {
		name    string
		w       Window
		used    string
		pct     string
		resetIn string
	}{
		{"full", Window{i64(150000), i64(149984), &reset}, "16", "0.0107", "1m30s"},
		{"exhausted", Window{i64(50), i64(0), &past}, "50", "100.0000", "0s"},
		{"unused", Window{i64(50), i64(50), nil}, "0", "0.0000", "<nil>"},
		{"limit only", Window{Limit: i64(50)}, "<nil>", "<nil>", "<nil>"},
		{"remaining only", Window{Remaining: i64(5)}, "<nil>", "<nil>", "<nil>"},
		{"zero limit", Window{i64(0), i64(0), nil}, "0", "<nil>", "<nil>"},
		{"remaining above limit", Window{i64(10), i64(11), nil}, "<nil>", "<nil>", "<nil>"},
		{"empty", Window{}, "<nil>", "<nil>", "<nil>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			used, pct, in := "<nil>", "<nil>", "<nil>"
			if u := tc.w.Used(); u != nil {
				used = fmt.Sprint(*u)
			}
			if p := tc.w.PctUsed(); p != nil {
				pct = fmt.Sprintf("%.4f", *p)
			}
			if d := tc.w.ResetIn(now); d != nil {
				in = d.String()
			}
			if used != tc.used || pct != tc.pct || in != tc.resetIn {
				t.Fatalf("Used %s PctUsed %s ResetIn %s, want %s %s %s", used, pct, in, tc.used, tc.pct, tc.resetIn)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{
		{"x-ratelimit-reset-tokens", "6m0s"},
		{"x-ratelimit-reset-requests", "2m59.56s"},
		{"x-ratelimit-limit-tokens", "150000"},
		{"anthropic-ratelimit-tokens-reset", "2025-08-01T12:00:06Z"},
		{"retry-after", "Fri, 01 Aug 2025 12:01:30 GMT"},
		{"retry-after-ms", "20.5"},
		{"x-ratelimit-reset-tokens", "1754049660"},
		{"X-RATELIMIT-REMAINING-TOKENS", "-1"},
		{"x-ratelimit-reset-tokens", "9223372036854775807s"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		h := http.Header{name: {value}, "x-ratelimit-limit-tokens": {"100"}, "X-Ratelimit-Remaining-Tokens": {value}}
		s := Parse(h, now)
		for _, w := range []Window{s.Requests, s.Tokens, s.InputTokens, s.OutputTokens} {
			if w.Limit != nil && *w.Limit < 0 || w.Remaining != nil && *w.Remaining < 0 {
				t.Fatalf("negative count in %+v", w)
			}
			if u := w.Used(); u != nil && (*u < 0 || *u > *w.Limit) {
				t.Fatalf("Used %d outside [0, %d]", *u, *w.Limit)
			}
			if p := w.PctUsed(); p != nil && (*p < 0 || *p > 100) {
				t.Fatalf("PctUsed %v outside [0, 100]", *p)
			}
			if d := w.ResetIn(now); d != nil && *d < 0 {
				t.Fatalf("negative ResetIn %v", *d)
			}
		}
		if s.RetryAfter != nil && *s.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", *s.RetryAfter)
		}
		if s.Family == FamilyNone && (s.Requests != Window{} || s.Tokens != Window{} || s.InputTokens != Window{} || s.OutputTokens != Window{}) {
			t.Fatalf("Family none with windows %+v", s)
		}
		if !slices.IsSorted(s.Headers) {
			t.Fatalf("Headers not sorted: %q", s.Headers)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name string
		h    http.Header
	}{
		{"openai", headers(
			"Date", "Fri, 01 Aug 2025 12:00:00 GMT", "Content-Type", "application/json", "openai-processing-ms", "231",
			"openai-version", "2020-10-01", "x-request-id", "req_abc", "strict-transport-security", "max-age=31536000",
			"x-ratelimit-limit-requests", "10000", "x-ratelimit-limit-tokens", "30000000",
			"x-ratelimit-remaining-requests", "9999", "x-ratelimit-remaining-tokens", "29999990",
			"x-ratelimit-reset-requests", "6ms", "x-ratelimit-reset-tokens", "0s",
		)},
		{"anthropic", headers(
			"Date", "Fri, 01 Aug 2025 12:00:00 GMT", "Content-Type", "application/json", "request-id", "req_018",
			"anthropic-ratelimit-requests-limit", "4000", "anthropic-ratelimit-requests-remaining", "3999",
			"anthropic-ratelimit-requests-reset", "2025-08-01T12:00:00Z",
			"anthropic-ratelimit-tokens-limit", "480000", "anthropic-ratelimit-tokens-remaining", "480000",
			"anthropic-ratelimit-tokens-reset", "2025-08-01T12:00:00Z",
			"anthropic-ratelimit-input-tokens-limit", "400000", "anthropic-ratelimit-input-tokens-remaining", "400000",
			"anthropic-ratelimit-input-tokens-reset", "2025-08-01T12:00:00Z",
			"anthropic-ratelimit-output-tokens-limit", "80000", "anthropic-ratelimit-output-tokens-remaining", "80000",
			"anthropic-ratelimit-output-tokens-reset", "2025-08-01T12:00:00Z",
		)},
		{"none", headers("Date", "Fri, 01 Aug 2025 12:00:00 GMT", "Content-Type", "application/json", "x-request-id", "abc")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(c.h, now)
			}
		})
	}
}
