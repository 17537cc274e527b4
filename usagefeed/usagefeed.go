// Package usagefeed derives from each batch of written usage records what
// else follows from it: the budget spend the requests settled (durable in
// the batch's own transaction), the hourly roll-ups (in the same
// transaction), and, once the batch is committed, a live event for every
// subscription on every replica and the operators' metrics. Replicas relay
// their events to each other through the change feed's messages only
// while another replica has a subscriber, so that nobody pays for
// messages no dashboard reads.
package usagefeed

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/proxy"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/usagelog"
)

// Options are what a Feed derives into.
type Options struct {
	DB      *database.DB
	Budgets budget.Ledger
	Live    *livefeed.Hub
	Metrics *metrics.Metrics
	// Messenger reaches the other replicas (PostgreSQL's change feed);
	// nil when this process is the only one.
	Messenger changefeed.Messenger
	Log       *slog.Logger
}

// Feed is the derivations of one usage writer: pass Ledger, InTx and
// OnWrite to usagelog.Options, and run Run while the writer runs.
type Feed struct {
	db      *database.DB
	budgets budget.Ledger
	live    *livefeed.Hub
	metrics *metrics.Metrics
	names   serviceNames
	// relay is nil without a Messenger.
	relay *usageRelay
	log   *slog.Logger
}

// New returns a feed, listening for the other replicas' events and
// announcements when there is a Messenger.
func New(o Options) *Feed {
	f := &Feed{db: o.DB, budgets: o.Budgets, live: o.Live, metrics: o.Metrics, names: serviceNames{client: o.DB.Client}, log: o.Log}
	if o.Messenger == nil {
		return f
	}
	f.relay = &usageRelay{m: o.Messenger, log: o.Log}
	o.Messenger.OnMessage(func(payload string) {
		if f.relay.heard(payload) {
			return
		}
		for _, e := range decodeUsageEvents(payload) {
			f.live.PublishUsage(e)
		}
	})
	f.live.OnSubscribeUsage = f.relay.announce
	return f
}

// Run repeats this replica's announcement while it has usage subscribers,
// until ctx ends; without other replicas it returns at once.
func (f *Feed) Run(ctx context.Context) {
	if f.relay != nil {
		f.relay.run(ctx, f.live)
	}
}

// Ledger makes each batch's settled budget spend durable in the batch's
// transaction.
func (f *Feed) Ledger() usagelog.Ledger { return spendLedger{f.budgets} }

// InTx adds a batch to its hourly roll-ups, in the batch's transaction.
func (f *Feed) InTx(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
	return rollup.Add(ctx, tx, f.db.Dialect, batch)
}

// OnWrite hands a committed batch to the live subscriptions (this
// replica's, and the others' while they watch) and to the metrics.
func (f *Feed) OnWrite(batch []usagelog.Record) {
	if f.relay.watched() {
		sendUsageEvents(f.relay.m, batch, f.log)
	}
	for i := range batch {
		r := &batch[i]
		f.live.PublishUsage(usageEvent(r))
		observe(f.metrics, r, f.names.name(r.ServiceID))
	}
}

// spendLedger makes each usage batch's settled budget spend durable in the
// batch's transaction (budget.Settlement).
type spendLedger struct{ b budget.Ledger }

func (l spendLedger) Lock()   { l.b.LockJournal() }
func (l spendLedger) Unlock() { l.b.UnlockJournal() }

func (l spendLedger) Write(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) (func(bool), error) {
	var settled []*budget.Settlement
	for i := range batch {
		if s := batch[i].Spend; s != nil {
			settled = append(settled, s)
		}
	}
	return l.b.WriteJournal(ctx, tx, settled)
}

// usageEvent is the part of a record that live subscriptions show.
func usageEvent(r *usagelog.Record) livefeed.UsageEvent {
	return livefeed.UsageEvent{
		RequestID: r.RequestID, OrgID: r.OrganizationID, ServiceID: r.ServiceID, APIKeyID: r.APIKeyID,
		Model: r.Model, Status: r.Status, Tokens: r.Tokens, Cost: r.Cost, Priced: r.Priced,
		Latency: time.Duration(r.LatencyUs) * time.Microsecond, At: r.CreatedAt,
	}
}

// otherModel labels requests whose model name came only from the client.
const otherModel = "other"

// metricsModel is the model label of a request: its model when the
// service enables it (a name an admin configured), "other" otherwise. A
// key holder sending made-up model names, which are refused before any
// upstream sees them, must not be able to grow the number of series: a
// refusal's record is priced (it cost nothing) but its model is the
// client's.
func metricsModel(r *usagelog.Record) string {
	if r.ModelEnabled {
		return r.Model
	}
	return otherModel
}

// metricsService labels a record's service with its organization's id:
// service names are unique only within an organization.
func metricsService(r *usagelog.Record, name string) metrics.Service {
	return metrics.Service{Org: strconv.Itoa(r.OrganizationID), Name: name}
}

func requestMetrics(r *usagelog.Record, service string) metrics.Request {
	m := metrics.Request{
		Service: metricsService(r, service), Model: metricsModel(r), Protocol: r.Protocol, Status: r.Status,
		Duration: time.Duration(r.LatencyUs) * time.Microsecond,
		Tokens:   r.Tokens, Cost: r.Cost, Priced: r.Priced,
	}
	if r.TTFBUs != nil {
		m.TTFB = time.Duration(*r.TTFBUs) * time.Microsecond
	}
	return m
}

// observe counts a written record in the metrics: the request, and why it
// failed if it did.
func observe(m *metrics.Metrics, r *usagelog.Record, service string) {
	m.ObserveRequest(requestMetrics(r, service))
	s := metricsService(r, service)
	switch r.Failure {
	case "":
	case proxy.FailureBudget:
		m.BudgetRefusal(s)
	case proxy.FailureBudgetBusy:
		m.BudgetContended(s)
	default:
		m.UpstreamError(s, r.Failure)
	}
}

// serviceNames labels metrics with service names, looked up once per
// service off the request path (in the usage writer's goroutine).
type serviceNames struct {
	client *ent.Client
	mu     sync.Mutex
	names  map[int]string
}

func (s *serviceNames) name(id int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.names[id]; ok {
		return n
	}
	name := strconv.Itoa(id)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if svc, err := s.client.Service.Get(ctx, id); err == nil {
		name = svc.ServiceName
	}
	if s.names == nil {
		s.names = map[int]string{}
	}
	s.names[id] = name
	return name
}

// usageRelay decides whether this replica's usage events go to the
// others: only while some other replica has a usage subscriber, so that
// nobody pays for NOTIFY traffic that no dashboard reads. A replica with
// subscribers says so when one subscribes and every watchEvery after;
// hearing it keeps the relay on for watchFor.
type usageRelay struct {
	m     changefeed.Messenger
	log   *slog.Logger
	until atomic.Int64 // unix nanoseconds until which another replica watches
}

const (
	watchingMessage = "watching"
	watchEvery      = 5 * time.Second
	watchFor        = 3 * watchEvery
)

// heard reports whether payload was another replica's announcement, and
// notes it.
func (r *usageRelay) heard(payload string) bool {
	if payload != watchingMessage {
		return false
	}
	r.until.Store(time.Now().Add(watchFor).UnixNano())
	return true
}

// watched reports whether another replica has announced a subscriber
// lately; false without a relay (SQLite, one process).
func (r *usageRelay) watched() bool {
	return r != nil && time.Now().UnixNano() < r.until.Load()
}

// announce tells the other replicas that this one has a subscriber.
func (r *usageRelay) announce() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.m.Send(ctx, watchingMessage); err != nil {
		r.log.Warn("tell the other replicas of a usage subscriber", "err", err)
	}
}

// run repeats the announcement while feed has usage subscribers.
func (r *usageRelay) run(ctx context.Context, feed *livefeed.Hub) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if feed.UsageSubscribers() > 0 {
				r.announce()
			}
		}
	}
}

// sendUsageEvents hands a batch's events to the other replicas, in
// messages under the notification size limit.
func sendUsageEvents(m changefeed.Messenger, batch []usagelog.Record, log *slog.Logger) {
	var msg []livefeed.UsageEvent
	size := 2
	flush := func() {
		if len(msg) == 0 {
			return
		}
		b, _ := json.Marshal(msg)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := m.Send(ctx, string(b)); err != nil {
			log.Warn("send live usage events to other replicas", "err", err)
		}
		msg, size = msg[:0], 2
	}
	for i := range batch {
		e := usageEvent(&batch[i])
		b, _ := json.Marshal(e)
		if size+len(b)+1 > changefeed.MaxMessage {
			flush()
		}
		msg = append(msg, e)
		size += len(b) + 1
	}
	flush()
}

// decodeUsageEvents reads another replica's message; garbage decodes to
// nothing.
func decodeUsageEvents(payload string) []livefeed.UsageEvent {
	var events []livefeed.UsageEvent
	if err := json.Unmarshal([]byte(payload), &events); err != nil {
		return nil
	}
	return events
}
