package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// adminQuery is one dashboard query the admin step times.
type adminQuery struct {
	name  string
	query string
	vars  map[string]any
	// mutation queries change data; they are timed without warm-ups, as
	// each run is a new key.
	mutation bool
	// varsFor, when set, gives each run's variables (run counts from 0).
	varsFor func(run int) map[string]any
	// err is why the query could not be built (the dashboard no longer
	// sends it); it is reported instead of timed.
	err error
}

// adminTiming is one query's measured latencies, or why it failed.
type adminTiming struct {
	Name     string
	P50, P99 time.Duration
	Runs     int
	Err      string
}

// adminPaging is the walk through every key, a page of 200 at a time.
type adminPaging struct {
	Pages int
	Keys  []string // IDs in the order visited
	Took  time.Duration
	Err   string
}

// adminClient is a logged-in admin session on one Sluice.
type adminClient struct {
	base, token string
	http        *http.Client
}

// gqlError is a GraphQL error as the API answers it.
type gqlError struct {
	Message    string
	Path       []any
	Extensions map[string]any
}

func (e gqlError) String() string {
	s := e.Message
	if len(e.Path) > 0 {
		parts := make([]string, len(e.Path))
		for i, p := range e.Path {
			parts[i] = fmt.Sprint(p)
		}
		s += " (at " + strings.Join(parts, ".") + ")"
	}
	if code, ok := e.Extensions["code"]; ok {
		s += fmt.Sprintf(" [%v]", code)
	}
	if field, ok := e.Extensions["field"]; ok {
		s += fmt.Sprintf(" field %v", field)
	}
	return s
}

// do posts one operation and decodes its data into out (when not nil).
// Any GraphQL error fails it, with every error's message, path and code.
func (c *adminClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("encode GraphQL request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build GraphQL request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST /graphql: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read GraphQL answer: %w", err)
	}
	var env struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("GraphQL answer (HTTP %d) is not JSON: %.300s", resp.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		msgs := make([]string, len(env.Errors))
		for i, e := range env.Errors {
			msgs[i] = e.String()
		}
		return fmt.Errorf("GraphQL errors (HTTP %d): %s", resp.StatusCode, strings.Join(msgs, "; "))
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GraphQL answer HTTP %d: %.300s", resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("decode GraphQL data: %w", err)
		}
	}
	return nil
}

// loginAdmin logs in as the bootstrap admin.
func loginAdmin(ctx context.Context, base string) (*adminClient, error) {
	c := &adminClient{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
	var login struct {
		Login struct{ Token string }
	}
	if err := c.do(ctx, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": "admin", "p": benchPassword}, &login); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	c.token = login.Login.Token
	return c, nil
}

// Queries of the admin step's own, where the dashboard sends none of the
// shape measured; field lists come from the dashboard's fragments.
const (
	keysPageQuery = `query { apiKeys(first: 50, where: {isManagementKey: false}, orderBy: {field: NAME}) { totalCount edges { node { id name keyPrefix } } } }`
	keysSpendPage = `query { apiKeys(first: 50, where: {isManagementKey: false}, orderBy: {field: NAME}) { totalCount edges { node { ...APIKeyFields } } } }`
	servicesPage  = `query { services(first: 50, orderBy: {field: SERVICE_NAME}) { totalCount edges { node { ...ServiceFields } } } }`
	keySearch     = `query($where: APIKeyWhereInput) { apiKeys(first: 50, where: $where, orderBy: {field: NAME}) { totalCount edges { node { id name keyPrefix } } } }`
	usageReport   = `query($from: Time!, $bucket: UsageBucket!) { usage(filter: {from: $from}, bucket: $bucket) { totals { requests errors unpricedRequests inputTokens outputTokens cost } series { start sums { requests cost } } byModel { model sums { requests cost } } } }`
	keysWalk      = `query($after: Cursor) { apiKeys(first: 200, after: $after, where: {isManagementKey: false}, orderBy: {field: NAME}) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`
)

// usageFilter is one filter of the usage log, as the dashboard's filter
// form sends it (UsageLog.tsx, usageWhere).
type usageFilter struct {
	name  string
	where map[string]any
}

// usageFilters are the usage log's filters the step times; a filter the
// schema gains is one more line.
func usageFilters(l *adminLoaded) []usageFilter {
	week := l.To.Add(-7 * 24 * time.Hour)
	return []usageFilter{
		{"", map[string]any{}},
		{"by key", map[string]any{"apiKeyID": l.BusiestKey}},
		{"by service", map[string]any{"serviceID": l.BusiestService}},
		{"by model picked from the list", map[string]any{"model": l.Models[len(l.Models)/2]}},
		{"by model typed, one model matches (\"EMBEDDING\")", map[string]any{"modelContainsFold": "EMBEDDING"}},
		{"by model typed, several match (\"gpt\")", map[string]any{"modelContainsFold": "gpt"}},
		{"errors", map[string]any{"statusGTE": 400}},
		{"one day, a week ago", map[string]any{"createdAtGTE": week, "createdAtLT": week.Add(24 * time.Hour)}},
		{"by key, errors", map[string]any{"apiKeyID": l.BusiestKey, "statusGTE": 400}},
		{"by service, errors", map[string]any{"serviceID": l.BusiestService, "statusGTE": 400}},
	}
}

// adminQueries is the set of dashboard queries timed, in order; the
// create-key mutation comes last, so that the other queries see the
// loaded data only.
func adminQueries(ctx context.Context, c *adminClient, docs *dashboardDocs, l *adminLoaded) ([]adminQuery, error) {
	var qs []adminQuery
	// A query built from a document the dashboard no longer has carries
	// the error instead of a query.
	var buildErr error
	add := func(name, query string, vars map[string]any) {
		qs = append(qs, adminQuery{name: name, query: query, vars: vars, err: buildErr})
		buildErr = nil
	}
	op := func(name string) string {
		q, err := docs.operation(name)
		buildErr = cmp.Or(buildErr, err)
		return q
	}
	withFragments := func(q string, spreads ...string) string {
		out, err := docs.withFragments(q, spreads...)
		buildErr = cmp.Or(buildErr, err)
		return out
	}
	add("apiKeys(first: 50) with totalCount, no spend", keysPageQuery, nil)
	add("apiKeys(first: 50) with the dashboard's key fields (spend, pace)", withFragments(keysSpendPage, "APIKeyFields"), nil)
	add("keys screen: dashboard's APIKeys (a page of 50 keys with spend and pace, 200 services)", op("APIKeys"), nil)
	searched := l.KeyNames[len(l.KeyNames)/3]
	searched = searched[:len(searched)-1] // the start of a name: ten keys
	add("keys screen searching: dashboard's APIKeys with a name prefix", op("APIKeys"), map[string]any{"search": searched})
	add("services(first: 50) with the dashboard's service fields (spend, pace)", withFragments(servicesPage, "ServiceFields"), nil)
	add("services screen: dashboard's Services (200 with spend)", op("Services"), nil)

	usageLog, usageLogErr := docs.operation("UsageLog")
	for _, f := range usageFilters(l) {
		name := "usage log: usageRecords(first: 50, CREATED_AT DESC) with totalCount"
		if f.name != "" {
			name += ", " + f.name
		}
		buildErr = usageLogErr
		add(name, usageLog, map[string]any{"where": f.where})
	}
	var first struct {
		UsageRecords struct {
			PageInfo struct{ EndCursor *string }
		}
	}
	if err := c.do(ctx, usageLog, map[string]any{"where": map[string]any{}}, &first); err == nil && first.UsageRecords.PageInfo.EndCursor != nil {
		add("usage log: second page (after the first's cursor)", usageLog,
			map[string]any{"where": map[string]any{}, "after": *first.UsageRecords.PageInfo.EndCursor})
	}

	now := l.To
	add("usage report: 90 days by DAY", usageReport, map[string]any{"from": now.Add(-90 * 24 * time.Hour), "bucket": "DAY"})
	add("usage report: 24 hours by HOUR", usageReport, map[string]any{"from": now.Add(-24 * time.Hour), "bucket": "HOUR"})
	add("overview screen: dashboard's Overview, 90 days by DAY", op("Overview"), map[string]any{"from": now.Add(-90 * 24 * time.Hour), "bucket": "DAY"})
	add("overview screen: dashboard's Overview, 24 hours by HOUR", op("Overview"), map[string]any{"from": now.Add(-24 * time.Hour), "bucket": "HOUR"})
	add("audit log: dashboard's AuditLog", op("AuditLog"), map[string]any{"where": map[string]any{}})

	name := l.KeyNames[len(l.KeyNames)*2/3]
	add("key search by name (contains, any case)", keySearch, map[string]any{"where": map[string]any{"nameContainsFold": strings.ToUpper(name[len(name)-5:])}})
	var sample struct {
		APIKeys struct {
			Edges []struct{ Node struct{ KeyPrefix string } }
		} `json:"apiKeys"`
	}
	if err := c.do(ctx, keySearch, map[string]any{"where": map[string]any{"name": name}}, &sample); err == nil && len(sample.APIKeys.Edges) > 0 {
		add("key search by prefix", keySearch, map[string]any{"where": map[string]any{"keyPrefix": sample.APIKeys.Edges[0].Node.KeyPrefix}})
		add("key search by the start of a key (where.search)", keySearch, map[string]any{"where": map[string]any{"search": sample.APIKeys.Edges[0].Node.KeyPrefix}})
	}

	svc := l.ServiceIDs[0]
	create := op("CreateAPIKey")
	qs = append(qs, adminQuery{name: "createAPIKey (dashboard's CreateAPIKey)", query: create, mutation: true, err: buildErr,
		varsFor: func(run int) map[string]any {
			return map[string]any{"input": map[string]any{"name": fmt.Sprintf("bench-created-%04d", run), "serviceId": svc}}
		}})
	return qs, nil
}

// minRuns is the fewest measured runs of a query, however long it takes.
const minRuns = 3

// timeQuery runs q warmups times unmeasured, then runs times, and
// returns the percentiles; the first error ends it. A query that takes
// long stops early: warm-ups once a quarter of budget has passed, runs
// once budget has and minRuns are measured.
func timeQuery(ctx context.Context, c *adminClient, q adminQuery, warmups, runs int, budget time.Duration) adminTiming {
	t := adminTiming{Name: q.name}
	if q.err != nil {
		t.Err = q.err.Error()
		return t
	}
	if q.mutation {
		warmups = 0
	}
	var lat []time.Duration
	began := time.Now()
	for i := 0; len(lat) < runs; i++ {
		vars := q.vars
		if q.varsFor != nil {
			vars = q.varsFor(i)
		}
		warm := i < warmups && time.Since(began) < budget/4
		start := time.Now()
		if err := c.do(ctx, q.query, vars, nil); err != nil {
			t.Err = err.Error()
			return t
		}
		if !warm {
			lat = append(lat, time.Since(start))
			if len(lat) >= minRuns && time.Since(began) > budget {
				break
			}
		}
	}
	slices.Sort(lat)
	t.Runs, t.P50, t.P99 = len(lat), percentile(lat, 50), percentile(lat, 99)
	return t
}

// walkKeys pages through every key once, 200 a page, following the
// cursors, and times the whole walk.
func walkKeys(ctx context.Context, c *adminClient) adminPaging {
	var p adminPaging
	var after any
	start := time.Now()
	for {
		var page struct {
			APIKeys struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct{ Node struct{ ID any } }
			} `json:"apiKeys"`
		}
		if err := c.do(ctx, keysWalk, map[string]any{"after": after}, &page); err != nil {
			p.Err = fmt.Sprintf("page %d: %v", p.Pages+1, err)
			break
		}
		p.Pages++
		for _, e := range page.APIKeys.Edges {
			p.Keys = append(p.Keys, fmt.Sprint(e.Node.ID))
		}
		if !page.APIKeys.PageInfo.HasNextPage || page.APIKeys.PageInfo.EndCursor == nil {
			break
		}
		after = *page.APIKeys.PageInfo.EndCursor
	}
	p.Took = time.Since(start)
	return p
}
