// Package latencyhist counts request latencies in a fixed set of
// log-scale buckets, so that counts of different hours, keys and models
// add up into one histogram whose percentiles are as good as each part's.
//
// Bucket 0 counts latencies under Floor; bucket i (1 ≤ i < Buckets-1)
// counts [Floor·2^((i-1)/3), Floor·2^(i/3)); the last bucket counts
// everything from Floor·2^((Buckets-2)/3) (about 13.9 minutes) on. A
// percentile reads as its bucket's geometric midpoint, so for latencies
// between Floor and the last bound it is within 2^(1/6)−1 ≈ 12.3% of the
// true value; under Floor it reads as Floor/2, in the last bucket as the
// bucket's lower bound.
package latencyhist

import (
	"fmt"
	"math"
	"time"
)

// Buckets is the number of buckets.
const Buckets = 52

// Floor is the upper bound of bucket 0.
const Floor = 8 * time.Millisecond

// perDoubling is how many buckets split each doubling of latency.
const perDoubling = 3

// Histogram is a count of latencies per bucket.
type Histogram [Buckets]int64

// Column is the name of bucket i's column in a table that keeps a
// histogram as one column a bucket.
func Column(i int) string { return fmt.Sprintf("latency_b%02d", i) }

// bound is the upper bound of bucket i, for i < Buckets-1.
func bound(i int) time.Duration {
	return time.Duration(float64(Floor) * math.Exp2(float64(i)/perDoubling))
}

// Bucket is the bucket a latency falls in.
func Bucket(d time.Duration) int {
	if d < Floor {
		return 0
	}
	i := 1 + int(math.Floor(perDoubling*math.Log2(float64(d)/float64(Floor))))
	// Floating point may put a latency equal to a bound one bucket low
	// or high; the bounds themselves decide.
	for i > 1 && d < bound(i-1) {
		i--
	}
	for i < Buckets-1 && d >= bound(i) {
		i++
	}
	return min(i, Buckets-1)
}

// Observe counts one latency.
func (h *Histogram) Observe(d time.Duration) { h[Bucket(d)]++ }

// Add adds o's counts to h's.
func (h *Histogram) Add(o *Histogram) {
	for i := range h {
		h[i] += o[i]
	}
}

// Count is the number of latencies counted.
func (h *Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile is the latency at or under which a fraction q (0 < q ≤ 1) of
// the counted latencies fall, read as its bucket's representative value;
// false when nothing is counted.
func (h *Histogram) Quantile(q float64) (time.Duration, bool) {
	n := h.Count()
	if n == 0 {
		return 0, false
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(1, min(rank, n))
	var seen int64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return representative(i), true
		}
	}
	return representative(Buckets - 1), true
}

// representative is the value a latency in bucket i reads as.
func representative(i int) time.Duration {
	switch {
	case i == 0:
		return Floor / 2
	case i == Buckets-1:
		return bound(i - 1)
	default:
		return time.Duration(float64(Floor) * math.Exp2((float64(i)-0.5)/perDoubling))
	}
}
