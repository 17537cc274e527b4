package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
)

// instanceAuditEvents is an instance admin's audit log: the events of
// their organization and the instance's own (no organization: failed
// logins), one page of both in order. Each part pages through its own
// range of the (organization_id, created_at) index and the two pages are
// merged, because one query for "organization_id = ? OR organization_id IS
// NULL" reads every event of both parts to sort them.
func (r *queryResolver) instanceAuditEvents(ctx context.Context, org int, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int, orderBy *ent.AuditEventOrder, where *ent.AuditEventWhereInput) (*ent.AuditEventConnection, error) {
	parts := []*ent.AuditEventQuery{
		r.Client.AuditEvent.Query().Where(auditevent.OrganizationID(org)),
		r.Client.AuditEvent.Query().Where(auditevent.OrganizationIDIsNil()),
	}
	pages := make([]*ent.AuditEventConnection, len(parts))
	for i, q := range parts {
		page, err := q.Clone().Paginate(withoutCount(ctx), after, first, before, last,
			ent.WithAuditEventOrder(orderBy), ent.WithAuditEventFilter(where.Filter))
		if err != nil {
			return nil, err
		}
		pages[i] = page
		if parts[i], err = where.Filter(q); err != nil {
			return nil, err
		}
	}
	conn := mergeAuditPages(pages[0], pages[1], orderBy, first, last)
	return conn, countParts(ctx, r.loader(ctx), conn, &conn.TotalCount, parts, logCountCap, auditevent.FieldCreatedAt)
}

// mergeAuditPages merges two pages of the same order and cursors into
// the page one query over both would answer.
func mergeAuditPages(a, b *ent.AuditEventConnection, order *ent.AuditEventOrder, first, last *int) *ent.AuditEventConnection {
	before := auditOrder(order)
	edges, more := mergeEdges([][]*ent.AuditEventEdge{a.Edges, b.Edges},
		func(x, y *ent.AuditEventEdge) bool { return before(x.Node, y.Node) }, first, last)
	conn := &ent.AuditEventConnection{Edges: edges, TotalCount: len(edges),
		PageInfo: mergedPageInfo([]ent.PageInfo{a.PageInfo, b.PageInfo}, more, first, last)}
	if n := len(edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &edges[0].Cursor, &edges[n-1].Cursor
	}
	return conn
}

// auditOrder reports whether event x comes before y in order, as the
// database orders them: by creation time, then by id, both in the order's
// direction; by id ascending without an order. It is for the orders
// mergedAuditOrder accepts.
func auditOrder(order *ent.AuditEventOrder) func(x, y *ent.AuditEvent) bool {
	byTime := order != nil && order.Field != nil && sameField(order.Field, ent.AuditEventOrderFieldCreatedAt)
	desc := order != nil && order.Direction == entgql.OrderDirectionDesc
	return func(x, y *ent.AuditEvent) bool {
		if byTime {
			return byThenID(x.CreatedAt.UnixNano(), y.CreatedAt.UnixNano(), x.ID, y.ID, desc)
		}
		return byThenID(0, 0, x.ID, y.ID, desc)
	}
}

// mergedAuditOrder reports whether two pages in order can be merged in Go
// as the database would order them: by time or by id, whose order is the
// same everywhere, unlike text's, which depends on the database's collation.
func mergedAuditOrder(order *ent.AuditEventOrder) bool {
	return order == nil || order.Field == nil || sameField(order.Field, ent.AuditEventOrderFieldCreatedAt)
}
