package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestQueryAttacksAreRefused: the documents that kept both cores busy or
// answered megabytes are refused, anonymously, with BAD_USER_INPUT naming
// the limit and a short answer; a normal query still runs after them.
func TestQueryAttacksAreRefused(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var fragments strings.Builder // 1.1 KB, 2²⁶ fields expanded
		fragments.WriteString("query { ...F0 }\n")
		for i := 0; i < 26; i++ {
			fmt.Fprintf(&fragments, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		fragments.WriteString("fragment F26 on Query { __typename }\n")
		attacks := []struct{ name, query, limit string }{
			{"26 levels of fragments spreading the next twice", fragments.String(), "fields with its fragments expanded"},
			{"one field 20,000 times (180 KB)", "{ " + strings.Repeat("__typename ", 20_000) + "}", "tokens"},
			{"50,000 directives (900 KB)", "{ __typename " + strings.Repeat("@skip(if: false) ", 50_000) + "}", "tokens"},
			{"one field 100 times", "{ " + strings.Repeat("apiStandards { description } ", 100) + "}", "appears 100 times"},
		}
		for _, a := range attacks {
			start := time.Now()
			res := h.do("", a.query, nil)
			t.Logf("%s: %d bytes refused in %v", a.name, len(a.query), time.Since(start))
			res.wantCode(t, "BAD_USER_INPUT")
			if !strings.Contains(res.Errors[0].Message, a.limit) || len(res.raw) > 1000 {
				t.Errorf("%s: %d-byte answer: %.300s", a.name, len(res.raw), res.raw)
			}
		}
		h.as(admin, `{ apiStandards { apiStandardHandle } }`, nil).ok(t)
	})
}

// TestErrorListsAreCapped: a document with 30 faults is answered with 20
// errors and one that counts the rest.
func TestErrorListsAreCapped(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var q strings.Builder
		q.WriteString("{")
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&q, " nosuch%d", i)
		}
		q.WriteString(" }")
		res := h.do("", q.String(), nil)
		if len(res.Errors) != 21 || res.Errors[20].Message != "10 more errors" || res.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("%d errors: %.500s", len(res.Errors), res.raw)
		}
	})
}

// TestRequestsAnswerTheirCode: each kind of bad request, and an outage,
// has its own code and a message without internals.
func TestRequestsAnswerTheirCode(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		closed := newIntrospectionOff(t, h)
		cases := []struct {
			name   string
			send   func() *gqlResponse
			status int
			code   string
			says   string
		}{
			{"malformed JSON", func() *gqlResponse { return h.post("", []byte(`{"query": `)) }, 400, "BAD_REQUEST", "not valid JSON"},
			{"a query that is not a string", func() *gqlResponse { return h.post("", []byte(`{"query": 5}`)) }, 400, "BAD_REQUEST", `"query" in the request body must be a string`},
			{"variables that are not an object", func() *gqlResponse {
				return h.post("", []byte(`{"query": "{ __typename }", "variables": "x"}`))
			}, 400, "BAD_REQUEST", `"variables" in the request body must be an object`},
			{"a body that is not an object", func() *gqlResponse { return h.post("", []byte(`"{ __typename }"`)) }, 400, "BAD_REQUEST", "must be a JSON object"},
			{"an empty body", func() *gqlResponse { return h.post("", nil) }, 400, "BAD_REQUEST", "empty"},
			{"two values", func() *gqlResponse {
				return h.post("", []byte(`{"query": "{ __typename }"} {"query": "{ viewer { username } }"}`))
			}, 400, "BAD_REQUEST", "more than one JSON value"},
			{"an object and garbage", func() *gqlResponse { return h.post("", []byte(`{"query": "(x"}}!x`)) }, 400, "BAD_REQUEST", "more than one JSON value"},
			{"a batch", func() *gqlResponse { return h.post("", []byte(`[{"query": "{ __typename }"}]`)) }, 400, "BAD_REQUEST", "batched operations are not supported"},
			{"a GraphQL syntax error", func() *gqlResponse { return h.do("", `{ viewer { `, nil) }, 422, "GRAPHQL_PARSE_FAILED", ""},
			{"an unknown field", func() *gqlResponse { return h.as(admin, `{ services { nosuchfield } }`, nil) }, 422, "GRAPHQL_VALIDATION_FAILED", ""},
			{"a wrong ID type in variables", func() *gqlResponse {
				return h.as(admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "not-a-number"})
			}, 200, "BAD_USER_INPUT", `an ID is a whole number such as "42"; got "not-a-number"`},
			{"a wrong ID type inline", func() *gqlResponse { return h.as(admin, `{ node(id: "1.5") { id } }`, nil) }, 200, "BAD_USER_INPUT", "an ID is a whole number"},
			{"a wrong ID in a list", func() *gqlResponse { return h.as(admin, `{ nodes(ids: ["1", "x"]) { id } }`, nil) }, 200, "BAD_USER_INPUT", "an ID is a whole number"},
			{"introspection turned off", func() *gqlResponse { return closed.do("", `{ __schema { queryType { name } } }`, nil) }, 200, "FORBIDDEN", "introspection is turned off"},
			{"introspection turned off, through a fragment", func() *gqlResponse {
				return closed.do("", `{ ...I } fragment I on Query { __type(name: "Query") { name } }`, nil)
			}, 200, "FORBIDDEN", "introspection is turned off"},
			{"a misspelt field without introspection", func() *gqlResponse { return closed.do("", `{ viewr { username } }`, nil) }, 422, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "viewr" on type "Query".`},
		}
		for _, c := range cases {
			res := c.send()
			if res.Status != c.status || res.code() != c.code || !strings.Contains(res.Errors[0].Message, c.says) {
				t.Errorf("%s: %d %s, want %d %s %q", c.name, res.Status, res.raw, c.status, c.code, c.says)
			}
		}
		if res := closed.do("", `{ viewr { username } }`, nil); strings.Contains(res.raw, "Did you mean") {
			t.Errorf("suggestions without introspection: %s", res.raw)
		}
		if res := h.do("", `{ viewr { username } }`, nil); !strings.Contains(res.Errors[0].Message, `Did you mean "viewer"?`) {
			t.Errorf("no suggestion with introspection: %s", res.raw)
		}
		closed.do("", `{ __typename }`, nil).ok(t)
	})
}

// newIntrospectionOff serves the harness's database with introspection
// off, as --playground=false does.
func newIntrospectionOff(t *testing.T, h *harness) *harness {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &graph.Resolver{Client: h.client, DB: h.db, Log: log, Auth: h.auth, Keyring: h.keyring, Budgets: h.budgets}
	srv := httptest.NewServer(h.auth.Middleware(graph.NewHandler(r, graph.Options{})))
	t.Cleanup(srv.Close)
	off := *h
	off.srv = srv
	return &off
}

// TestDatabaseOutageAnswersUnavailable: with the database gone, callers
// with a token, a management key or a password are told the database is
// unavailable, not that their credentials are wrong, and no driver
// message reaches them.
func TestDatabaseOutageAnswersUnavailable(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		sends := map[string]func() *gqlResponse{
			"login token":    func() *gqlResponse { return h.as(admin, `{ services { totalCount } }`, nil) },
			"management key": func() *gqlResponse { return h.as(mgmtKey, `{ services { totalCount } }`, nil) },
			"login": func() *gqlResponse {
				return h.do("", `mutation { login(username: "admin", password: "x") { token } }`, nil)
			},
		}
		for name, send := range sends {
			res := send()
			if res.code() != "UNAVAILABLE" || res.Errors[0].Message != "the database is unavailable; try again" {
				t.Errorf("%s: %s", name, res.raw)
			}
			for _, internal := range []string{"sql:", "dial", "closed", "look up"} {
				if strings.Contains(res.raw, internal) {
					t.Errorf("%s: the answer says %q: %s", name, internal, res.raw)
				}
			}
		}
	})
}

// TestMalformedBodiesNeverReachTheLog: every operation that carries a
// secret, sent malformed in every way, leaves the secret out of the whole
// log; a megabyte of garbage makes no long log line.
func TestMalformedBodiesNeverReachTheLog(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		const secret = "sk-SECRET-0123456789abcdef"
		ops := map[string]struct {
			query string
			vars  map[string]any
		}{
			"login":                    {`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`, map[string]any{"u": "admin", "p": secret}},
			"createService":            {`mutation($k: String) { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: [], providerApiKey: $k}) { id } }`, map[string]any{"k": secret}},
			"updateService":            {`mutation($k: String) { updateService(id: "1", input: {providerApiKey: $k}) { id } }`, map[string]any{"k": secret}},
			"createProviderCredential": {`mutation($k: String) { createProviderCredential(input: {provider: "openai", accountKey: "a", providerApiKey: $k}) { id } }`, map[string]any{"k": secret}},
			"updateProviderCredential": {`mutation($k: String) { updateProviderCredential(id: "1", input: {providerApiKey: $k}) { id } }`, map[string]any{"k": secret}},
			"testProviderCredential":   {`mutation($k: String!) { testProviderCredential(input: {provider: "openai", providerApiKey: $k}) { reachable } }`, map[string]any{"k": secret}},
			"updateProjectSettings":    {`mutation($u: String) { updateProjectSettings(input: {alertWebhookUrl: $u}) { alertWebhookUrl } }`, map[string]any{"u": "https://hooks.example/" + secret}},
		}
		malform := map[string]func(body []byte, query string, vars map[string]any) []byte{
			"truncated": func(b []byte, _ string, _ map[string]any) []byte { return b[:len(b)-3] },
			"a trailing comma": func(b []byte, _ string, _ map[string]any) []byte {
				return append(b[:len(b)-1], []byte(`,}`)...)
			},
			"single quotes": func(b []byte, _ string, _ map[string]any) []byte {
				return bytes.ReplaceAll(b, []byte(`"query"`), []byte(`'query'`))
			},
			"variables as a string": func(_ []byte, q string, v map[string]any) []byte {
				vs, _ := json.Marshal(v)
				return mustJSON(map[string]any{"query": q, "variables": string(vs)})
			},
			"query as a number": func(_ []byte, _ string, v map[string]any) []byte {
				return mustJSON(map[string]any{"query": 5, "variables": v})
			},
			"a batch": func(b []byte, _ string, _ map[string]any) []byte {
				return append(append([]byte("["), b...), ']')
			},
			"the secret inline, a syntax error": func(_ []byte, q string, v map[string]any) []byte {
				return mustJSON(map[string]any{"query": inline(q, v) + " }}"})
			},
			"variables of the wrong type": func(_ []byte, q string, v map[string]any) []byte {
				bad := map[string]any{}
				for k, x := range v {
					bad[k] = map[string]any{"x": x}
				}
				return mustJSON(map[string]any{"query": q, "variables": bad})
			},
		}
		for op, o := range ops {
			body := mustJSON(map[string]any{"query": o.query, "variables": o.vars})
			for how, m := range malform {
				for _, cred := range []string{"", h.creds[admin]} {
					res := h.post(cred, m(body, o.query, o.vars))
					if len(res.Errors) == 0 {
						t.Errorf("%s %s: answered without an error: %.300s", op, how, res.raw)
					}
				}
			}
		}
		garbage := make([]byte, 1_000_000)
		for i := range garbage {
			garbage[i] = byte(' ' + rand.IntN(95))
		}
		for _, body := range [][]byte{garbage, append([]byte(`{"query": "`), garbage...)} {
			if res := h.post("", body); res.code() != "BAD_REQUEST" {
				t.Errorf("a megabyte of garbage: %.300s", res.raw)
			}
		}
		log := h.logs.String()
		if strings.Contains(log, secret) {
			i := strings.Index(log, secret)
			t.Errorf("the secret is in the log: …%s…", log[max(0, i-300):i])
		}
		for _, line := range strings.Split(log, "\n") {
			if len(line) > 4<<10 {
				t.Errorf("a log line of %d bytes: %.300s", len(line), line)
			}
		}
	})
}

// inline writes variables into a query as literals.
func inline(q string, vars map[string]any) string {
	for k, v := range vars {
		lit, _ := json.Marshal(v)
		q = strings.ReplaceAll(q, "$"+k, string(lit))
	}
	if i := strings.Index(q, ")"); strings.HasPrefix(q, "mutation(") && i > 0 {
		q = "mutation" + q[i+1:]
	}
	return q
}
