package livefeed

import (
	"context"
	"testing"
	"time"
)

func TestUsageFanOut(t *testing.T) {
	h := New()
	ctx, cancel := context.WithCancel(context.Background())
	all := h.SubscribeUsage(ctx, func(UsageEvent) bool { return true })
	svc2 := h.SubscribeUsage(ctx, func(e UsageEvent) bool { return e.ServiceID == 2 })
	h.PublishUsage(UsageEvent{ServiceID: 1, Model: "a"})
	h.PublishUsage(UsageEvent{ServiceID: 2, Model: "b"})
	if e := <-all; e.Model != "a" {
		t.Fatalf("first event %v", e)
	}
	if e := <-svc2; e.Model != "b" {
		t.Fatalf("filtered subscriber got %v", e)
	}
	for i := 0; i < 100; i++ { // more than the buffer: never blocks
		h.PublishUsage(UsageEvent{ServiceID: 3})
	}
	if h.Dropped() == 0 {
		t.Fatal("a full subscriber did not drop")
	}
	cancel()
	time.Sleep(10 * time.Millisecond)
	h.mu.Lock()
	n := len(h.usage)
	h.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d subscribers left after cancel", n)
	}
}

func TestRateLimitSignals(t *testing.T) {
	h := New()
	ch := h.SubscribeRateLimits(context.Background(), 7)
	h.PublishRateLimits(8)
	h.PublishRateLimits(7)
	h.PublishRateLimits(7)
	select {
	case <-ch:
	default:
		t.Fatal("no signal for the credential")
	}
	select {
	case <-ch:
		t.Fatal("signals did not coalesce")
	default:
	}
}
