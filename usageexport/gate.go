package usageexport

import "sync"

// MaxExports is how many exports one process streams at once, whatever
// the organizations: each holds a database connection for as long as its
// client reads.
const MaxExports = 4

// gate admits one export at a time per organization, and MaxExports in
// all, so that a script that asks again and again for a month of records
// cannot hold every database connection. The zero value is ready.
type gate struct {
	mu      sync.Mutex
	running map[int]bool // by organization
}

// enter admits an export of org's records, or says why not; leave ends
// an admitted one.
func (g *gate) enter(org int) (ok bool, why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.running[org]:
		return false, "an export of this organization's usage is already running; try again when it has finished"
	case len(g.running) >= MaxExports:
		return false, "the gateway is busy with other exports; try again in a minute"
	}
	if g.running == nil {
		g.running = map[int]bool{}
	}
	g.running[org] = true
	return true, ""
}

func (g *gate) leave(org int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.running, org)
}
