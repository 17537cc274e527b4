package pace

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// at is a time t seconds after a whole minute, for the window tests.
func at(t float64) time.Time {
	return time.Unix(1_800_000_000, 0).Add(time.Duration(t * float64(time.Second)))
}

// TestWindowRule: an admission counts its own second and the 60 before
// it, so what was admitted in second 0 leaves the window only when second
// 61 begins; taking back clamps at zero; RetryAfter and Reset say when
// the oldest and the newest counted seconds leave.
func TestWindowRule(t *testing.T) {
	type step struct {
		t     float64
		cost  int64
		admit bool
	}
	for _, tt := range []struct {
		name  string
		limit int64
		steps []step
	}{
		{"full minute refuses until second 61", 3, []step{
			{0.0, 1, true}, {0.5, 1, true}, {0.9, 1, true}, {0.9, 1, false},
			{59.9, 1, false}, {60.0, 1, false}, {60.99, 1, false}, {61.0, 1, true}, {61.0, 1, true}, {61.0, 1, true}, {61.0, 1, false},
		}},
		{"across a second boundary", 2, []step{
			{0.9, 1, true}, {1.0, 1, true}, {60.95, 1, false}, {61.0, 1, true}, {61.5, 1, false}, {62.0, 1, true},
		}},
		{"weighted costs", 1000, []step{
			{0, 600, true}, {10, 500, false}, {10, 400, true}, {30, 1, false}, {61, 600, true}, {71, 400, true}, {72, 1, false},
		}},
		{"a cost above the limit never fits", 10, []step{{0, 11, false}, {100, 11, false}, {100, 10, true}}},
		{"an idle window is empty", 5, []step{{0, 5, true}, {1000, 5, true}, {1000.5, 1, false}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for i, s := range tt.steps {
				b := bucketOf(at(s.t))
				got := w.fits(b, s.cost, tt.limit)
				if got != s.admit {
					t.Fatalf("step %d (t=%v cost %d): admitted %v, want %v (window holds %d)", i, s.t, s.cost, got, s.admit, w.total)
				}
				if got {
					w.add(b, s.cost)
				}
			}
		})
	}
}

func TestWindowRetryAndReset(t *testing.T) {
	var w window
	w.add(bucketOf(at(0.2)), 2)
	w.add(bucketOf(at(10.7)), 3)
	now := at(20.5)
	for _, tt := range []struct {
		cost, limit int64
		want        time.Duration
	}{
		{1, 6, 0}, // fits now
		{1, 5, 40*time.Second + 500*time.Millisecond}, // second 0 leaves at 61
		{2, 5, 40*time.Second + 500*time.Millisecond}, // freeing 2 is enough
		{3, 5, 50*time.Second + 500*time.Millisecond}, // both must leave: second 10 leaves at 71
		{6, 5, -1}, // never
	} {
		if got := w.retryAfter(now, tt.cost, tt.limit); got != tt.want {
			t.Errorf("retryAfter(cost %d, limit %d) = %v, want %v", tt.cost, tt.limit, got, tt.want)
		}
	}
	if got, want := w.reset(now), 50*time.Second+500*time.Millisecond; got != want {
		t.Errorf("reset = %v, want %v", got, want)
	}
	w.add(bucketOf(at(0.2)), -5)
	if w.total != 3 || w.counts[w.head-bucketOf(at(0.2))] != 0 {
		t.Errorf("taking back 5 of 2: total %d, bucket %d; want 3 and 0", w.total, w.counts[w.head-bucketOf(at(0.2))])
	}
	w.add(bucketOf(at(200)), 0)
	if w.total != 0 || w.reset(at(200)) != 0 {
		t.Errorf("after 200 s: total %d, reset %v; want empty", w.total, w.reset(at(200)))
	}
}

// TestWindowNeverPassesLimit: random admissions at random times, each
// admitted when the rule says so; no 60-second interval (checked from
// every admission's time) holds more than the limit, and under constant
// demand the limit is reached in every 61 seconds.
func TestWindowNeverPassesLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		limit := int64(1 + rng.IntN(40))
		var w window
		var admitted []float64
		tm := 0.0
		for tm < 400 {
			tm += rng.Float64() * 0.7
			b := bucketOf(at(tm))
			if w.fits(b, 1, limit) {
				w.add(b, 1)
				admitted = append(admitted, tm)
			}
		}
		for i, start := range admitted {
			end := start + 60
			n := 0
			for _, x := range admitted[i:] {
				if x < end {
					n++
				}
			}
			if int64(n) > limit {
				t.Fatalf("round %d: %d admitted in the 60 s from %.3f, limit %d", round, n, start, limit)
			}
		}
		// Demand never stops: every 61 seconds see the whole limit (after
		// the first, which may start mid-second).
		for from := 0.0; from+62 < tm; from += 61 {
			lo, _ := slices.BinarySearch(admitted, from)
			hi, _ := slices.BinarySearch(admitted, from+62)
			if int64(hi-lo) < limit {
				t.Fatalf("round %d: only %d admitted in the 62 s from %.0f, limit %d", round, hi-lo, from, limit)
			}
		}
	}
}
