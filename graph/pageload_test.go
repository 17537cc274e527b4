package graph_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changehook"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/servicetarget"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/orgscope"
)

// countedDB is a migrated database of the dialect whose every statement
// (ent's and the hand-written ones) adds one to *n.
func countedDB(t *testing.T, dialectName string) (*database.DB, *atomic.Int64) {
	t.Helper()
	plain := testenv.New(t, dialectName)
	n := &atomic.Int64{}
	sqlDB := sql.OpenDB(countingConnector{drv: plain.SQL.Driver(), dsn: plain.DSN, n: n})
	sqlDB.SetMaxOpenConns(8)
	t.Cleanup(func() { sqlDB.Close() })
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialectName, sqlDB)))
	client.Intercept(orgscope.Interceptor())
	client.Use(changehook.Hook())
	return &database.DB{Client: client, SQL: sqlDB, Dialect: dialectName, DSN: plain.DSN}, n
}

type countingConnector struct {
	drv driver.Driver
	dsn string
	n   *atomic.Int64
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, n: c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.drv }

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := qc.QueryContext(ctx, q, args)
	if err != driver.ErrSkip {
		c.n.Add(1)
	}
	return rows, err
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := ec.ExecContext(ctx, q, args)
	if err != driver.ErrSkip {
		c.n.Add(1)
	}
	return res, err
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{Stmt: s, n: c.n}, nil
}

func (c countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// pageQuery asks for a page of keys with everything the keys screen
// shows: spend, pace and the service (an edge ent's field collection
// loads with the keys) with its own spend.
const pageQuery = `query($n: Int!, $after: Cursor) { apiKeys(first: $n, after: $after, orderBy: {field: NAME}) {
	edges { node { id name
		spend { window windowStart spent reserved warn block resetsAt }
		pace { kind limit remaining }
		service { id serviceName spend { window spent block } } } }
	pageInfo { hasNextPage endCursor } } }`

// TestKeyPageSpendIsBatched: a page of keys with their spend, pace and
// service costs the same number of statements at 5, 50 and 120 keys, and
// every key's spend equals what the per-key path (the ledger's Current
// for the key against its effective limits) answers, on each dialect; a
// page of services likewise.
func TestKeyPageSpendIsBatched(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, dialectName string) {
		db, count := countedDB(t, dialectName)
		h := newHarnessWith(t, db, graph.Options{Introspection: true})
		ctx := context.Background()
		var services []*ent.Service
		for i := range 6 {
			c := db.Client.Service.Create().SetOrganizationID(h.org.ID).SetServiceName(fmt.Sprintf("svc-%d", i)).
				SetProvider("openai").SetModelsEnabled([]string{})
			if i%2 == 0 {
				c.SetLimitCostDayBlock(money.FromUSD(float64(10 + i))).SetLimitCostHourWarn(money.FromUSD(1))
			}
			if i%3 == 0 {
				c.SetLimitRpm(int64(60 * (i + 1)))
			}
			svc := c.SaveX(ctx)
			services = append(services, svc)
			for j := range i % 3 { // 0, 1 or 2 targets, each on its own credential
				cred := db.Client.ProviderCredential.Create().SetOrganizationID(h.org.ID).SetProvider("openai").
					SetAccountKey(fmt.Sprintf("acct-%d-%d", i, j)).SetDisplayName(fmt.Sprintf("cred-%d-%d", i, j)).SaveX(ctx)
				db.Client.ServiceTarget.Create().SetOrganizationID(h.org.ID).SetServiceID(svc.ID).SetCredentialID(cred.ID).
					SetPosition(2 - j).SaveX(ctx)
			}
		}
		const keys = 120
		for i := range keys {
			svc := services[i%len(services)]
			c := db.Client.APIKey.Create().SetOrganizationID(h.org.ID).SetServiceID(svc.ID).
				SetName(fmt.Sprintf("key-%03d", i)).SetKeyHash(fmt.Sprintf("hash-%d", i)).SetKeyPrefix("sk_x").SetKeyLastFour("abcd")
			if i%4 == 0 {
				c.SetLimitCostDayBlock(money.FromUSD(float64(i + 1)))
			}
			if i%5 == 0 {
				c.SetLimitCostHourBlock(money.FromUSD(2)).SetLimitCostTotalBlock(money.FromUSD(100))
			}
			if i%7 == 0 {
				c.SetLimitTpm(int64(1000 + i))
			}
			k := c.SaveX(ctx)
			if i%3 != 0 {
				subjects := []budget.Subject{budget.KeySubject(k, svc), budget.ServiceSubject(svc)}
				r, err := h.budgets.Reserve(ctx, budget.Request{OrgID: h.org.ID, Amount: money.Micros(5000 + i), Subjects: subjects})
				if err != nil {
					t.Fatal(err)
				}
				if i%6 != 1 { // the others stay in flight
					if err := r.Settle(ctx, money.Micros(1000+7*i)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		// Leases handed back and statements prepared, so that what is
		// counted is the page's reading alone.
		if err := h.budgets.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		h.as(member, pageQuery, map[string]any{"n": 1}).ok(t)

		// The fewest of three runs: the leased ledger's flush writes
		// leases back now and then, whatever the page.
		statements := map[int]int64{}
		for _, n := range []int{5, 50, keys} {
			var res *gqlResponse
			for range 3 {
				before := count.Load()
				res = h.as(member, pageQuery, map[string]any{"n": n}).ok(t)
				if c := count.Load() - before; statements[n] == 0 || c < statements[n] {
					statements[n] = c
				}
			}
			if got := len(res.get("apiKeys.edges").([]any)); got != n {
				t.Fatalf("first %d: %d edges", n, got)
			}
			if n == keys {
				checkSpendPerKey(t, h, res, keys)
			}
		}
		t.Logf("statements per request by page size: %v", statements)
		if statements[5] != statements[50] || statements[50] != statements[keys] {
			t.Fatalf("statements grow with the page: %v", statements)
		}

		svcStatements := map[int]int64{}
		for _, n := range []int{2, len(services)} { // both pages hold a service with targets
			var res *gqlResponse
			for range 3 {
				before := count.Load()
				res = h.as(member, `query($n: Int!) { services(first: $n) { edges { node { id spend { window spent reserved block } pace { kind limit }
					targets { position credential { displayName } } } } } }`,
					map[string]any{"n": n}).ok(t)
				if c := count.Load() - before; svcStatements[n] == 0 || c < svcStatements[n] {
					svcStatements[n] = c
				}
			}
			for i := range n {
				node := fmt.Sprintf("services.edges.%d.node.", i)
				svc := h.client.Service.GetX(ctx, res.id(node+"id"))
				var targets []string
				for _, t := range svc.QueryTargets().Order(ent.Asc(servicetarget.FieldPosition)).WithCredential().AllX(ctx) {
					targets = append(targets, fmt.Sprintf("%d %s", t.Position, t.Edges.Credential.DisplayName))
				}
				var got []string
				for _, t := range res.get(node + "targets").([]any) {
					t := t.(map[string]any)
					got = append(got, fmt.Sprintf("%v %v", t["position"], t["credential"].(map[string]any)["displayName"]))
				}
				if strings.Join(got, ", ") != strings.Join(targets, ", ") {
					t.Fatalf("service %s: targets %q, want %q", svc.ServiceName, got, targets)
				}
				want, err := h.budgets.Current(ctx, budget.ServiceSubject(svc))
				if err != nil {
					t.Fatal(err)
				}
				for w, sp := range want {
					p := fmt.Sprintf("%sspend.%d.", node, w)
					if micros(res.num(p+"spent")) != sp.Spent || micros(res.num(p+"reserved")) != sp.Reserved || !sameLimit(res.get(p+"block"), sp.Block) {
						t.Fatalf("service %s %s: page says %v, the service alone %+v", svc.ServiceName, sp.Window, res.get(node+"spend"), *sp)
					}
				}
			}
		}
		if svcStatements[2] != svcStatements[len(services)] {
			t.Fatalf("statements grow with the page of services: %v", svcStatements)
		}
	})
}

// checkSpendPerKey compares each key's spend in res with the ledger's
// Current for the key under its effective limits.
func checkSpendPerKey(t *testing.T, h *harness, res *gqlResponse, n int) {
	t.Helper()
	ctx := context.Background()
	withSpend := 0
	for i := range n {
		node := fmt.Sprintf("apiKeys.edges.%d.node.", i)
		k := h.client.APIKey.Query().Where(apikey.ID(res.id(node + "id"))).WithService().OnlyX(ctx)
		want, err := h.budgets.Current(ctx, budget.KeySubject(k, k.Edges.Service))
		if err != nil {
			t.Fatal(err)
		}
		for w, sp := range want {
			p := fmt.Sprintf("%sspend.%d.", node, w)
			if res.str(p+"window") != string(sp.Window) || micros(res.num(p+"spent")) != sp.Spent ||
				micros(res.num(p+"reserved")) != sp.Reserved || !sameLimit(res.get(p+"warn"), sp.Warn) || !sameLimit(res.get(p+"block"), sp.Block) {
				t.Fatalf("key %s %s: page says %v, the key alone %+v", k.Name, sp.Window, res.get(node+"spend"), *sp)
			}
			if sp.Spent != 0 || sp.Reserved != 0 {
				withSpend++
			}
		}
		if res.str(node+"service.serviceName") != k.Edges.Service.ServiceName {
			t.Fatalf("key %s: service %v", k.Name, res.get(node+"service"))
		}
	}
	if withSpend == 0 {
		t.Fatal("no key had spend: the comparison proves nothing")
	}
}

func micros(usd float64) money.Micros { return money.Micros(math.Round(usd * 1e6)) }

func sameLimit(got any, want *money.Micros) bool {
	if want == nil {
		return got == nil
	}
	f, ok := got.(float64)
	return ok && micros(f) == *want
}

// TestKeyPagingUnderChurn: paging apiKeys 50 at a time, in the default
// order (by ID), by name and by creation, while other keys are created and deleted
// visits every key that exists throughout exactly once and no key twice,
// on each dialect.
func TestKeyPagingUnderChurn(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		svc := db.Client.Service.Create().SetOrganizationID(h.org.ID).SetServiceName("s").SetProvider("openai").SetModelsEnabled([]string{}).SaveX(ctx)
		mk := func(name string) *ent.APIKey {
			return db.Client.APIKey.Create().SetOrganizationID(h.org.ID).SetServiceID(svc.ID).SetName(name).
				SetKeyHash("h-" + name).SetKeyPrefix("sk_x").SetKeyLastFour("abcd").SaveX(ctx)
		}
		stable := map[int]bool{h.mgmtKey.ID: true}
		var churn []int
		for i := range 400 {
			k := mk(fmt.Sprintf("k-%d", i))
			if i%2 == 0 {
				stable[k.ID] = true
			} else {
				churn = append(churn, k.ID)
			}
		}
		stop := make(chan struct{})
		done := make(chan int)
		go func() {
			changes := 0
			for i := 0; ; i++ {
				select {
				case <-stop:
					done <- changes
					return
				default:
				}
				k := mk(fmt.Sprintf("new-%d", i))
				if len(churn) > 0 {
					db.Client.APIKey.DeleteOneID(churn[0]).ExecX(ctx)
					churn = churn[1:]
				}
				churn = append(churn, k.ID)
				changes++
				// Paced, so that paging (50 keys a page) outruns the keys
				// created after its place, whatever the machine's speed:
				// unpaced, a fast writer kept paging by creation going.
				time.Sleep(2 * time.Millisecond)
			}
		}()
		seen := map[string]map[int]int{}
		orders := map[string]string{"id": "null", "name": "{field: NAME}", "creation": "{field: CREATED_AT}"}
		for order, by := range orders {
			seen[order] = map[int]int{}
			var after any
			for {
				res := h.as(member, `query($after: Cursor) { apiKeys(first: 50, after: $after, orderBy: `+by+`) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
					map[string]any{"after": after}).ok(t)
				for _, e := range res.get("apiKeys.edges").([]any) {
					var n int
					fmt.Sscan(e.(map[string]any)["node"].(map[string]any)["id"].(string), &n)
					seen[order][n]++
				}
				if res.get("apiKeys.pageInfo.hasNextPage") != true {
					break
				}
				after = res.get("apiKeys.pageInfo.endCursor")
				time.Sleep(10 * time.Millisecond) // let keys come and go between pages
			}
		}
		close(stop)
		changes := <-done
		for order, visits := range seen {
			for id, n := range visits {
				if n > 1 {
					t.Errorf("by %s: key %d visited %d times", order, id, n)
				}
			}
			for id := range stable {
				if visits[id] != 1 {
					t.Errorf("by %s: key %d, there throughout, visited %d times", order, id, visits[id])
				}
			}
		}
		if changes == 0 {
			t.Fatal("no key was created or deleted while paging: the test proves nothing")
		}
		t.Logf("%d creations and deletions while paging", changes)
	})
}
