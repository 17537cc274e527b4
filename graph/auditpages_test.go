package graph_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestInstanceAuditLogPages: an instance admin's audit log, the
// organization's events and the instance's own merged page by page, lists
// what one query over both lists, in the same order, forwards and back,
// with events sharing a time; another organization's never appear.
func TestInstanceAuditLogPages(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		for i := range 90 {
			ev := db.Client.AuditEvent.Create().SetCreatedAt(base.Add(time.Duration(i/3) * time.Second)).
				SetActorType(auditevent.ActorTypeSystem).SetAction(fmt.Sprintf("a%d", i)).SetOutcome(auditevent.OutcomeSuccess)
			switch i % 4 {
			case 0, 3:
				ev.SetOrganizationID(h.org.ID)
			case 1:
				ev.SetOrganizationID(h.other.ID)
			}
			ev.ExecX(ctx)
		}
		for _, dir := range []string{"DESC", "ASC"} {
			order := ent.Desc(auditevent.FieldCreatedAt, auditevent.FieldID)
			if dir == "ASC" {
				order = ent.Asc(auditevent.FieldCreatedAt, auditevent.FieldID)
			}
			want := db.Client.AuditEvent.Query().
				Where(auditevent.Or(auditevent.OrganizationID(h.org.ID), auditevent.OrganizationIDIsNil())).
				Order(order).IDsX(ctx)
			var got []int
			var after, start any
			for {
				res := h.as(admin, `query($a: Cursor, $d: OrderDirection!) { auditEvents(first: 7, after: $a, orderBy: {field: CREATED_AT, direction: $d}) {
					totalCount totalCountIsExact pageInfo { hasNextPage startCursor endCursor } edges { node { id } } } }`,
					map[string]any{"a": after, "d": dir}).ok(t)
				if n := int(res.num("auditEvents.totalCount")); n != len(want) || res.get("auditEvents.totalCountIsExact") != true {
					t.Fatalf("%s: totalCount %d, want %d exact", dir, n, len(want))
				}
				got = append(got, edgeIDs(res, "auditEvents")...)
				if start == nil {
					start = res.get("auditEvents.pageInfo.startCursor")
				}
				if res.get("auditEvents.pageInfo.hasNextPage") != true {
					// Back from the last page's end to the first page's start.
					var back []int
					before := res.get("auditEvents.pageInfo.endCursor")
					for {
						res := h.as(admin, `query($b: Cursor, $d: OrderDirection!) { auditEvents(last: 5, before: $b, orderBy: {field: CREATED_AT, direction: $d}) {
							pageInfo { hasPreviousPage startCursor } edges { node { id } } } }`, map[string]any{"b": before, "d": dir}).ok(t)
						back = append(edgeIDs(res, "auditEvents"), back...)
						if res.get("auditEvents.pageInfo.hasPreviousPage") != true {
							break
						}
						before = res.get("auditEvents.pageInfo.startCursor")
					}
					if !slices.Equal(back, want[:len(want)-1]) {
						t.Fatalf("%s backwards: %v, want %v", dir, back, want[:len(want)-1])
					}
					break
				}
				after = res.get("auditEvents.pageInfo.endCursor")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: paged %v, want %v", dir, got, want)
			}
		}
	})
}

// edgeIDs are the node ids of a connection's edges, in order.
func edgeIDs(res *gqlResponse, conn string) []int {
	var ids []int
	edges, _ := res.get(conn + ".edges").([]any)
	for _, e := range edges {
		var id int
		fmt.Sscan(fmt.Sprint(e.(map[string]any)["node"].(map[string]any)["id"]), &id)
		ids = append(ids, id)
	}
	return ids
}
