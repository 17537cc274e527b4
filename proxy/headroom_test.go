package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/ratelimits"
)

// TestRoutingByHeadroom: a target whose upstream's successful answer
// reports its request window at 0 remaining gets no request until that
// window resets, while the other target takes the traffic; after the
// reset traffic returns to it.
func TestRoutingByHeadroom(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		spent := func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, 200, openAIChatBody, "X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "0",
				"X-Ratelimit-Reset-Requests", "20s")
		}
		aMode := &switchable{fn: spent}
		a := newUpstream(t, aMode.serve)
		b := newUpstream(t, answerOK)
		_, _, key := f.addRoutedService("headroom", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
		for a.count() == 0 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		}
		aMode.set(answerOK)
		before := b.count()
		clock.advance(19 * time.Second)
		for range 20 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		}
		if a.count() != 1 || b.count() != before+20 {
			t.Fatalf("before the reset the spent target got %d more requests, the other %d of 20", a.count()-1, b.count()-before)
		}
		clock.advance(2 * time.Second)
		for range 20 {
			f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		if a.count() < 15 {
			t.Fatalf("after the reset the weight-1000 target got %d of 20 requests", a.count()-1)
		}
	})
}

// TestRoutingAllTargetsSpent: when every target's provider window is
// spent, the caller hears 429 with Retry-After for the first reset, and
// nothing is sent upstream.
func TestRoutingAllTargetsSpent(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		spentFor := func(reset string) func(w http.ResponseWriter, r *http.Request, body []byte) {
			return func(w http.ResponseWriter, r *http.Request, body []byte) {
				answerJSON(w, 200, openAIChatBody, "X-Ratelimit-Limit-Tokens", "1000", "X-Ratelimit-Remaining-Tokens", "0",
					"X-Ratelimit-Reset-Tokens", reset)
			}
		}
		a := newUpstream(t, spentFor("30s"))
		b := newUpstream(t, spentFor("12s"))
		_, _, key := f.addRoutedService("spent", []string{"gpt-test"}, targetSpec{baseURL: a.srv.URL}, targetSpec{baseURL: b.srv.URL})
		for a.count() == 0 || b.count() == 0 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
				t.Fatalf("status %d before the windows were spent: %s", resp.StatusCode, body)
			}
		}
		sent := a.count() + b.count()
		resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "12" {
			t.Fatalf("status %d retry-after %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if a.count()+b.count() != sent {
			t.Fatal("a request went to a target whose provider window is spent")
		}
	})
}

func TestHeadroomNote(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, c := range []struct {
		name      string
		h         http.Header
		open      bool
		share     int
		low       bool
		openAfter time.Duration
	}{
		{"nothing said", hdr(), true, 1000, false, 0},
		{"plenty", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "80"), true, 800, false, 0},
		{"tightest window wins", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "80",
			"X-Ratelimit-Limit-Tokens", "1000", "X-Ratelimit-Remaining-Tokens", "50"), true, 50, true, 0},
		{"spent until reset", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "0",
			"X-Ratelimit-Reset-Requests", "6m0s"), false, 1, true, 6 * time.Minute},
		{"spent, no reset said", hdr("X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "0"), true, 1, true, 0},
		{"anthropic", hdr("Anthropic-Ratelimit-Requests-Limit", "50", "Anthropic-Ratelimit-Requests-Remaining", "0",
			"Anthropic-Ratelimit-Requests-Reset", now.Add(time.Minute).Format(time.RFC3339)), false, 1, true, time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h headroom
			h.note(ratelimits.Parse(c.h, now), now)
			if h.open(now) != c.open || h.share(now) != c.share || h.low() != c.low {
				t.Errorf("open %v share %d low %v, want %v %d %v", h.open(now), h.share(now), h.low(), c.open, c.share, c.low)
			}
			if later := now.Add(c.openAfter); !h.open(later) || c.openAfter > 0 && h.share(later) != 1000 {
				t.Errorf("%s later: open %v share %d, want the target back with its whole weight", c.openAfter, h.open(later), h.share(later))
			}
		})
	}
	var none *headroom
	if !none.open(now) || none.share(now) != 1000 || none.low() {
		t.Error("a target without a credential must route as if it had room")
	}
}

// TestHeadroomAcrossReplicas: two proxies on one PostgreSQL database
// (two replicas, their clocks frozen together): once one sees a target's
// provider window spent, the other sends it nothing either until the
// window resets; a 429 and a failing target are shared the same way.
func TestHeadroomAcrossReplicas(t *testing.T) {
	testenv.RequirePostgres(t)
	db := testenv.New(t, dialect.Postgres)
	clock := newTestClock()
	withClock := func(o *Options) { o.Now = clock.Now }
	first, second := newFixture(t, db, withClock), newFixture(t, db, withClock)
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request, body []byte)
	}{
		{"spent window", func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, 200, openAIChatBody, "X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", "0",
				"X-Ratelimit-Reset-Requests", "1m0s")
		}},
		{"429", answer(429, "Retry-After", "60")},
		{"failing target", answer(502)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newUpstream(t, c.answer)
			b := newUpstream(t, answerOK)
			_, _, key := first.addRoutedService(strings.ReplaceAll(c.name, " ", "-"), []string{"gpt-test"},
				targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
			for a.count() == 0 {
				first.call("POST", "/v1/chat/completions", key, chatRequest)
			}
			time.Sleep(300 * time.Millisecond) // the NOTIFY's way to the other replica
			for range 20 {
				if resp, body := second.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
					t.Fatalf("the second replica: %d %s", resp.StatusCode, body)
				}
			}
			if a.count() != 1 {
				t.Fatalf("the second replica sent %d of 20 requests to the target the first saw spent", a.count()-1)
			}
		})
	}
}

// TestTargetRecoveryAcrossReplicas: a target one replica saw fail is out
// of rotation on both; when the first replica's probe succeeds, the second
// puts it back too, without waiting out its back-off or probing it itself.
func TestTargetRecoveryAcrossReplicas(t *testing.T) {
	testenv.RequirePostgres(t)
	db := testenv.New(t, dialect.Postgres)
	clock := newTestClock()
	withClock := func(o *Options) { o.Now = clock.Now }
	first, second := newFixture(t, db, withClock), newFixture(t, db, withClock)
	aMode := &switchable{fn: answer(503)}
	a := newUpstream(t, aMode.serve)
	b := newUpstream(t, answerOK)
	_, targets, key := first.addRoutedService("recovery", []string{"gpt-test"},
		targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
	for a.count() == 0 {
		first.call("POST", "/v1/chat/completions", key, chatRequest)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the second replica: %s not within 3 s: %+v", what, second.proxy.Health(targets[0].ID))
			}
		}
	}
	waitFor("the target down", func() bool { return !second.proxy.Health(targets[0].ID).Healthy })
	aMode.set(answerOK)
	clock.advance(1500 * time.Millisecond) // past the first replica's back-off
	for a.count() == 1 {
		first.call("POST", "/v1/chat/completions", key, chatRequest)
	}
	waitFor("the target back", func() bool { return second.proxy.Health(targets[0].ID).Healthy })
	if a.count() != 2 {
		t.Fatalf("the target got %d requests, want the failure and the first replica's probe", a.count())
	}
}

// TestHeadroomIsPerModel: providers count each model's window apart, so a
// target whose window for one model is spent still takes another model.
func TestHeadroomIsPerModel(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		f.price("openai", "gpt-other", 1_000_000, 1_000_000, 0, "text")
		a := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"gpt-test"`) {
				answerJSON(w, 200, openAIChatBody, "X-Ratelimit-Limit-Tokens", "1000", "X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "30s")
				return
			}
			answerJSON(w, 200, openAIChatBody)
		})
		b := newUpstream(t, answerOK)
		_, _, key := f.addRoutedService("per-model", []string{"gpt-test", "gpt-other"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
		for a.count() == 0 {
			f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		for range 10 {
			f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		if a.count() != 1 {
			t.Fatalf("the target got %d more gpt-test requests after its gpt-test window was spent", a.count()-1)
		}
		other := strings.Replace(chatRequest, "gpt-test", "gpt-other", 1)
		for range 10 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, other); resp.StatusCode != 200 {
				t.Fatalf("gpt-other: %d %s", resp.StatusCode, body)
			}
		}
		if a.count() < 8 {
			t.Fatalf("the weight-1000 target got %d of 10 gpt-other requests: its spent gpt-test window held them back", a.count()-1)
		}
	})
}
