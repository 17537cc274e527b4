package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

// adminSize is the size of the data set the admin step loads.
type adminSize struct {
	Keys, Services, Records, Days int
}

// adminLoaded is what the loader wrote: the rows the queries filter by
// and the sums the usage report must answer.
type adminLoaded struct {
	OrgID      int
	ServiceIDs []int
	KeyIDs     []int
	// KeyNames are the keys' names, in KeyIDs' order.
	KeyNames []string
	Records  int
	// From and To bound the records' creation times (To exclusive).
	From, To time.Time
	Totals   rollup.Sums
	// Models are the models the records name, most used first.
	Models []string
	// BusiestKey and BusiestService are those with the most records.
	BusiestKey, BusiestService int
	// KeysTook and RecordsTook are how long the keys (with services) and
	// the usage records (with their roll-ups) took to write.
	KeysTook, RecordsTook time.Duration
}

// loadModel is a model the generated traffic calls, with its share of
// requests and its price per million input and output tokens (micro-USD
// per token, so the cost is exact integer arithmetic).
type loadModel struct {
	name, protocol, endpoint string
	weight                   float64
	inPrice, outPrice        int64 // micro-USD per 1,000 tokens
	priced                   bool
	embedding                bool
}

// loadModels is the mix of the generated traffic: mostly small chat
// models, some large ones, embeddings, and a little unpriced local model.
var loadModels = []loadModel{
	{"gpt-4o-mini", "openai", "/v1/chat/completions", 0.34, 150, 600, true, false},
	{"gpt-4o", "openai", "/v1/chat/completions", 0.12, 2500, 10000, true, false},
	{"gpt-4.1-mini", "openai", "/v1/responses", 0.10, 400, 1600, true, false},
	{"o3-mini", "openai", "/v1/chat/completions", 0.04, 1100, 4400, true, false},
	{"text-embedding-3-small", "openai", "/v1/embeddings", 0.08, 20, 0, true, true},
	{"claude-haiku-4-5", "anthropic", "/v1/messages", 0.18, 1000, 5000, true, false},
	{"claude-sonnet-4-5", "anthropic", "/v1/messages", 0.12, 3000, 15000, true, false},
	{"llama-3.1-8b-local", "openai", "/v1/chat/completions", 0.02, 0, 0, false, false},
}

// loadErrors are the failed requests' statuses and messages, about 3% of
// the traffic in all.
var loadErrors = []struct {
	status int
	msg    string
}{
	{429, "rate limited by upstream"},
	{429, "budget exceeded: day block"},
	{500, "upstream error"},
	{502, "upstream connection reset"},
	{400, "invalid request: max_tokens too large"},
	{401, "invalid api key"},
}

// adminLoader writes the admin data set into a fresh database through
// Sluice's own code: the migrations, the bootstrap, ent for the keys, and
// the usage writer (multi-row INSERTs on SQLite, COPY on PostgreSQL) with
// the roll-ups in each batch's transaction, as the gateway writes them.
type adminLoader struct {
	size adminSize
	now  time.Time
	rng  *rand.Rand
}

// loadAdminData migrates the database at target and fills it.
func loadAdminData(ctx context.Context, target database.Target, size adminSize, now time.Time) (*adminLoaded, error) {
	if target.Dialect == dialect.SQLite {
		// The load's own connections keep the indexes in memory (a 1 GB
		// page cache) and skip the syncs: a load that fails is run again.
		target.DSN += "&_pragma=cache_size(-1048576)&_pragma=synchronous(OFF)"
	}
	db, err := database.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	l := &adminLoader{size: size, now: now.UTC().Truncate(time.Microsecond), rng: rand.New(rand.NewPCG(23, 42))}
	return l.load(ctx, db)
}

func (l *adminLoader) load(ctx context.Context, db *database.DB) (*adminLoaded, error) {
	if _, err := auth.Bootstrap(ctx, db.Client, benchPassword); err != nil {
		return nil, fmt.Errorf("create the admin: %w", err)
	}
	org, err := auth.DefaultOrganization(ctx, db.Client)
	if err != nil {
		return nil, fmt.Errorf("find the organization: %w", err)
	}
	out := &adminLoaded{OrgID: org.ID}
	start := time.Now()
	if err := l.services(ctx, db.Client, out); err != nil {
		return nil, err
	}
	if err := l.keys(ctx, db.Client, out); err != nil {
		return nil, err
	}
	out.KeysTook = time.Since(start)
	slog.Info("loaded services and keys", "services", len(out.ServiceIDs), "keys", len(out.KeyIDs), "took", out.KeysTook.Round(time.Millisecond))

	start = time.Now()
	spend, err := l.records(ctx, db, out)
	if err != nil {
		return nil, err
	}
	out.RecordsTook = time.Since(start)
	slog.Info("loaded usage records and roll-ups", "records", out.Records, "took", out.RecordsTook.Round(time.Millisecond),
		"rows/s", fmt.Sprintf("%.0f", float64(out.Records)/out.RecordsTook.Seconds()))
	if err := l.spendWindows(ctx, db.Client, spend); err != nil {
		return nil, err
	}
	if err := l.audit(ctx, db.Client, out); err != nil {
		return nil, err
	}
	// The planners' statistics, as a gateway that saw the data grow has
	// them: PostgreSQL's autovacuum vacuums and analyzes tables this size
	// soon after they are filled (the vacuum marks their pages all-visible,
	// which lets a count read an index alone), and Sluice refreshes
	// SQLite's at start and daily (Optimize, which counts a large table's
	// statistics by reads that block no writer).
	if db.Dialect == dialect.Postgres {
		if _, err := db.SQL.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return nil, fmt.Errorf("vacuum and analyze: %w", err)
		}
	}
	start = time.Now()
	if err := db.Optimize(ctx); err != nil {
		return nil, err
	}
	slog.Info("refreshed planner statistics", "took", time.Since(start).Round(time.Millisecond))
	return out, nil
}

// services creates the services, three of four OpenAI, the others
// Anthropic, every tenth with a daily and monthly block.
func (l *adminLoader) services(ctx context.Context, client *ent.Client, out *adminLoaded) error {
	for lo := 0; lo < l.size.Services; lo += 500 {
		hi := min(lo+500, l.size.Services)
		bulk := make([]*ent.ServiceCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			provider, models := "openai", []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o3-mini", "text-embedding-3-small"}
			if i%4 == 3 {
				provider, models = "anthropic", []string{"claude-haiku-4-5", "claude-sonnet-4-5"}
			}
			c := client.Service.Create().SetOrganizationID(out.OrgID).
				SetServiceName(fmt.Sprintf("service-%05d", i)).SetProvider(provider).
				SetModelsEnabled(models).SetAllowUnpricedModels(true)
			if i%10 == 0 {
				c.SetLimitCostDayBlock(money.Micros(500_000_000)).SetLimitCostMonthBlock(money.Micros(5_000_000_000))
			}
			bulk = append(bulk, c)
		}
		made, err := client.Service.CreateBulk(bulk...).Save(ctx)
		if err != nil {
			return fmt.Errorf("create services: %w", err)
		}
		for _, s := range made {
			out.ServiceIDs = append(out.ServiceIDs, s.ID)
		}
	}
	return nil
}

// keys creates the keys, spread over the services in turn, with real
// generated secrets (only their hash is kept); every fifth has a monthly
// block and a warning.
func (l *adminLoader) keys(ctx context.Context, client *ent.Client, out *adminLoaded) error {
	const chunk = 1000
	for lo := 0; lo < l.size.Keys; lo += chunk {
		hi := min(lo+chunk, l.size.Keys)
		bulk := make([]*ent.APIKeyCreate, 0, hi-lo)
		names := make([]string, 0, hi-lo)
		for i := lo; i < hi; i++ {
			gen, err := clientkey.New()
			if err != nil {
				return fmt.Errorf("generate a key: %w", err)
			}
			name := fmt.Sprintf("key-%06d", i)
			c := client.APIKey.Create().SetOrganizationID(out.OrgID).
				SetServiceID(out.ServiceIDs[i%len(out.ServiceIDs)]).
				SetName(name).SetKeyHash(gen.Hash).SetKeyPrefix(gen.Prefix).SetKeyLastFour(gen.LastFour).
				SetCreatedAt(l.now.Add(-time.Duration(l.size.Days) * 24 * time.Hour).Add(time.Duration(i) * time.Second))
			if i%5 == 0 {
				c.SetLimitCostMonthWarn(money.Micros(50_000_000)).SetLimitCostMonthBlock(money.Micros(100_000_000))
			}
			bulk = append(bulk, c)
			names = append(names, name)
		}
		made, err := client.APIKey.CreateBulk(bulk...).Save(ctx)
		if err != nil {
			return fmt.Errorf("create keys: %w", err)
		}
		for _, k := range made {
			out.KeyIDs = append(out.KeyIDs, k.ID)
		}
		out.KeyNames = append(out.KeyNames, names...)
	}
	return nil
}

// spendKey is one budget subject.
type spendKey struct {
	scope spendwindow.Scope
	id    int
}

// spendSums is a subject's spend in each of budget.Windows at the
// loader's now.
type spendSums map[spendKey]*[4]money.Micros

func (s spendSums) add(k spendKey, now, at time.Time, cost money.Micros) {
	w := s[k]
	if w == nil {
		w = new([4]money.Micros)
		s[k] = w
	}
	for i, win := range budget.Windows {
		if !at.Before(win.Start(now)) {
			w[i] += cost
		}
	}
}

// records writes the usage records through usagelog's writer, with the
// roll-ups in each batch's transaction (rollup.Add, as the gateway's
// usage feed does), and returns the spend they add up to.
func (l *adminLoader) records(ctx context.Context, db *database.DB, out *adminLoaded) (spendSums, error) {
	w := usagelog.New(db, usagelog.Options{
		QueueSize: 20_000,
		Interval:  20 * time.Millisecond,
		InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
			return rollup.Add(ctx, tx, db.Dialect, batch)
		},
	})
	spend := spendSums{}
	n, days := l.size.Records, max(l.size.Days, 1)
	span := time.Duration(days) * 24 * time.Hour
	out.To = l.now
	out.From = l.now.Add(-span)
	var cum []float64
	total := 0.0
	for _, m := range loadModels {
		total += m.weight
		cum = append(cum, total)
	}
	modelUse := make([]int, len(loadModels))
	keyUse := make([]int, len(out.KeyIDs))
	serviceUse := map[int]int{}
	step := float64(span) / float64(max(n, 1))
	lastLog := time.Now()
	for i := range n {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				_ = w.Close(context.Background())
				return nil, err
			}
			for w.Pending() > 8_000 { // the writer copies what waits on every batch
				time.Sleep(2 * time.Millisecond)
			}
			if time.Since(lastLog) > 10*time.Second {
				slog.Info("loading usage records", "written", w.Written(), "of", n)
				lastLog = time.Now()
			}
		}
		r := l.record(i, out, step)
		k := l.keyIndex(len(out.KeyIDs))
		svc := k % len(out.ServiceIDs)
		r.APIKeyID, r.ServiceID = out.KeyIDs[k], out.ServiceIDs[svc]
		mi := l.modelFor(svc%4 == 3, cum, total)
		l.fill(&r, &loadModels[mi])
		keyUse[k]++
		serviceUse[r.ServiceID]++
		modelUse[mi]++
		addTotals(&out.Totals, &r)
		if r.Cost > 0 {
			spend.add(spendKey{spendwindow.ScopeKey, r.APIKeyID}, l.now, r.CreatedAt, r.Cost)
			spend.add(spendKey{spendwindow.ScopeService, r.ServiceID}, l.now, r.CreatedAt, r.Cost)
			spend.add(spendKey{spendwindow.ScopeOrg, r.OrganizationID}, l.now, r.CreatedAt, r.Cost)
		}
		if !w.Add(r) {
			_ = w.Close(context.Background())
			return nil, fmt.Errorf("usage writer dropped record %d", i)
		}
	}
	if err := w.Close(ctx); err != nil {
		return nil, fmt.Errorf("write usage records: %w", err)
	}
	if w.Dropped() > 0 || int(w.Written()) != n {
		return nil, fmt.Errorf("usage writer wrote %d of %d records (%d dropped)", w.Written(), n, w.Dropped())
	}
	out.Records = n
	out.BusiestKey = out.KeyIDs[argmax(keyUse)]
	best := 0
	for id, c := range serviceUse {
		if c > best || (c == best && id < out.BusiestService) {
			best, out.BusiestService = c, id
		}
	}
	order := make([]int, len(loadModels))
	for i := range order {
		order[i] = i
	}
	for range order { // a few models: selection sort by use
		for i := 0; i+1 < len(order); i++ {
			if modelUse[order[i]] < modelUse[order[i+1]] {
				order[i], order[i+1] = order[i+1], order[i]
			}
		}
	}
	for _, i := range order {
		if modelUse[i] > 0 {
			out.Models = append(out.Models, loadModels[i].name)
		}
	}
	return spend, nil
}

// record is the i-th record's time and identity; the key and model are
// filled in by the caller.
func (l *adminLoader) record(i int, out *adminLoaded, step float64) usagelog.Record {
	at := out.From.Add(time.Duration((float64(i) + l.rng.Float64()) * step)).Truncate(time.Microsecond)
	return usagelog.Record{
		CreatedAt:      at,
		RequestID:      fmt.Sprintf("req_%016x%016x", l.rng.Uint64(), l.rng.Uint64()), // the gateway's own form
		OrganizationID: out.OrgID,
	}
}

// keyIndex picks a key, the first keys far busier than the last, as a few
// production keys carry most traffic and many are idle.
func (l *adminLoader) keyIndex(keys int) int {
	u := l.rng.Float64()
	return min(int(float64(keys)*u*u*u), keys-1)
}

// modelFor picks a model by weight among those the key's service enables
// (an Anthropic service's keys call Anthropic models), and the unpriced
// local model now and then.
func (l *adminLoader) modelFor(anthropic bool, cum []float64, total float64) int {
	for {
		x := l.rng.Float64() * total
		i := 0
		for i < len(cum)-1 && x >= cum[i] {
			i++
		}
		m := loadModels[i]
		if !m.priced || (m.protocol == "anthropic") == anthropic {
			return i
		}
	}
}

// fill gives r the shape of a request to m: tokens, cost, status,
// latency, streaming.
func (l *adminLoader) fill(r *usagelog.Record, m *loadModel) {
	rng := l.rng
	r.Protocol, r.ProviderProtocol, r.Endpoint, r.Model = m.protocol, m.protocol, m.endpoint, m.name
	if m.protocol == "anthropic" && rng.IntN(10) == 0 {
		// Called with OpenAI's API, translated to Anthropic's.
		r.Protocol, r.Endpoint = "openai", "/v1/chat/completions"
	}
	r.Status = 200
	if rng.IntN(1000) < 30 {
		e := loadErrors[rng.IntN(len(loadErrors))]
		r.Status, r.Error = e.status, e.msg
	}
	r.LatencyUs = int64(150_000 + rng.ExpFloat64()*900_000)
	if r.Status >= 400 {
		r.LatencyUs /= 10
		if r.Status == 401 || r.Error == "budget exceeded: day block" {
			r.ProviderProtocol = "" // refused before any upstream was called
		}
		r.Priced = m.priced
		return
	}
	r.InputTokens = int64(20 + rng.ExpFloat64()*800)
	if !m.embedding {
		r.OutputTokens = int64(5 + rng.ExpFloat64()*250)
		r.Streamed = rng.IntN(10) < 4
		if rng.IntN(10) == 0 {
			r.CachedInputTokens = r.InputTokens / 2
		}
		if m.protocol == "anthropic" && rng.IntN(50) == 0 {
			r.CacheWriteTokens = r.InputTokens / 4
		}
	}
	if r.Streamed {
		ttfb := min(int64(80_000+rng.ExpFloat64()*200_000), r.LatencyUs)
		r.TTFBUs = &ttfb
		r.Partial = rng.IntN(500) == 0
	}
	r.Priced = m.priced
	if m.priced {
		r.Cost = money.Micros((r.InputTokens*m.inPrice + r.OutputTokens*m.outPrice + 999) / 1000)
	}
}

// addTotals adds r to sums the way the roll-ups count it.
func addTotals(s *rollup.Sums, r *usagelog.Record) {
	s.Requests++
	if r.Status >= 400 {
		s.Errors++
	}
	if !r.Priced {
		s.UnpricedRequests++
	}
	s.Tokens.Add(tokens.Tokens{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CachedInputTokens: r.CachedInputTokens,
		CacheWriteTokens: r.CacheWriteTokens, CacheWrite1hTokens: r.CacheWrite1hTokens})
	s.Cost += r.Cost
	s.LatencyUSSum += r.LatencyUs
}

func argmax(v []int) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// spendWindows writes the budget windows the records' spend leaves at the
// loader's now, which the spend resolvers read.
func (l *adminLoader) spendWindows(ctx context.Context, client *ent.Client, spend spendSums) error {
	windows := []spendwindow.Window{spendwindow.WindowHour, spendwindow.WindowDay, spendwindow.WindowMonth, spendwindow.WindowTotal}
	var bulk []*ent.SpendWindowCreate
	flush := func() error {
		if len(bulk) == 0 {
			return nil
		}
		if err := client.SpendWindow.CreateBulk(bulk...).Exec(ctx); err != nil {
			return fmt.Errorf("write spend windows: %w", err)
		}
		bulk = bulk[:0]
		return nil
	}
	for k, sums := range spend {
		for i, win := range budget.Windows {
			if sums[i] == 0 {
				continue
			}
			bulk = append(bulk, client.SpendWindow.Create().SetScope(k.scope).SetScopeID(k.id).
				SetWindow(windows[i]).SetWindowStart(win.Start(l.now)).SetSpent(int64(sums[i])).SetUpdatedAt(l.now))
			if len(bulk) == 2000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// audit writes the audit events creating the services and keys left,
// spread over the data set's days.
func (l *adminLoader) audit(ctx context.Context, client *ent.Client, out *adminLoaded) error {
	admin, err := client.User.Query().First(ctx)
	if err != nil {
		return fmt.Errorf("find the admin: %w", err)
	}
	n := len(out.ServiceIDs) + len(out.KeyIDs)
	span := out.To.Sub(out.From)
	var bulk []*ent.AuditEventCreate
	for i := range n {
		action, typ, id, name := "createService", "Service", 0, ""
		if i < len(out.ServiceIDs) {
			id, name = out.ServiceIDs[i], fmt.Sprintf("service-%05d", i)
		} else {
			j := i - len(out.ServiceIDs)
			action, typ, id, name = "createAPIKey", "APIKey", out.KeyIDs[j], out.KeyNames[j]
		}
		at := out.From.Add(time.Duration(math.Floor(float64(span) * float64(i) / float64(n))))
		bulk = append(bulk, client.AuditEvent.Create().SetCreatedAt(at).SetOrganizationID(out.OrgID).
			SetActorType(auditevent.ActorTypeUser).SetActorID(admin.ID).SetActorName(admin.Username).
			SetAction(action).SetTargetType(typ).SetTargetID(fmt.Sprint(id)).SetTargetName(name).
			SetOutcome(auditevent.OutcomeSuccess).SetClientIP("127.0.0.1"))
		if len(bulk) == 2000 || i == n-1 {
			if err := client.AuditEvent.CreateBulk(bulk...).Exec(ctx); err != nil {
				return fmt.Errorf("write audit events: %w", err)
			}
			bulk = bulk[:0]
		}
	}
	return nil
}
