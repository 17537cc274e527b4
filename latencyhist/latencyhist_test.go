package latencyhist

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{Floor - 1, 0},
		{Floor, 1},
		{bound(1) - 1, 1},
		{bound(1), 2},
		{2 * Floor, 1 + perDoubling},
		{bound(Buckets - 2), Buckets - 1},
		{24 * time.Hour, Buckets - 1},
	}
	for _, c := range cases {
		if got := Bucket(c.d); got != c.want {
			t.Errorf("Bucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

// TestQuantileError: within the covered range every quantile is within
// the stated relative error of the exact one, and merged histograms read
// as the histogram of all their latencies.
func TestQuantileError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b, all Histogram
	var exact []time.Duration
	for i := range 20000 {
		d := time.Duration(math.Exp(rng.NormFloat64()*1.2+math.Log(2e9))) % (10 * time.Minute)
		d = max(d, Floor)
		exact = append(exact, d)
		all.Observe(d)
		if i%2 == 0 {
			a.Observe(d)
		} else {
			b.Observe(d)
		}
	}
	a.Add(&b)
	if a != all {
		t.Fatal("merged halves differ from the whole")
	}
	sort.Slice(exact, func(i, j int) bool { return exact[i] < exact[j] })
	bound := math.Exp2(1.0/6) - 1
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		got, ok := all.Quantile(q)
		want := exact[int(math.Ceil(q*float64(len(exact))))-1]
		if rel := math.Abs(float64(got-want)) / float64(want); !ok || rel > bound+1e-9 {
			t.Errorf("q%v = %v, exact %v: relative error %.3f > %.3f", q, got, want, rel, bound)
		}
	}
}

func TestQuantileEmpty(t *testing.T) {
	var h Histogram
	if _, ok := h.Quantile(0.5); ok {
		t.Fatal("an empty histogram has a median")
	}
	h.Observe(time.Millisecond)
	if got, ok := h.Quantile(0.99); !ok || got != Floor/2 {
		t.Fatalf("under the floor reads as %v, %v", got, ok)
	}
}
