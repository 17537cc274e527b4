package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/rollup"
)

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

// seriesLatencyAsked reports whether the usage report being resolved is
// asked for a latency percentile of its series' points
// (series { sums { latencyP95Ms } }): only then does the series read the
// roll-ups' latency histograms, five sixths of their columns.
func seriesLatencyAsked(ctx context.Context) bool {
	oc := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	if oc == nil || fc == nil {
		return true
	}
	for _, series := range graphql.CollectFields(oc, fc.Field.Selections, []string{"UsageReport"}) {
		if series.Name != "series" {
			continue
		}
		for _, sums := range graphql.CollectFields(oc, series.Selections, []string{"UsagePoint"}) {
			if sums.Name != "sums" {
				continue
			}
			for _, f := range graphql.CollectFields(oc, sums.Selections, []string{"UsageSums"}) {
				if strings.HasPrefix(f.Name, "latencyP") {
					return true
				}
			}
		}
	}
	return false
}
