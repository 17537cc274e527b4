package graph

import "github.com/sluicehq/sluice/rollup"

// latencyMs is the sums' latency quantile q in milliseconds, or nil when
// none of their requests has a latency histogram.
func latencyMs(s *rollup.Sums, q float64) *float64 {
	d, ok := s.LatencyQuantile(q)
	if !ok {
		return nil
	}
	ms := float64(d.Microseconds()) / 1000
	return &ms
}
