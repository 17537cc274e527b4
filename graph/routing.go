package graph

import "github.com/sluicehq/sluice/graph/model"

// targetState is a target's live state from the proxy; without one (tests,
// a replica that routed nothing yet) every target is healthy.
func (r *Resolver) targetState(id int) *model.TargetState {
	if r.TargetHealth == nil {
		return &model.TargetState{Healthy: true}
	}
	s := r.TargetHealth.Health(id)
	out := &model.TargetState{Healthy: s.Healthy, ConsecutiveFailures: s.ConsecutiveFailures}
	if !s.CoolingDownUntil.IsZero() {
		u := s.CoolingDownUntil.UTC()
		out.CoolingDownUntil = &u
	}
	if s.LastError != "" {
		out.LastError = &s.LastError
	}
	return out
}
