package budget_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
)

// The simulation's size: steps per seed, the first seed and how many
// seeds each mode runs. CI runs the defaults (a PostgreSQL step takes a
// few round trips, an SQLite step a fraction of one); replay a failure, or
// run a million steps by hand, with the flags (or the SLUICE_SIM_*
// variables):
//
//	go test ./budget -run 'TestLedgerSimulation/postgres/leased/seed=7$' -sim.seed=7 -sim.steps=20000
//	go test ./budget -run TestLedgerSimulation/sqlite -sim.seed=100 -sim.seeds=25 -sim.steps=20000 -timeout=1h
var (
	simSteps = flag.Int("sim.steps", envInt("SLUICE_SIM_STEPS", 0), "ledger simulation: steps per seed (default 8,000 on SQLite, 1,500 on PostgreSQL)")
	simSeed  = flag.Int("sim.seed", envInt("SLUICE_SIM_SEED", 1), "ledger simulation: the first seed")
	simSeeds = flag.Int("sim.seeds", envInt("SLUICE_SIM_SEEDS", 3), "ledger simulation: how many seeds from -sim.seed (1 when -sim.seed is given)")
)

// steps is how many steps each seed runs on the dialect.
func steps(dialectName string) int {
	switch {
	case *simSteps > 0:
		return *simSteps
	case dialectName == dialect.Postgres:
		return 1_500
	}
	return 8_000
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// seeds is the seeds to run: -sim.seeds of them from -sim.seed, or only
// the one named when a seed is given explicitly to replay it.
func seeds() []int {
	n := *simSeeds
	explicit := os.Getenv("SLUICE_SIM_SEED") != ""
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "sim.seed" {
			explicit = true
		}
		if f.Name == "sim.seeds" {
			explicit = false
		}
	})
	if explicit && os.Getenv("SLUICE_SIM_SEEDS") == "" {
		n = 1
	}
	out := make([]int, n)
	for i := range out {
		out[i] = *simSeed + i
	}
	return out
}

// TestLedgerSimulation drives the budget ledger in its two production
// modes, the embedded one (one process) and the leased one (one to three
// replicas on one database), with a seeded scheduler that interleaves
// reserves, settles (now and then above the reservation), cancels, lease
// grants, renewals, hand-backs and sweeps, flushes, replica crashes and
// restarts, database outages, a replica cut off alone, and COMMITs whose
// answer is lost (applied or not). The simulation keeps its own ledger of
// every settle, so nothing the database deletes or loses blurs it.
//
// The ledger promises: spend is durable once a flush wrote it (the flush
// returned nil, or its COMMIT was applied before the answer was lost);
// what a replica settled and had not written when it crashed is lost,
// and the database never sees it. So the checks are:
//
//   - stored (after every step that ran a statement): each window's spent
//     in the database equals the settled spend minus what crashes lost
//     minus what the live replicas hold unwritten; equivalently, after a
//     flush with the database up, spent equals every settle not lost.
//     A flush written twice fails it at once.
//   - block (after every step): in each limited window, the settled spend
//     the ledger covers stays within the block: every settle counted up to
//     its reservation (a settle above it passes the block by the
//     difference, and is logged), without what crashes lost (its headroom
//     goes back with the lease, or the embedded process reloads spent
//     without it) and without the spend of a replica whose lease another
//     sweep returned while it lived (it lands late, on top: the documented
//     way past a block).
//
// At the end, with the database up, every request settled, every lease
// handed back or swept, the stored check holds again and nothing is
// reserved.
func TestLedgerSimulation(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		for _, leased := range []bool{false, true} {
			mode := map[bool]string{false: "embedded", true: "leased"}[leased]
			t.Run(mode, func(t *testing.T) {
				for _, seed := range seeds() {
					t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
						s := newSim(t, dialectName, leased, seed)
						s.run(steps(dialectName))
						t.Logf("%s", s.stats)
					})
				}
			})
		}
	})
}

// wkey names one spend window.
type wkey = budget.TestKey

// label names a window in a failure: key 100 hour from 2026-03-31T22:00:00Z.
func label(k wkey) string {
	return fmt.Sprintf("%s %d %s from %s", k.Scope, k.ID, k.Window, time.Unix(0, k.Start).UTC().Format(time.RFC3339))
}

// simReq is a reservation the simulation holds open.
type simReq struct {
	res    *budget.Reservation
	amount money.Micros
	keys   []wkey
	// late are the windows whose lease was swept while this request was
	// open: its spend there lands on top of what others got back.
	late map[wkey]bool
}

// replica is one process with its own connection pool.
type replica struct {
	name string
	b    budget.Ledger
	// leased is b in the leased mode, nil in the embedded one.
	leased *budget.Leased
	pool   *database.DB
	f      *faults // cuts this replica off alone
	// cutOff is the step its cut-off ends; 0 when connected.
	cutOff int
	open   []*simReq
	// pend is spend settled here and not yet acknowledged as written;
	// cover the part of it the block guarantee covers.
	pend, cover map[wkey]money.Micros
	// unwritten is the pending settles' sum, once per request, and
	// unwrittenN how many there are.
	unwritten  money.Micros
	unwrittenN int
	// flushedAt is when a flush last returned nil.
	flushedAt time.Time
}

// simStats are a run's totals.
type simStats struct {
	steps, reserved, refused, contended, reserveErrs  int
	settled, over, cancelled, flushes, flushErrs      int
	ambiguous, applied, lostCommits, outages, cutoffs int
	crashes, sweeps, swept, lateLeases, grantsLost    int
	lost, late, overshoot, settledSum                 money.Micros
	maxLostAge                                        time.Duration
	maxLostN                                          int
}

func (s simStats) String() string {
	return fmt.Sprintf("%d steps: %d reserved (%d refused, %d contended, %d failed), %d settled (%d above the reservation), %d cancelled, "+
		"%d flushes (%d failed), %d flush COMMIT answers lost (%d applied), %d lost flush commits, %d grant COMMIT answers lost, %d outages, %d cut-offs, %d crashes, "+
		"%d sweeps (%d leases swept, %d of a live replica); settled %s, lost in crashes %s (at most %d settles in one crash, the last flush %s before), most landing late in one window %s, "+
		"most past a block %s",
		s.steps, s.reserved, s.refused, s.contended, s.reserveErrs, s.settled, s.over, s.cancelled, s.flushes, s.flushErrs,
		s.ambiguous, s.applied, s.lostCommits, s.grantsLost, s.outages, s.cutoffs, s.crashes, s.sweeps, s.swept, s.lateLeases,
		s.settledSum, s.lost, s.maxLostN, s.maxLostAge, s.late, s.overshoot)
}

type sim struct {
	t        *testing.T
	ctx      context.Context
	seed     int
	dialect  string
	leased   bool
	rng      *rand.Rand
	step     int
	target   database.Target
	read     *database.DB // a connection without faults, for the checks
	dbFaults *faults      // the database itself
	outage   int          // the step the outage ends; 0 when up
	clk      *clock
	replicas []*replica
	shapes   [][]budget.Subject
	blocks   map[wkey]money.Micros

	// The model: spend settled, acknowledged as written, and the part the
	// block guarantee covers, per window.
	settled, durable, covered, raw map[wkey]money.Micros
	stats                          simStats
	// checked is the database's statement count at the last check.
	checked int
	trace   []string
}

func newSim(t *testing.T, dialectName string, leased bool, seed int) *sim {
	target := testenv.Target(t, dialectName)
	if dialectName == dialect.Postgres {
		// The simulation loses COMMITs on purpose; waiting for the disk
		// at each one only slows it down.
		target.DSN += "&synchronous_commit=off"
	}
	read, err := database.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { read.Close() })
	if _, err := migrationsApply(context.Background(), read); err != nil {
		t.Fatal(err)
	}
	s := &sim{
		t: t, ctx: context.Background(), seed: seed, dialect: dialectName, leased: leased,
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x511ce)),
		target: target, read: read, dbFaults: &faults{}, clk: newClock("2026-03-31T22:30:00Z"),
		blocks:  map[wkey]money.Micros{},
		settled: map[wkey]money.Micros{}, durable: map[wkey]money.Micros{}, covered: map[wkey]money.Micros{}, raw: map[wkey]money.Micros{},
	}
	µ := func(n int64) *money.Micros { m := money.Micros(n); return &m }
	// Blocks a few dozen requests wide, so that the scheduler reaches
	// them within a window; warn limits for the crossings' writes.
	org := budget.Subject{Scope: budget.ScopeOrg, ID: 1, Name: "org", Limits: budget.Limits{2: µ(200_000), 3: µ(500_000)}}
	svcA := budget.Subject{Scope: budget.ScopeService, ID: 10, Name: "svc-a", Limits: budget.Limits{0: µ(40_000), 1: µ(100_000)}}
	svcB := budget.Subject{Scope: budget.ScopeService, ID: 11, Name: "svc-b", Limits: budget.Limits{5: µ(4_000_000)}}
	keys := []budget.Subject{
		{Scope: budget.ScopeKey, ID: 100, Name: "k100", Limits: budget.Limits{1: µ(50_000), 6: µ(5_000_000)}},
		{Scope: budget.ScopeKey, ID: 101, Name: "k101", Limits: budget.Limits{2: µ(60_000), 3: µ(150_000)}},
		{Scope: budget.ScopeKey, ID: 102, Name: "k102"},
	}
	s.shapes = [][]budget.Subject{{keys[0], svcA, org}, {keys[1], svcA, org}, {keys[2], svcB, org}, {keys[2], svcB}}
	n := 1
	if leased {
		n = 1 + s.rng.IntN(3)
	}
	for i := range n {
		r := &replica{name: fmt.Sprintf("r%d", i), f: &faults{}}
		s.start(r)
		s.replicas = append(s.replicas, r)
	}
	return s
}

// start gives r a fresh process: a new pool and new in-memory state.
func (s *sim) start(r *replica) {
	r.pool = openFaulty(s.t, s.target, r.f, s.dbFaults)
	opts := budget.Options{Log: quiet, Now: s.clk.Now}
	if s.leased {
		r.leased = budget.NewLeased(r.pool, opts)
		r.b = r.leased
	} else {
		r.b = budget.NewEmbedded(r.pool, opts)
	}
	r.open, r.pend, r.cover, r.flushedAt = nil, map[wkey]money.Micros{}, map[wkey]money.Micros{}, s.clk.Now()
	r.unwritten, r.unwrittenN = 0, 0
}

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("step %d %s: ", s.step, s.clk.Now().Format("01-02T15:04:05.000"))+fmt.Sprintf(format, args...))
	if len(s.trace) > 40 {
		s.trace = s.trace[len(s.trace)-40:]
	}
}

// fail stops the run, naming the seed, the step and how to replay it.
func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	name := s.t.Name()
	s.t.Fatalf("seed %d, step %d: %s\nlast steps:\n  %s\nreplay: go test ./budget -count=1 -run '^%s$' -sim.seed=%d -sim.steps=%d",
		s.seed, s.step, fmt.Sprintf(format, args...), strings.Join(s.trace, "\n  "), name, s.seed, steps(s.dialect))
}

func (s *sim) run(steps int) {
	for s.step = 1; s.step <= steps; s.step++ {
		s.advance()
		s.act()
		s.stats.steps++
		s.check()
	}
	s.quiesce()
}

// advance moves the clock: mostly a fraction of a second, sometimes past
// a lease's life, now and then into the next hour.
func (s *sim) advance() {
	var d time.Duration
	switch p := s.rng.IntN(1000); {
	case p < 2:
		now := s.clk.Now()
		d = now.Truncate(time.Hour).Add(time.Hour).Sub(now) + time.Duration(s.rng.IntN(2000))*time.Millisecond
	case p < 12:
		d = time.Duration(10+s.rng.IntN(110)) * time.Second
	default:
		d = time.Duration(s.rng.IntN(250)) * time.Millisecond
	}
	s.clk.Set(s.clk.Now().Add(d))
	if s.outage != 0 && s.step >= s.outage {
		s.dbFaults.setDown(false)
		s.outage = 0
		s.logf("database back")
	}
	for _, r := range s.replicas {
		if r.cutOff != 0 && s.step >= r.cutOff {
			r.f.setDown(false)
			r.cutOff = 0
			s.logf("%s reconnected", r.name)
		}
	}
}

// act runs one operation the scheduler picks.
func (s *sim) act() {
	r := s.replicas[s.rng.IntN(len(s.replicas))]
	switch p := s.rng.IntN(1000); {
	case p < 370:
		s.reserve(r, commitOK)
	case p < 380:
		s.reserve(r, commitApplied)
	case p < 680:
		s.settle(r, false)
	case p < 730:
		s.settle(r, true)
	case p < 840:
		s.flush(r, false, commitOK)
	case p < 860:
		s.flush(r, true, commitOK)
	case p < 900:
		if s.leased {
			s.sweep(r)
		}
	case p < 925:
		s.flush(r, s.rng.IntN(2) == 0, commitApplied)
	case p < 935:
		s.flush(r, false, commitLost)
	case p < 937:
		if s.outage == 0 {
			s.outage = s.step + 1 + s.rng.IntN(200)
			s.dbFaults.setDown(true)
			s.stats.outages++
			s.logf("database down until step %d", s.outage)
		}
	case p < 939:
		if r.cutOff == 0 {
			r.cutOff = s.step + 1 + s.rng.IntN(200)
			r.f.setDown(true)
			s.stats.cutoffs++
			s.logf("%s cut off until step %d", r.name, r.cutOff)
		}
	case p < 943:
		s.crash(r)
	}
}

// reserve reserves for one request on r, the next COMMIT behaving as
// fault.
func (s *sim) reserve(r *replica, fault commitFault) {
	shape := s.shapes[s.rng.IntN(len(s.shapes))]
	amount := money.Micros(1 + s.rng.IntN(6000))
	r.f.arm(fault)
	res, err := r.b.Reserve(s.ctx, budget.Request{OrgID: 1, Subjects: shape, Amount: amount})
	if fired, _ := r.f.disarm(); fired {
		// A lease grant's: the lease row holds more than the replica
		// knows of (a grown lease) or a lease it never learnt of (a new
		// one, swept when it expires). Either goes back in the end.
		s.stats.grantsLost++
		s.logf("%s reserve: the grant's COMMIT answer was lost", r.name)
	}
	var refusal *budget.Refusal
	var contended *budget.ContendedError
	switch {
	case err == nil:
		now := s.clk.Now()
		req := &simReq{res: res, amount: amount, late: map[wkey]bool{}}
		for _, subj := range shape {
			for _, w := range budget.Windows {
				k := wkey{Scope: subj.Scope, ID: subj.ID, Window: w, Start: w.Start(now).UnixNano()}
				req.keys = append(req.keys, k)
				if _, block := subj.Limits.For(w); block != nil {
					s.blocks[k] = *block
				}
			}
		}
		r.open = append(r.open, req)
		s.stats.reserved++
		s.logf("%s reserve %s %s: held", r.name, shape[0].Name, amount)
	case errors.As(err, &refusal):
		s.stats.refused++
		s.logf("%s reserve %s %s: refused", r.name, shape[0].Name, amount)
	case errors.As(err, &contended):
		s.stats.contended++
		s.logf("%s reserve %s %s: contended", r.name, shape[0].Name, amount)
	default:
		s.stats.reserveErrs++
		s.logf("%s reserve %s %s: %v", r.name, shape[0].Name, amount, err)
	}
}

// settle settles one open request of r at a cost up to its reservation,
// now and then above it, or cancels it (settles at zero).
func (s *sim) settle(r *replica, cancel bool) {
	if len(r.open) == 0 {
		return
	}
	i := s.rng.IntN(len(r.open))
	req := r.open[i]
	r.open = slices.Delete(r.open, i, i+1)
	var actual money.Micros
	switch {
	case cancel:
		s.stats.cancelled++
	case s.rng.IntN(100) == 0:
		actual = req.amount + money.Micros(1+s.rng.IntN(int(req.amount)))
		s.stats.over++
	default:
		actual = money.Micros(s.rng.IntN(int(req.amount) + 1))
	}
	if err := req.res.Settle(s.ctx, actual); err != nil {
		s.fail("settle: %v", err)
	}
	s.stats.settled++
	s.stats.settledSum += actual
	r.unwritten += actual
	r.unwrittenN++
	for _, k := range req.keys {
		s.settled[k] += actual
		r.pend[k] += actual
		if _, limited := s.blocks[k]; limited {
			s.raw[k] += actual
			if !req.late[k] {
				c := min(actual, req.amount)
				s.covered[k] += c
				r.cover[k] += c
			}
		}
	}
	s.logf("%s settle %s of %s", r.name, actual, req.amount)
}

// flush runs r's background flush (or, full, the shutdown's, which hands
// every lease back) with the next COMMIT behaving as fault.
func (s *sim) flush(r *replica, full bool, fault commitFault) {
	r.f.arm(fault)
	var err error
	if full || !s.leased {
		err = r.b.Flush(s.ctx)
	} else {
		err = r.leased.FlushTick(s.ctx)
	}
	fired, committed := r.f.disarm()
	s.stats.flushes++
	switch {
	case fired && fault == commitApplied:
		s.stats.ambiguous++
		if err == nil {
			s.fail("a flush whose COMMIT answer was lost returned nil")
		}
		if committed {
			// Written, though the ledger cannot know it yet.
			s.stats.applied++
			s.written(r)
		}
		s.logf("%s flush: COMMIT answer lost (applied %v): %v", r.name, committed, err)
	case fired && fault == commitLost:
		s.stats.lostCommits++
		s.logf("%s flush: COMMIT lost: %v", r.name, err)
	case err == nil:
		s.written(r)
		r.flushedAt = s.clk.Now()
		s.logf("%s flush (full %v)", r.name, full)
	default:
		s.stats.flushErrs++
		s.logf("%s flush: %v", r.name, err)
	}
}

// written moves r's pending spend into what the database holds.
func (s *sim) written(r *replica) {
	for k, v := range r.pend {
		s.durable[k] += v
	}
	clear(r.pend)
	clear(r.cover)
	r.unwritten, r.unwrittenN = 0, 0
}

// sweep runs r's sweeper; a lease it returns that a live replica still
// holds makes that replica's unwritten spend there, and its open
// requests' spend, land late.
func (s *sim) sweep(r *replica) {
	before := s.leaseRows()
	held := map[*replica]map[wkey]int64{}
	for _, o := range s.replicas {
		held[o] = o.leased.Leases()
	}
	n, err := r.leased.Sweep(s.ctx)
	s.stats.sweeps++
	if err != nil {
		s.logf("%s sweep: %v", r.name, err)
		return
	}
	s.stats.swept += n
	s.logf("%s sweep: %d", r.name, n)
	if n == 0 {
		return
	}
	after := s.leaseRows()
	for _, o := range s.replicas {
		for k, id := range held[o] {
			if !before[id] || after[id] {
				continue
			}
			s.stats.lateLeases++
			s.stats.late = max(s.stats.late, o.pend[k])
			s.covered[k] -= o.cover[k]
			delete(o.cover, k)
			for _, req := range o.open {
				req.late[k] = true
			}
			s.logf("%s's lease on %s swept while it lived", o.name, label(k))
		}
	}
}

func (s *sim) leaseRows() map[int64]bool {
	rows, err := s.read.SQL.QueryContext(s.ctx, "SELECT id FROM budget_reservations")
	if err != nil {
		s.fail("read leases: %v", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			s.fail("read leases: %v", err)
		}
		out[id] = true
	}
	return out
}

// crash ends r's process without a flush and starts a new one: its
// unwritten spend is lost, its open requests die with it, and its leases
// stay in the database until a sweeper returns them.
func (s *sim) crash(r *replica) {
	lost := r.unwritten
	for k := range r.pend {
		s.covered[k] -= r.cover[k]
	}
	if lost > 0 {
		s.stats.maxLostAge = max(s.stats.maxLostAge, s.clk.Now().Sub(r.flushedAt))
		s.stats.maxLostN = max(s.stats.maxLostN, r.unwrittenN)
	}
	s.stats.lost += lost
	s.stats.crashes++
	r.pool.Close()
	r.f.setDown(false)
	r.cutOff = 0
	s.start(r)
	s.logf("%s crashed (lost %s) and restarted", r.name, lost)
}

// check compares the database and the model after a step.
func (s *sim) check() {
	s.t.Helper()
	for k, block := range s.blocks {
		if s.covered[k] > block {
			s.fail("%s: covered settled spend %s is past the block %s", label(k), s.covered[k], block)
		}
	}
	for k := range s.blocks {
		s.stats.overshoot = max(s.stats.overshoot, s.raw[k]-s.blocks[k])
	}
	// Only a statement can change the database: after a step that ran
	// none, it holds what it held.
	if ran := s.dbFaults.ran(); ran != s.checked {
		s.checked = ran
	} else {
		return
	}
	stored, _ := s.stored()
	for k, want := range s.durable {
		if stored[k] != want {
			s.fail("%s: spent %s in the database; the ledger acknowledged %s as written", label(k), stored[k], want)
		}
	}
	for k, got := range stored {
		if _, ok := s.durable[k]; !ok && got != 0 {
			s.fail("%s: spent %s in the database; nothing was acknowledged as written", label(k), got)
		}
	}
}

// stored reads every window's spent and reserved from the database.
func (s *sim) stored() (spent, reserved map[wkey]money.Micros) {
	rows, err := s.read.SQL.QueryContext(s.ctx, `SELECT scope, scope_id, "window", window_start, spent, reserved FROM spend_windows`)
	if err != nil {
		s.fail("read spend windows: %v", err)
	}
	defer rows.Close()
	spent, reserved = map[wkey]money.Micros{}, map[wkey]money.Micros{}
	for rows.Next() {
		var scope, window string
		var id int
		var start time.Time
		var sp, rs int64
		if err := rows.Scan(&scope, &id, &window, &start, &sp, &rs); err != nil {
			s.fail("read spend windows: %v", err)
		}
		k := wkey{Scope: budget.Scope(scope), ID: id, Window: budget.Window(window), Start: start.UTC().UnixNano()}
		spent[k], reserved[k] = money.Micros(sp), money.Micros(rs)
	}
	if err := rows.Err(); err != nil {
		s.fail("read spend windows: %v", err)
	}
	return spent, reserved
}

// quiesce ends the run as a shutdown does: the database back, every
// request settled, every replica flushed (leases handed back), dead
// replicas' leases swept; then the database must hold exactly the
// acknowledged spend and nothing reserved.
func (s *sim) quiesce() {
	s.step++
	s.dbFaults.setDown(false)
	s.outage = 0
	for _, r := range s.replicas {
		r.f.setDown(false)
		for len(r.open) > 0 {
			s.settle(r, false)
		}
	}
	for range 2 {
		for _, r := range s.replicas {
			if err := r.b.Flush(s.ctx); err != nil {
				s.fail("final flush: %v", err)
			}
			s.written(r)
		}
	}
	s.clk.Set(s.clk.Now().Add(3 * time.Minute))
	if s.leased {
		if _, err := s.replicas[0].leased.Sweep(s.ctx); err != nil {
			s.fail("final sweep: %v", err)
		}
	}
	s.check()
	_, reserved := s.stored()
	for k, v := range reserved {
		if v != 0 {
			s.fail("%s: %s still reserved after every request settled and every lease went back", label(k), v)
		}
	}
	if n := len(s.leaseRows()); n != 0 {
		s.fail("%d reservation rows left after every lease went back", n)
	}
}
