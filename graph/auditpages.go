package graph

import (
	"cmp"
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
	total, exact := 0, true
	for i, q := range parts {
		page, err := q.Clone().Paginate(withoutCount(ctx), after, first, before, last,
			ent.WithAuditEventOrder(orderBy), ent.WithAuditEventFilter(where.Filter))
		if err != nil {
			return nil, err
		}
		pages[i] = page
		if !countAsked(ctx) {
			continue
		}
		if q, err = where.Filter(q); err != nil {
			return nil, err
		}
		n, e, err := cappedCount(ctx, q, logCountCap)
		if err != nil {
			return nil, err
		}
		total, exact = total+n, exact && e
	}
	conn := mergeAuditPages(pages[0], pages[1], orderBy, first, last)
	if countAsked(ctx) {
		if total > logCountCap {
			total, exact = logCountCap, false
		}
		conn.TotalCount = total
		r.loader(ctx).setExact(conn, exact)
	}
	return conn, nil
}

// mergeAuditPages merges two pages of the same order and cursors into
// the page one query over both would answer: the first `first` edges of
// both in order (or the last `last`), with a next (previous) page when
// either has one or edges are left over.
func mergeAuditPages(a, b *ent.AuditEventConnection, order *ent.AuditEventOrder, first, last *int) *ent.AuditEventConnection {
	before := auditOrder(order)
	edges := make([]*ent.AuditEventEdge, 0, len(a.Edges)+len(b.Edges))
	i, j := 0, 0
	for i < len(a.Edges) || j < len(b.Edges) {
		if j == len(b.Edges) || (i < len(a.Edges) && before(a.Edges[i].Node, b.Edges[j].Node)) {
			edges = append(edges, a.Edges[i])
			i++
		} else {
			edges = append(edges, b.Edges[j])
			j++
		}
	}
	conn := &ent.AuditEventConnection{PageInfo: a.PageInfo}
	switch {
	case first != nil:
		conn.PageInfo.HasNextPage = a.PageInfo.HasNextPage || b.PageInfo.HasNextPage || len(edges) > *first
		edges = edges[:min(len(edges), *first)]
	case last != nil:
		conn.PageInfo.HasPreviousPage = a.PageInfo.HasPreviousPage || b.PageInfo.HasPreviousPage || len(edges) > *last
		edges = edges[max(0, len(edges)-*last):]
	}
	conn.Edges = edges
	conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = nil, nil
	if n := len(edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &edges[0].Cursor, &edges[n-1].Cursor
	}
	conn.TotalCount = len(edges)
	return conn
}

// auditOrder reports whether event x comes before y in order, as the
// database orders them: by creation time, then by id, both in the order's
// direction; by id ascending without an order. It is for the orders
// mergedAuditOrder accepts.
func auditOrder(order *ent.AuditEventOrder) func(x, y *ent.AuditEvent) bool {
	byTime := order != nil && order.Field == ent.AuditEventOrderFieldCreatedAt
	desc := order != nil && order.Direction == entgql.OrderDirectionDesc
	return func(x, y *ent.AuditEvent) bool {
		c := 0
		if byTime {
			c = x.CreatedAt.Compare(y.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(x.ID, y.ID)
		}
		if desc {
			return c > 0
		}
		return c < 0
	}
}

// mergedAuditOrder reports whether two pages in order can be merged in Go
// as the database would order them: by time or by id, whose order is the
// same everywhere, unlike text's, which depends on the database's collation.
func mergedAuditOrder(order *ent.AuditEventOrder) bool {
	return order == nil || order.Field == ent.AuditEventOrderFieldCreatedAt
}
