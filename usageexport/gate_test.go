package usageexport

import "testing"

func TestGate(t *testing.T) {
	var g gate
	steps := []struct {
		leave bool
		org   int
		want  bool
	}{
		{org: 1, want: true},
		{org: 1, want: false}, // the same organization waits for its first
		{org: 2, want: true},
		{leave: true, org: 1},
		{org: 1, want: true},
		{org: 3, want: true},
		{org: 4, want: true},
		{org: 5, want: false}, // MaxExports running
		{leave: true, org: 2},
		{org: 5, want: true},
	}
	for i, s := range steps {
		if s.leave {
			g.leave(s.org)
			continue
		}
		if ok, why := g.enter(s.org); ok != s.want || (ok == (why != "")) {
			t.Fatalf("step %d: enter(%d) = %v %q, want %v", i, s.org, ok, why, s.want)
		}
	}
}
