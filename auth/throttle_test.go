package auth

import (
	"strconv"
	"testing"
	"time"
)

// TestThrottle: each address gets its burst, then one request per 1/rate
// seconds; an IPv6 /64 is one address; memory is bounded by forgetting the
// address seen least lately.
func TestThrottle(t *testing.T) {
	type step struct {
		after time.Duration // clock advance before the request
		addr  string
		ok    bool
		wait  time.Duration // when refused
	}
	cases := []struct {
		name  string
		max   int
		steps []step
	}{
		{"burst then refused", 0, []step{
			{0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0},
			{0, "10.0.0.1", false, 500 * time.Millisecond},
			{0, "10.0.0.2", true, 0}, // another address has its own bucket
		}},
		{"refilled at the rate, never above the burst", 0, []step{
			{0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0},
			{500 * time.Millisecond, "10.0.0.1", true, 0},
			{0, "10.0.0.1", false, 500 * time.Millisecond},
			{time.Hour, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0},
			{0, "10.0.0.1", false, 500 * time.Millisecond},
		}},
		{"an IPv6 /64 is one address", 0, []step{
			{0, "2001:db8::1", true, 0}, {0, "2001:db8::2", true, 0}, {0, "2001:db8::ffff:1", true, 0},
			{0, "2001:db8::3", false, 500 * time.Millisecond},
			{0, "2001:db8:0:1::1", true, 0},
		}},
		{"the least recently seen address is forgotten past the cap", 2, []step{
			{0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0}, {0, "10.0.0.1", true, 0},
			{0, "10.0.0.2", true, 0},
			{0, "10.0.0.1", false, 500 * time.Millisecond}, // 10.0.0.1 is now the most recent
			{0, "10.0.0.3", true, 0},                       // evicts 10.0.0.2
			{0, "10.0.0.1", false, 500 * time.Millisecond}, // still tracked
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := NewThrottle(2, 3)
			if c.max > 0 {
				th.max = c.max
			}
			now := time.Unix(0, 0)
			th.now = func() time.Time { return now }
			for i, s := range c.steps {
				now = now.Add(s.after)
				ok, wait := th.Allow(s.addr)
				if ok != s.ok || wait != s.wait {
					t.Fatalf("step %d (%s): Allow = %v %v, want %v %v", i, s.addr, ok, wait, s.ok, s.wait)
				}
				if th.recent.Len() != len(th.buckets) || (c.max > 0 && len(th.buckets) > c.max) {
					t.Fatalf("step %d: %d buckets, %d in the list, cap %d", i, len(th.buckets), th.recent.Len(), c.max)
				}
			}
		})
	}
}

// TestThrottleMemoryIsBounded: a flood of distinct addresses keeps at
// most maxAddresses buckets.
func TestThrottleMemoryIsBounded(t *testing.T) {
	th := NewThrottle(20, 40)
	for i := range maxAddresses + 1000 {
		th.Allow("10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255))
	}
	if len(th.buckets) != maxAddresses || th.recent.Len() != maxAddresses {
		t.Fatalf("%d buckets after %d addresses, want %d", len(th.buckets), maxAddresses+1000, maxAddresses)
	}
}

func TestThrottleOff(t *testing.T) {
	th := NewThrottle(0, 1)
	for range 100 {
		if ok, _ := th.Allow("10.0.0.1"); !ok {
			t.Fatal("a zero rate limited a request")
		}
	}
}
