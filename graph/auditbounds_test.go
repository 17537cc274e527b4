package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
)

// rowBytes is what an audit row's caller-given text takes: its changes as
// JSON, its error and its actor name.
func rowBytes(ev *ent.AuditEvent) int {
	b, _ := json.Marshal(ev.Changes)
	return len(b) + len(ev.Error) + len(ev.ActorName) + len(ev.TargetID)
}

// auditRowMax bounds one row: 4 KiB of changes plus 1 KiB of error and
// short names.
const auditRowMax = 4<<10 + 1<<10 + 256

// TestAnonymousRefusalsAreSummarised: a request without a login carrying
// 1,000 aliased mutations, each with a long list, is answered in full but
// writes one bounded audit row that counts them; past the per-address
// rows a minute, further such requests write nothing and the log says
// rows were dropped.
func TestAnonymousRefusalsAreSummarised(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarnessWith(t, db, graph.Options{Introspection: true, MaxComplexity: 1 << 20, AuditAnonymousPerMinute: 3,
			// The front door would refuse this document before it is audited;
			// raised here so that the audit's own bound is what is tested.
			Limits: graph.QueryLimits{MaxTokens: 1 << 20, MaxFields: 1 << 20, MaxRepeats: 1 << 20}})
		ctx := context.Background()
		models := `["` + strings.Repeat(`m", "`, 100) + `m"]`
		var q strings.Builder
		q.WriteString("mutation {")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&q, ` a%d: createService(input: {serviceName: "s%d", provider: "openai", modelsEnabled: %s}) { id }`, i, i, models)
		}
		q.WriteString(" }")
		before := h.client.AuditEvent.Query().CountX(ctx)
		res := h.do("", q.String(), nil)
		// The answer lists 20 of the errors and one counting the rest.
		if len(res.Errors) != 21 || res.code() != "UNAUTHENTICATED" || res.Errors[20].Message != "980 more errors" {
			t.Fatalf("1,000 refused mutations: %d errors, first %q", len(res.Errors), res.code())
		}
		rows := h.client.AuditEvent.Query().Order(ent.Desc(auditevent.FieldID)).AllX(ctx)
		if len(rows)-before != 1 {
			t.Fatalf("1,000 refused anonymous mutations wrote %d audit rows, want 1", len(rows)-before)
		}
		row := rows[0]
		if row.ActorType != auditevent.ActorTypeAnonymous || row.Outcome != auditevent.OutcomeDenied || row.Changes["refusedMutations"] != "1000" ||
			!strings.Contains(row.Changes["actions"], "createService×1000") || row.Changes["first.input.modelsEnabled"] != "[101 items]" {
			t.Fatalf("summary row: %+v", row)
		}
		if n := rowBytes(row); n > auditRowMax {
			t.Fatalf("summary row holds %d bytes, over %d", n, auditRowMax)
		}

		for i := 0; i < 5; i++ {
			h.do("", `mutation { deleteService(id: 1) }`, nil).wantCode(t, "UNAUTHENTICATED")
		}
		if n := h.client.AuditEvent.Query().CountX(ctx) - before; n != 3 {
			t.Fatalf("6 refused anonymous requests from one address wrote %d rows, want the limit of 3", n)
		}
		if !strings.Contains(h.logs.String(), "dropped audit rows") {
			t.Fatal("dropped rows were not reported in the log")
		}
	})
}

// TestAuditRowsAreBounded: an admin's mutation with a 100,000-item list
// and a 100,000-character string is audited in a row under the bound, the
// list as its length.
func TestAuditRowsAreBounded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		models := make([]string, 100000)
		for i := range models {
			models[i] = "m"
		}
		h.as(admin, `mutation($m: [String!]!) { createService(input: {serviceName: "huge", provider: "openai", modelsEnabled: $m}) { id } }`,
			map[string]any{"m": models})
		h.as(admin, `mutation($d: String) { createService(input: {serviceName: "long", provider: "openai", modelsEnabled: [], description: $d}) { id } }`,
			map[string]any{"d": strings.Repeat("é", 50000)})
		rows := h.client.AuditEvent.Query().Where(auditevent.Action("createService")).Order(ent.Asc(auditevent.FieldID)).AllX(ctx)
		if len(rows) != 2 {
			t.Fatalf("%d createService rows, want 2", len(rows))
		}
		if rows[0].Changes["input.modelsEnabled"] != "[100000 items]" {
			t.Fatalf("the long list was recorded as %.100q", rows[0].Changes["input.modelsEnabled"])
		}
		for _, row := range rows {
			if n := rowBytes(row); n > auditRowMax {
				t.Fatalf("row %s holds %d bytes, over %d", row.Action, n, auditRowMax)
			}
		}
	})
}
